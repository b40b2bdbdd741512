//! LIME on what the AMuSE model reads of the picture (Section IV-D, Fig. 2): the facial
//! regions of the speaker's face in every keyframe of the utterance, and the superpixels of
//! its back frame, explaining the fused prediction in its dialogue (or, on request, the
//! visual Central head) — not a side model.
//!
//! A LIME sample switches facial regions off (filled with their mean colour) in the face
//! crops of *all* the utterance's keyframes at once, since the model reads them as one
//! stream; each distinct pattern's crops go through the expression encoder into the face
//! rows the visual branch reads, and the utterance is re-classified in its dialogue
//! (`InContext`), everything else unchanged. Back frames are explained on the middle
//! keyframe's back frame (SLIC superpixels), whose row is replaced by the scene CNN's reading
//! of each perturbed picture. A checkpoint that does not read a stream is refused with a
//! message saying so (the viewer shows it instead of colouring).

use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::explain_face::{whole_face, FaceExplanation, RegionWeight, Target};
use super::in_context::InContext;
use super::Analyzer;
use crate::emotion::Emotion;
use crate::features::extract::UtteranceFeatures;
use crate::lime::engine::{Labels, LimeConfig, Neighbourhood};
use crate::lime::face_regions::{self, REGIONS};
use crate::lime::image::{render_overlay, slic, ImagePerturber, Segments, SlicParams};
use crate::lime::Explanation;
use crate::media::decode::{self, Frame};
use crate::media::faces::split;
use crate::media::transcript::Dialogue;
use crate::model::batch::UtteranceInput;
use crate::progress::CancelToken;

/// Samples of a back-frame explanation: each distinct pattern costs one scene-CNN pass
/// (tens of milliseconds), so fewer than the reference's 1000.
pub const BACK_SAMPLES: usize = 300;
/// Superpixels of a back frame.
const BACK_SEGMENTS: usize = 40;

/// A back-frame explanation: superpixel weights on one keyframe's back frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackExplanation {
    pub time: f64,
    pub explains: Target,
    pub label: Emotion,
    pub probability: f32,
    /// `(superpixel, weight)`, largest |weight| first.
    pub weights: Vec<(usize, f64)>,
    pub score: f64,
    pub samples: usize,
    pub evaluated: usize,
    pub seconds: f64,
    /// The superpixel of every pixel of the back frame (row-major, frame size).
    pub width: u32,
    pub height: u32,
    pub labels: Vec<u16>,
}

impl BackExplanation {
    /// The back frame tinted green/red by the superpixels' weights.
    pub fn overlay(&self, back: &RgbImage) -> Option<RgbImage> {
        let segments = Segments::from_labels(
            self.width,
            self.height,
            self.labels.iter().map(|&l| usize::from(l)).collect(),
        )
        .ok()?;
        Some(render_overlay(back, &segments, &self.weights, 0.6, true))
    }
}

/// One keyframe's speaker face, ready to perturb.
struct FaceCrop {
    crop: RgbImage,
    segments: Segments,
}

impl Analyzer {
    fn check_target(&self, target: Target, stream: &str) -> Result<()> {
        let info = &self.model.info;
        if target == Target::Expression {
            bail!("the expression encoder's own reading is explained by `explain_face`");
        }
        if !info.reads_stream(stream) {
            let what = if stream == "face" {
                "faces"
            } else {
                "back frames (the picture around the faces)"
            };
            bail!(
                "the checkpoint {} does not read {what} (modalities: {}; visual streams: {}), so its prediction \
                 cannot be explained by them",
                self.checkpoint_name,
                crate::model::amuse::join(&info.modalities, ", "),
                if info.reads(crate::model::amuse::Modality::Visual) {
                    info.visual_streams.join(", ")
                } else {
                    "none".into()
                }
            );
        }
        Ok(())
    }

    /// The keyframes of utterance `i` as extraction decoded them.
    fn keyframes_of(
        &self,
        video: &Path,
        dialogue: &Dialogue,
        features: &[UtteranceFeatures],
        i: usize,
    ) -> Result<(Vec<Frame>, Vec<crate::features::visual::KeyframeFaces>)> {
        let u = dialogue
            .utterances
            .get(i)
            .ok_or_else(|| anyhow!("no utterance {}", i + 1))?;
        let visual = features
            .get(i)
            .and_then(|f| f.visual.as_ref())
            .ok_or_else(|| anyhow!("utterance {} has no keyframes (no video stream?)", i + 1))?;
        let times: Vec<f64> = visual.keyframes.iter().map(|k| k.time).collect();
        let src = u.clip.as_deref().unwrap_or(video);
        let frames = decode::frames_at(src, &times, self.options.frame_side)?;
        if frames.len() != times.len() {
            bail!(
                "utterance {}: {} of {} keyframes could be decoded",
                i + 1,
                frames.len(),
                times.len()
            );
        }
        Ok((frames, visual.keyframes.clone()))
    }

    /// Explain utterance `i`'s prediction (the fused one, or the visual head's) by the facial
    /// regions of the speaker's face in its keyframes.
    #[allow(clippy::too_many_arguments)]
    pub fn explain_face_fused(
        &self,
        video: &Path,
        dialogue: &Dialogue,
        features: &[UtteranceFeatures],
        i: usize,
        target: Target,
        samples: usize,
        seed: u64,
        cancel: &CancelToken,
    ) -> Result<(RgbImage, FaceExplanation)> {
        let started = Instant::now();
        self.check_target(target, "face")?;
        let (frames, keyframes) = self.keyframes_of(video, dialogue, features, i)?;
        // The speaker's face of every keyframe that has one, in the order of the face rows.
        let mut faces = Vec::new();
        for (j, (frame, k)) in frames.iter().zip(&keyframes).enumerate() {
            let Some(face) = k.speaker.and_then(|s| k.faces.get(s)) else {
                continue;
            };
            let Some([x1, y1, x2, y2]) = split::expression_rect(face, frame.image.width(), frame.image.height()) else {
                continue;
            };
            let crop = image::imageops::crop_imm(&frame.image, x1, y1, x2 - x1, y2 - y1).to_image();
            let lm = face.landmarks.map(|p| [p[0] - x1 as f32, p[1] - y1 as f32]);
            let segments = face_regions::segments(crop.width(), crop.height(), &lm);
            faces.push((j, [x1, y1, x2, y2], FaceCrop { crop, segments }));
        }
        if faces.is_empty() {
            bail!("no face of the speaker was found in utterance {}'s keyframes", i + 1);
        }
        // The face shown with the explanation: the middle one.
        let (shown_frame, rect, _) = &faces[faces.len() / 2];
        let (frame, rect) = (frames[*shown_frame].clone(), *rect);
        let shown_labels: Vec<u8> = faces[faces.len() / 2]
            .2
            .segments
            .labels
            .iter()
            .map(|&l| l as u8)
            .collect();
        let inputs = self.inputs(dialogue, features);
        if inputs[i]
            .face
            .as_ref()
            .is_none_or(|f| f.size()[0] != faces.len() as i64)
        {
            bail!(
                "utterance {}: the face rows and the faces found differ (features from another run?)",
                i + 1
            );
        }
        let context = InContext::new(self, &inputs, i)?;
        let perturbers: Vec<ImagePerturber<'_>> = faces
            .iter()
            .map(|(_, _, f)| ImagePerturber::new(&f.crop, &f.segments))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow!("{e}"))?;
        let encoder = &self.encoders.visual;
        let classifier = |masks: &[Vec<bool>]| -> Result<Vec<Vec<f64>>> {
            cancel.check()?;
            let crops: Vec<GrayImage> = masks
                .iter()
                .flat_map(|mask| perturbers.iter().map(move |p| gray48(&p.perturb(mask))))
                .collect();
            let rows = encoder.face_rows(&crops)?;
            let k = perturbers.len() as i64;
            let variants: Vec<UtteranceInput> = (0..masks.len() as i64)
                .map(|v| UtteranceInput {
                    face: Some(rows.narrow(0, v * k, k)),
                    ..context.original()
                })
                .collect();
            match target {
                Target::Head => context.classify_head(variants, 2),
                _ => context.classify(variants),
            }
        };
        let cfg = LimeConfig {
            num_samples: samples,
            seed,
            ..LimeConfig::image()
        };
        let hood = Neighbourhood::of_segments(REGIONS.len(), &cfg, <[bool]>::to_vec, classifier)
            .map_err(|e| anyhow!("LIME: {e}"))?;
        let (label, exp) = explain_top(&hood, &cfg)?;
        let explanation = FaceExplanation {
            time: frame.time,
            explains: target,
            label: Emotion::from_index(label).unwrap_or(Emotion::Neutral),
            probability: hood.predict_proba()[label] as f32,
            regions: REGIONS
                .iter()
                .enumerate()
                .map(|(r, (name, aus))| RegionWeight {
                    name: (*name).to_owned(),
                    action_units: (*aus).to_owned(),
                    weight: exp.weight_of(r),
                })
                .collect(),
            score: exp.score,
            samples: cfg.num_samples,
            evaluated: hood.evaluated,
            seconds: started.elapsed().as_secs_f64(),
            crop: rect,
            labels: shown_labels,
        };
        Ok((frame.image, explanation))
    }

    /// Explain utterance `i`'s prediction by the superpixels of its middle keyframe's back
    /// frame (the picture with the faces removed).
    #[allow(clippy::too_many_arguments)]
    pub fn explain_back(
        &self,
        video: &Path,
        dialogue: &Dialogue,
        features: &[UtteranceFeatures],
        i: usize,
        target: Target,
        samples: usize,
        seed: u64,
        cancel: &CancelToken,
    ) -> Result<(RgbImage, BackExplanation)> {
        let started = Instant::now();
        self.check_target(target, "back")?;
        let (frames, keyframes) = self.keyframes_of(video, dialogue, features, i)?;
        let j = frames.len() / 2;
        let back = split::back_frame(&frames[j].image, &keyframes[j].faces);
        let segments = slic(
            &back,
            &SlicParams {
                n_segments: BACK_SEGMENTS,
                ..SlicParams::default()
            },
        );
        let inputs = self.inputs(dialogue, features);
        let original_back = inputs[i]
            .back
            .as_ref()
            .filter(|b| b.size()[0] == frames.len() as i64)
            .ok_or_else(|| anyhow!("utterance {}: no back-frame rows to explain", i + 1))?
            .shallow_clone();
        let context = InContext::new(self, &inputs, i)?;
        let perturber = ImagePerturber::new(&back, &segments).map_err(|e| anyhow!("{e}"))?;
        let encoder = &self.encoders.visual;
        let classifier = |pictures: &[RgbImage]| -> Result<Vec<Vec<f64>>> {
            cancel.check()?;
            let rows = encoder.back_rows(pictures)?;
            let variants: Vec<UtteranceInput> = (0..pictures.len() as i64)
                .map(|v| UtteranceInput {
                    back: Some(original_back.index_copy(0, &Tensor::from_slice(&[j as i64]), &rows.narrow(0, v, 1))),
                    ..context.original()
                })
                .collect();
            match target {
                Target::Head => context.classify_head(variants, 2),
                _ => context.classify(variants),
            }
        };
        let cfg = LimeConfig {
            num_samples: samples,
            seed,
            ..LimeConfig::image()
        };
        let hood = Neighbourhood::of_segments(segments.count, &cfg, |m| perturber.perturb(m), classifier)
            .map_err(|e| anyhow!("LIME: {e}"))?;
        let (label, exp) = explain_top(&hood, &cfg)?;
        let explanation = BackExplanation {
            time: frames[j].time,
            explains: target,
            label: Emotion::from_index(label).unwrap_or(Emotion::Neutral),
            probability: hood.predict_proba()[label] as f32,
            weights: exp.weights.clone(),
            score: exp.score,
            samples: cfg.num_samples,
            evaluated: hood.evaluated,
            seconds: started.elapsed().as_secs_f64(),
            width: back.width(),
            height: back.height(),
            labels: segments.labels.iter().map(|&l| l as u16).collect(),
        };
        Ok((back, explanation))
    }
}

/// The label the neighbourhood's instance is predicted as, and LIME's explanation of it.
fn explain_top(hood: &Neighbourhood, cfg: &LimeConfig) -> Result<(usize, Explanation)> {
    let label = crate::metrics::argmax(hood.predict_proba());
    let exp = hood
        .explain_labels(&Labels::Given(vec![label]), cfg)
        .map_err(|e| anyhow!("LIME: {e}"))?
        .pop()
        .ok_or_else(|| anyhow!("LIME returned no explanation"))?;
    Ok((label, exp))
}

/// The expression encoder's input from a face crop.
fn gray48(crop: &RgbImage) -> GrayImage {
    let whole = [0.0, 0.0, crop.width() as f32, crop.height() as f32];
    split::gray_crop(crop, &whole_face(whole), crate::features::expression::SIZE)
        .unwrap_or_else(|| GrayImage::new(crate::features::expression::SIZE, crate::features::expression::SIZE))
}
