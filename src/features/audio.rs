//! Speech and sound encoders (Section III-A3): Whisper-tiny encoder frames `[e, 384]` over
//! the utterance's real length, and the aisfx sound CNN's blocks `[b, 512]`.
//!
//! Whisper's encoder is trained on 30 s windows, and running it on a 3 s utterance padded
//! to 30 s spends ~90 % of its work on silence. Features therefore come from
//! `speech_whisper_encoder_ctx`, the same weights over a shorter audio context (whisper.cpp's
//! `audio_ctx`): the utterance padded to whole seconds, the positional embeddings sliced to
//! its length. Its frames stay close to the 30 s frames (mean cosine 0.99 on the export's
//! check); transcription, which decodes against the encoder's states, keeps 30 s windows.
//!
//! The paper uses PaSST (AudioSet); no PaSST weights ship in a package reachable here, so
//! the Whisper encoder (speech content and prosody) and aisfx (general sound) stand in;
//! `amuse bench`/the model card say which served emotion better on RAVDESS dev actors.

use anyhow::Result;
use tch::{Device, Tensor};

use crate::manifest::ModelStore;
use crate::torchscript::TorchScript;

/// Whisper's input: 30 s of 16 kHz audio.
pub const WHISPER_SAMPLES: usize = 480_000;
/// Samples per Whisper encoder frame (hop 160, stride-2 convolution).
pub const WHISPER_HOP: usize = 320;
/// The audio context is padded to a multiple of this (1 s): few distinct input shapes, at
/// most a second of padding.
pub const WHISPER_BUCKET: usize = 16_000;
pub const WHISPER_DIM: i64 = 384;
/// aisfx input rate.
pub const SOUND_RATE: u32 = 44_100;
pub const SOUND_DIM: i64 = 512;
/// Shortest input aisfx accepts: one block of 100 frames (hop 441 samples at 44.1 kHz).
const SOUND_MIN_SAMPLES: usize = 44_100;

/// The export the features come from (the shorter-context encoder).
pub const MODEL: &str = "speech_whisper_encoder_ctx";

/// Samples of the context a window of `n` samples is encoded in: `n` rounded up to whole
/// seconds (at least one, at most 30 s).
pub fn context_samples(n: usize) -> usize {
    n.div_ceil(WHISPER_BUCKET).clamp(1, WHISPER_SAMPLES / WHISPER_BUCKET) * WHISPER_BUCKET
}

pub struct SpeechEncoder {
    module: TorchScript,
}

impl SpeechEncoder {
    pub fn load(store: &ModelStore, device: Device) -> Result<Self> {
        Ok(Self {
            module: TorchScript::load(store, MODEL, device)?,
        })
    }

    /// `[e, 384]` frames for 16 kHz mono audio of any length (windows of at most 30 s, each
    /// padded to whole seconds, concatenated); `e = ceil(len / 320)`, at least 1.
    pub fn encode(&self, samples: &[f32]) -> Result<Tensor> {
        let mut parts = Vec::new();
        let windows: Vec<&[f32]> = if samples.is_empty() {
            vec![&[][..]]
        } else {
            samples.chunks(WHISPER_SAMPLES).collect()
        };
        for window in windows {
            let mut padded = vec![0f32; context_samples(window.len())];
            padded[..window.len()].copy_from_slice(window);
            let frames = window
                .len()
                .div_ceil(WHISPER_HOP)
                .clamp(1, WHISPER_SAMPLES / WHISPER_HOP) as i64;
            let out = self.module.forward(&[Tensor::from_slice(&padded).unsqueeze(0)])?;
            parts.push(super::owned(&out[0].get(0).narrow(0, 0, frames).to_device(Device::Cpu)));
        }
        Ok(match parts.len() {
            1 => parts.remove(0),
            _ => Tensor::cat(&parts, 0),
        })
    }
}

pub struct SoundEncoder {
    module: TorchScript,
}

impl SoundEncoder {
    pub fn load(store: &ModelStore, device: Device) -> Result<Self> {
        Ok(Self {
            module: TorchScript::load(store, "sound_aisfx", device)?,
        })
    }

    /// `[b, 512]` blocks for 44.1 kHz mono audio (peak-normalised here; padded to 1 s).
    pub fn encode(&self, samples: &[f32]) -> Result<Tensor> {
        let peak = samples.iter().fold(0f32, |m, v| m.max(v.abs()));
        let mut x: Vec<f32> = if peak > 1e-6 {
            samples.iter().map(|v| v / peak).collect()
        } else {
            samples.to_vec()
        };
        if x.len() < SOUND_MIN_SAMPLES {
            x.resize(SOUND_MIN_SAMPLES, 0.0);
        }
        let out = self.module.forward(&[Tensor::from_slice(&x)])?;
        Ok(super::owned(&out[0].to_device(Device::Cpu)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_are_whole_seconds_up_to_thirty() {
        assert_eq!(context_samples(0), 16_000);
        assert_eq!(context_samples(1), 16_000);
        assert_eq!(context_samples(16_000), 16_000);
        assert_eq!(context_samples(16_001), 32_000);
        assert_eq!(context_samples(WHISPER_SAMPLES), WHISPER_SAMPLES);
        assert_eq!(context_samples(10 * WHISPER_SAMPLES), WHISPER_SAMPLES);
        // Every context is a whole number of encoder frames.
        assert_eq!(WHISPER_BUCKET % WHISPER_HOP, 0);
    }
}
