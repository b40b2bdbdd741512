//! LIME on the speaker's face (Section IV-D, Fig. 2): which facial regions — placed where
//! the paper's action units act ([`crate::lime::face_regions`]) — make the expression
//! CNN read the emotion it reads.
//!
//! This explains the expression encoder's own reading, the evidence the viewer shows beside
//! the prediction; the AMuSE prediction itself is explained by the face rows it reads in
//! [`super::explain_visual`] (when the checkpoint reads faces). The UI says which.
//! Switched-off regions take their mean colour: shape (a raised lip corner, a frown)
//! disappears, skin tone stays.

use std::path::Path;

use anyhow::{anyhow, Result};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::{Analyzer, FER_TO_MELD};
use crate::emotion::Emotion;
use crate::lime::engine::{Labels, LimeConfig};
use crate::lime::face_regions::{self, REGIONS};
use crate::lime::image::explain_image;
use crate::media::faces::split;

/// Samples of a face explanation: 6 regions have 64 on/off patterns, so the reference's
/// 1000 image samples would evaluate each pattern many times; 300 leaves every pattern
/// likely drawn and costs a fraction of a second.
pub const FACE_SAMPLES: usize = 300;

/// One region's weight for the explained emotion (positive supports it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionWeight {
    pub name: String,
    pub action_units: String,
    pub weight: f64,
}

/// What a face or back-frame explanation explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
pub enum Target {
    /// The AMuSE prediction: fused, in the dialogue's context.
    #[default]
    Fused,
    /// The visual Central head alone.
    Head,
    /// The expression encoder's own reading (evidence shown beside a checkpoint that does
    /// not read faces).
    Expression,
}

impl Target {
    pub fn describe(self) -> &'static str {
        match self {
            Target::Fused => "the AMuSE prediction (fused, in context)",
            Target::Head => "the visual Central head",
            Target::Expression => "the expression encoder's reading (evidence, not the AMuSE prediction)",
        }
    }
}

fn expression_target() -> Target {
    Target::Expression
}

/// A face explanation as plain data (the UI tints the crop by `labels`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceExplanation {
    /// Frame time the face was taken from.
    pub time: f64,
    /// What is explained (explanations saved before faces were fused explained the encoder).
    #[serde(default = "expression_target")]
    pub explains: Target,
    /// The expression the CNN reads, in MELD's classes.
    pub label: Emotion,
    pub probability: f32,
    pub regions: Vec<RegionWeight>,
    pub score: f64,
    pub samples: usize,
    pub evaluated: usize,
    pub seconds: f64,
    /// The face crop `[x1, y1, x2, y2]` in the frame, and its region of every pixel.
    pub crop: [u32; 4],
    pub labels: Vec<u8>,
}

impl FaceExplanation {
    /// The crop tinted green/red by the regions' weights.
    pub fn overlay(&self, frame: &RgbImage) -> Option<RgbImage> {
        let [x1, y1, x2, y2] = self.crop;
        let crop = image::imageops::crop_imm(frame, x1, y1, x2 - x1, y2 - y1).to_image();
        let segments = crate::lime::image::Segments::from_labels(
            x2 - x1,
            y2 - y1,
            self.labels.iter().map(|&l| usize::from(l)).collect(),
        )
        .ok()?;
        let weights: Vec<(usize, f64)> = self.regions.iter().enumerate().map(|(i, r)| (i, r.weight)).collect();
        Some(crate::lime::image::render_overlay(
            &crop, &segments, &weights, 0.6, true,
        ))
    }
}

impl Analyzer {
    /// Explain the expression of the speaker's face in `frame` (decoded at `time`, the
    /// largest face unless `pick` points at another).
    pub fn explain_face(
        &self,
        frame: &RgbImage,
        time: f64,
        pick: Option<[f32; 2]>,
        samples: usize,
        seed: u64,
    ) -> Result<FaceExplanation> {
        let started = std::time::Instant::now();
        let faces = self.encoders.visual.detector.detect(frame)?;
        let face = split::speaker_face(&faces, pick)
            .map(|i| &faces[i])
            .ok_or_else(|| anyhow!("no face found in the frame at {time:.2} s"))?;
        // The square the expression encoder reads (see `split::expression_rect`).
        let rect = split::expression_rect(face, frame.width(), frame.height())
            .ok_or_else(|| anyhow!("the face at {time:.2} s lies outside the frame"))?;
        let [x1, y1, x2, y2] = rect;
        let crop = image::imageops::crop_imm(frame, x1, y1, x2 - x1, y2 - y1).to_image();
        let lm = face.landmarks.map(|p| [p[0] - x1 as f32, p[1] - y1 as f32]);
        let segments = face_regions::segments(crop.width(), crop.height(), &lm);
        let whole = [0.0, 0.0, crop.width() as f32, crop.height() as f32];
        let probs = |images: &[RgbImage]| -> Result<Vec<Vec<f64>>> {
            let crops: Vec<image::GrayImage> = images
                .iter()
                .filter_map(|im| split::gray_crop(im, &whole_face(whole), 48))
                .collect();
            let fer = self.encoders.visual.expression_probs(&crops)?;
            Ok(fer
                .into_iter()
                .map(|p| {
                    let mut meld = vec![0.0; 7];
                    for (i, v) in p.iter().enumerate() {
                        meld[FER_TO_MELD[i].index()] = f64::from(*v);
                    }
                    meld
                })
                .collect())
        };
        let base = probs(std::slice::from_ref(&crop))?;
        let first = base
            .first()
            .ok_or_else(|| anyhow!("the expression CNN gave no output"))?;
        let label = crate::metrics::argmax(first);
        let cfg = LimeConfig {
            num_samples: samples.max(2),
            seed,
            ..LimeConfig::image()
        };
        let e = explain_image(&crop, &segments, &Labels::Given(vec![label]), &cfg, probs)
            .map_err(|e| anyhow!("LIME: {e}"))?;
        let exp = e
            .explanations
            .first()
            .ok_or_else(|| anyhow!("LIME returned no explanation"))?;
        Ok(FaceExplanation {
            time,
            explains: Target::Expression,
            label: Emotion::from_index(label).unwrap_or(Emotion::Neutral),
            probability: first[label] as f32,
            regions: REGIONS
                .iter()
                .enumerate()
                .map(|(i, (name, aus))| RegionWeight {
                    name: (*name).to_owned(),
                    action_units: (*aus).to_owned(),
                    weight: exp.weight_of(i),
                })
                .collect(),
            score: exp.score,
            samples: cfg.num_samples,
            evaluated: e.neighbourhood.evaluated,
            seconds: started.elapsed().as_secs_f64(),
            crop: rect,
            labels: segments.labels.iter().map(|&l| l as u8).collect(),
        })
    }

    /// Explain the face of utterance `i` of `video` at the middle of its keyframes.
    pub fn explain_face_in(
        &self,
        video: &Path,
        keyframe_times: &[f64],
        samples: usize,
        seed: u64,
    ) -> Result<(RgbImage, FaceExplanation)> {
        let time = *keyframe_times
            .get(keyframe_times.len() / 2)
            .ok_or_else(|| anyhow!("the utterance has no keyframe (no video stream?)"))?;
        let frame = crate::media::decode::frames_at(video, &[time], self.options.frame_side)?
            .pop()
            .ok_or_else(|| anyhow!("no frame decoded at {time:.2} s"))?
            .image;
        let e = self.explain_face(&frame, time, self.options.speaker_pick, samples, seed)?;
        Ok((frame, e))
    }
}

/// A "face" covering a whole (already cropped) image, for [`split::gray_crop`].
pub(crate) fn whole_face(bbox: [f32; 4]) -> crate::media::faces::mtcnn::Face {
    crate::media::faces::mtcnn::Face {
        bbox,
        prob: 1.0,
        landmarks: [[0.0; 2]; 5],
    }
}
