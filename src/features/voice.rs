//! Speaker voice embedding (Resemblyzer's GE2E LSTM): one L2-normalised `[256]` vector per
//! utterance, the mean of 1.6 s windows. Used to group utterances by voice when the
//! transcript names no speakers, and for "follow this voice" (the paper's speaker context).

use anyhow::Result;
use tch::{Device, Kind, Tensor};

use super::torchscript::TorchScript;
use crate::manifest::ModelStore;

/// Window length: 1.6 s at 16 kHz.
pub const WINDOW: usize = 25_440;
/// Hop between windows (half a window).
pub const HOP: usize = WINDOW / 2;
pub const DIM: i64 = 256;

pub struct VoiceEncoder {
    module: TorchScript,
}

impl VoiceEncoder {
    pub fn load(store: &ModelStore, device: Device) -> Result<Self> {
        Ok(Self {
            module: TorchScript::load(store, "voice_resemblyzer", device)?,
        })
    }

    /// The utterance's voice vector from 16 kHz mono audio (zero-padded when shorter than a window).
    pub fn encode(&self, samples: &[f32]) -> Result<Tensor> {
        let mut windows: Vec<Tensor> = Vec::new();
        let mut start = 0;
        loop {
            let end = (start + WINDOW).min(samples.len());
            let mut w = vec![0f32; WINDOW];
            w[..end - start].copy_from_slice(&samples[start..end]);
            windows.push(Tensor::from_slice(&w));
            if end >= samples.len() {
                break;
            }
            start += HOP;
        }
        let out = self.module.forward(&[Tensor::stack(&windows, 0)])?;
        let mean = out[0]
            .to_device(Device::Cpu)
            .to_kind(Kind::Float)
            .mean_dim([0i64].as_slice(), false, Kind::Float);
        let norm = mean.norm().clamp_min(1e-8);
        Ok(mean / norm)
    }
}

/// Cosine similarity of two L2-normalised voice vectors.
pub fn similarity(a: &Tensor, b: &Tensor) -> f64 {
    a.dot(b).double_value(&[])
}
