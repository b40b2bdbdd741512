//! Visual encoders (Section III-A2): per keyframe, the speaker's face through the expression
//! encoder (`[256]` features + 7 expression probabilities, [`super::expression`]: a CNN
//! trained on FER+) and the back frame (faces removed) through EfficientNet-Lite0 (`[1280]`).
//!
//! The paper extracts JAA-Net action units from face frames; no AU model ships in a package
//! reachable offline, so an expression CNN stands in, and the LIME face regions are
//! placed where the paper's AUs act (see `explain`).

use anyhow::Result;
use image::{imageops, GrayImage, RgbImage};
use tch::{Device, Kind, Tensor};

use super::expression::{self, ExpressionEncoder};
use crate::manifest::ModelStore;
use crate::media::decode::Frame;
use crate::media::faces::mtcnn::{Face, Mtcnn, MtcnnConfig};
use crate::media::faces::split;
use crate::torchscript::TorchScript;

pub const FACE_DIM: i64 = expression::FEATURE_DIM + 7;
pub const BACK_DIM: i64 = 1280;
const FACE_SIZE: u32 = expression::SIZE;
const SCENE_SIZE: u32 = 224;

/// What the visual branch saw in one keyframe (plain data, for the UI and explanations).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KeyframeFaces {
    /// When the keyframe is, in seconds of the source media (the frame actually decoded:
    /// an I-frame when the video has enough of them, see `media::keyframes`).
    pub time: f64,
    pub faces: Vec<Face>,
    /// Index into `faces` of the speaker's face.
    pub speaker: Option<usize>,
}

/// One utterance's visual features (on the CPU).
#[derive(Debug)]
pub struct VisualFeatures {
    /// `[n, 263]`; rows of keyframes without a face are zero (see `face_mask`).
    pub face: Tensor,
    /// `[n]` 1.0 where the keyframe had a face.
    pub face_mask: Tensor,
    /// `[n, 1280]`.
    pub back: Tensor,
    pub keyframes: Vec<KeyframeFaces>,
}

pub struct VisualEncoder {
    pub detector: Mtcnn,
    pub expression: ExpressionEncoder,
    scene: TorchScript,
}

impl VisualEncoder {
    pub fn load(store: &ModelStore, device: Device) -> Result<Self> {
        Ok(Self {
            detector: Mtcnn::load(store, device)?.with_config(MtcnnConfig::pipeline()),
            expression: ExpressionEncoder::load(store, expression::SHIPPED, device)?,
            scene: TorchScript::load(store, "scene_effnet_lite0", device)?,
        })
    }

    /// Detect faces in each keyframe and encode the speaker's face and the back frame.
    /// `pick` chooses the speaker's face among each keyframe's faces.
    pub fn encode(&self, frames: &[Frame], pick: split::Pick) -> Result<VisualFeatures> {
        let mut keyframes = Vec::with_capacity(frames.len());
        let mut crops = Vec::new();
        let mut has_face = Vec::with_capacity(frames.len());
        let mut backs = Vec::with_capacity(frames.len());
        let detected = crate::profile::time("MTCNN", || self.detect(frames))?;
        for (Frame { time, image: frame }, faces) in frames.iter().zip(detected) {
            let speaker = pick.choose(&faces, frame.width());
            let crop = speaker.and_then(|i| split::gray_crop(frame, &faces[i], FACE_SIZE));
            has_face.push(crop.is_some());
            crops.extend(crop);
            backs.push(crate::profile::time("face/back split", || {
                image_tensor(&split::back_frame(frame, &faces), SCENE_SIZE)
            }));
            keyframes.push(KeyframeFaces {
                time: *time,
                faces,
                speaker,
            });
        }
        let n = frames.len() as i64;
        let mut face = Tensor::zeros([n, FACE_DIM], (Kind::Float, Device::Cpu));
        if !crops.is_empty() {
            let out = crate::profile::time("expression CNN", || self.expression.encode(&crops))?;
            let feats = Tensor::cat(&[out.features, out.probs], 1);
            let rows: Vec<i64> = has_face
                .iter()
                .enumerate()
                .filter(|(_, &h)| h)
                .map(|(i, _)| i as i64)
                .collect();
            face = face.index_copy(0, &Tensor::from_slice(&rows), &feats);
        }
        let back = crate::profile::time("scene CNN", || self.scene_rows(&backs))?;
        let mask: Vec<f32> = has_face.iter().map(|&h| if h { 1.0 } else { 0.0 }).collect();
        Ok(VisualFeatures {
            face,
            face_mask: Tensor::from_slice(&mask),
            back,
            keyframes,
        })
    }
}

impl VisualEncoder {
    /// Faces of each keyframe: the distinct ones through MTCNN in one batch, a keyframe that
    /// barely changed from the one before it ([`barely_changed`]) reusing its detections.
    fn detect(&self, frames: &[Frame]) -> Result<Vec<Vec<Face>>> {
        let thumbs: Vec<GrayImage> = frames.iter().map(|f| thumbnail(&f.image)).collect();
        // `source[i]`: the keyframe whose detections keyframe i uses.
        let mut source: Vec<usize> = Vec::with_capacity(frames.len());
        for i in 0..frames.len() {
            let same = i > 0
                && frames[i].image.dimensions() == frames[i - 1].image.dimensions()
                && barely_changed(&thumbs[i], &thumbs[i - 1]);
            source.push(if same { source[i - 1] } else { i });
        }
        let distinct: Vec<usize> = (0..frames.len()).filter(|&i| source[i] == i).collect();
        let images: Vec<&RgbImage> = distinct.iter().map(|&i| &frames[i].image).collect();
        let found = self.detector.detect_many(&images)?;
        Ok(source
            .iter()
            .map(|s| found[distinct.binary_search(s).unwrap_or_default()].clone())
            .collect())
    }

    /// `[n, 1280]` scene features of `[3, 224, 224]` image tensors ([`image_tensor`]).
    fn scene_rows(&self, images: &[Tensor]) -> Result<Tensor> {
        if images.is_empty() {
            return Ok(Tensor::zeros([0, BACK_DIM], (Kind::Float, Device::Cpu)));
        }
        Ok(self.scene.forward(&[Tensor::stack(images, 0)])?[0]
            .to_device(Device::Cpu)
            .to_kind(Kind::Float))
    }

    /// Back-frame rows (`[n, 1280]`) of back frames (faces already removed), as
    /// [`Self::encode`] computes them.
    pub fn back_rows(&self, backs: &[RgbImage]) -> Result<Tensor> {
        let tensors: Vec<Tensor> = backs.iter().map(|b| image_tensor(b, SCENE_SIZE)).collect();
        self.scene_rows(&tensors)
    }

    /// Face rows (`[n, 263]`: features and probabilities) of 48×48 grey crops, as
    /// [`Self::encode`] computes them.
    pub fn face_rows(&self, crops: &[image::GrayImage]) -> Result<Tensor> {
        let out = self.expression.encode(crops)?;
        Ok(Tensor::cat(&[out.features, out.probs], 1))
    }

    /// Expression probabilities (FER2013 order: angry, disgust, fear, happy, sad,
    /// surprise, neutral) of 48×48 gray face crops; used to explain faces.
    pub fn expression_probs(&self, crops: &[image::GrayImage]) -> Result<Vec<[f32; 7]>> {
        self.expression.probs(crops)
    }
}

/// A 64×36 grey thumbnail: enough to tell a still shot from a moving one.
fn thumbnail(image: &RgbImage) -> GrayImage {
    imageops::resize(&imageops::grayscale(image), 64, 36, imageops::FilterType::Triangle)
}

/// Whether two keyframes' thumbnails show the same picture: mean absolute difference under
/// one grey level, and no thumbnail pixel (a 10×10 block of a 640×360 frame) off by more
/// than 12 levels. Codec noise on a still shot stays below both; a cut, a zoom or a face
/// that moves by a few pixels does not.
pub fn barely_changed(a: &GrayImage, b: &GrayImage) -> bool {
    let diffs: Vec<f32> = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (x as f32 - y as f32).abs())
        .collect();
    let mean = diffs.iter().sum::<f32>() / diffs.len().max(1) as f32;
    mean < 1.0 && diffs.iter().all(|&d| d <= 12.0)
}

/// An RGB image as a `[3, size, size]` float tensor in [0, 1] (resized, aspect not kept:
/// the scene CNN was trained on squashed ImageNet crops).
pub fn image_tensor(image: &RgbImage, size: u32) -> Tensor {
    let resized = imageops::resize(image, size, size, imageops::FilterType::Triangle);
    Tensor::from_slice(resized.as_raw())
        .view([size as i64, size as i64, 3])
        .permute([2, 0, 1])
        .to_kind(Kind::Float)
        / 255.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(shift: u32) -> RgbImage {
        RgbImage::from_fn(640, 360, |x, y| {
            let v = ((x + shift) / 3 + y / 4) as u8;
            image::Rgb([v, v / 2, 255 - v])
        })
    }

    #[test]
    fn only_still_pictures_count_as_unchanged() {
        let a = thumbnail(&gradient(0));
        assert!(barely_changed(&a, &a.clone()));
        // Codec-like noise of ±1 level everywhere.
        let mut noisy = gradient(0);
        for (i, p) in noisy.pixels_mut().enumerate() {
            p.0[0] = p.0[0].saturating_add((i % 3) as u8);
        }
        assert!(barely_changed(&a, &thumbnail(&noisy)));
        // The picture panned by 12 pixels; a bright square (a hand, a face) entering.
        assert!(!barely_changed(&a, &thumbnail(&gradient(12))));
        let mut square = gradient(0);
        for y in 100..140 {
            for x in 300..340 {
                square.put_pixel(x, y, image::Rgb([255, 255, 255]));
            }
        }
        assert!(!barely_changed(&a, &thumbnail(&square)));
    }
}
