//! The face expression encoder (Section III-A2's face-frame features): a 48×48 grey face
//! crop → a 256-d feature and seven expression probabilities (FER2013 class order).
//!
//! The shipped encoder, `face_expression_ferplus`, is a CNN this project trained on FER+
//! (`tools/train_ferplus.py`, committed in `models/face_expression/`, see the model card):
//! the PyEmotion FER2013 CNN it replaces (`face_expression`, still exported as a baseline)
//! read a plain smile as sadness. Both take the same input and give the same outputs, so
//! either can be evaluated (`amuse eval --data ferplus --expression NAME`).

use anyhow::Result;
use image::GrayImage;
use tch::{Device, Kind, Tensor};

use crate::emotion::Emotion;
use crate::manifest::ModelStore;
use crate::torchscript::TorchScript;

/// The encoder the pipeline uses (a `models/manifest.json` encoder).
pub const SHIPPED: &str = "face_expression_ferplus";
/// PyEmotion's FER2013 CNN (a `models/pretrained` export), kept as the baseline.
pub const PYEMOTION: &str = "face_expression";
/// Side of the square crop the encoders read.
pub const SIZE: u32 = 48;
/// Width of the feature vector (before the seven probabilities).
pub const FEATURE_DIM: i64 = 256;

/// FER2013 class order of the encoders' probabilities, mapped to MELD's.
pub const FER_TO_MELD: [Emotion; 7] = [
    Emotion::Anger,
    Emotion::Disgust,
    Emotion::Fear,
    Emotion::Joy,
    Emotion::Sadness,
    Emotion::Surprise,
    Emotion::Neutral,
];

pub struct ExpressionEncoder {
    net: TorchScript,
}

/// What the encoder read from a batch of crops.
pub struct Expressions {
    /// `[n, 256]` on the CPU.
    pub features: Tensor,
    /// `[n, 7]` on the CPU, FER2013 order; scores of the PyEmotion baseline are sigmoids.
    pub probs: Tensor,
}

impl ExpressionEncoder {
    pub fn load(store: &ModelStore, name: &str, device: Device) -> Result<Self> {
        Ok(Self {
            net: TorchScript::load(store, name, device)?,
        })
    }

    /// Encode 48×48 grey crops (other sizes are resized).
    pub fn encode(&self, crops: &[GrayImage]) -> Result<Expressions> {
        if crops.is_empty() {
            return Ok(Expressions {
                features: Tensor::zeros([0, FEATURE_DIM], (Kind::Float, Device::Cpu)),
                probs: Tensor::zeros([0, 7], (Kind::Float, Device::Cpu)),
            });
        }
        let rows: Vec<Tensor> = crops
            .iter()
            .map(|c| {
                let c = if c.dimensions() == (SIZE, SIZE) {
                    c.clone()
                } else {
                    image::imageops::resize(c, SIZE, SIZE, image::imageops::FilterType::Triangle)
                };
                Tensor::from_slice(c.as_raw()).view([1, SIZE as i64, SIZE as i64])
            })
            .collect();
        let batch = Tensor::stack(&rows, 0).to_kind(Kind::Float) / 255.0;
        let out = self.net.forward(&[batch])?;
        Ok(Expressions {
            features: out[0].to_device(Device::Cpu).to_kind(Kind::Float),
            probs: out[1].to_device(Device::Cpu).to_kind(Kind::Float),
        })
    }

    /// Expression probabilities of each crop, FER2013 order.
    pub fn probs(&self, crops: &[GrayImage]) -> Result<Vec<[f32; 7]>> {
        let probs = Vec::<Vec<f32>>::try_from(self.encode(crops)?.probs)?;
        Ok(probs
            .into_iter()
            .map(|r| std::array::from_fn(|i| r.get(i).copied().unwrap_or(0.0)))
            .collect())
    }
}

/// The MELD class an encoder's FER2013-order scores favour.
pub fn meld_label(scores: &[f32; 7]) -> Emotion {
    let best = (0..7).max_by(|&a, &b| scores[a].total_cmp(&scores[b])).unwrap_or(6);
    FER_TO_MELD[best]
}
