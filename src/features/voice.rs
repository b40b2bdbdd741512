//! Speaker voice embedding (Resemblyzer's GE2E LSTM): one L2-normalised `[256]` vector per
//! utterance, the mean of 1.6 s windows. Used to group utterances by voice when the
//! transcript names no speakers, and for "follow this voice" (the paper's speaker context).

use anyhow::Result;
use tch::{Device, Kind, Tensor};

use crate::manifest::ModelStore;
use crate::torchscript::TorchScript;

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
        let voiced = prepare(samples);
        let samples = voiced.as_slice();
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

/// Resemblyzer's preprocessing, which its encoder was trained with: the volume raised to
/// -30 dBFS (never lowered) and the pauses cut out, so that windows hold voice rather than
/// room tone. Pauses are 30 ms frames more than 35 dB below the loudest one, kept when a
/// voiced frame is within 8 frames (the speech's edges). All of it when nothing is voiced.
pub fn prepare(samples: &[f32]) -> Vec<f32> {
    const FRAME: usize = 480;
    const HANGOVER: usize = 8;
    let rms = |x: &[f32]| (x.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>() / x.len().max(1) as f64).sqrt();
    let level = rms(samples);
    let target = 10f64.powf(-30.0 / 20.0);
    let gain = if level > 0.0 && level < target {
        target / level
    } else {
        1.0
    };
    let frames: Vec<f64> = samples.chunks(FRAME).map(rms).collect();
    let loudest = frames.iter().copied().fold(0.0, f64::max);
    let floor = loudest * 10f64.powf(-35.0 / 20.0);
    let voiced: Vec<bool> = frames.iter().map(|&r| loudest > 0.0 && r > floor).collect();
    let near_voice =
        |i: usize| voiced[i.saturating_sub(HANGOVER)..(i + HANGOVER + 1).min(voiced.len())].contains(&true);
    let kept: Vec<f32> = samples
        .chunks(FRAME)
        .enumerate()
        .filter(|(i, _)| near_voice(*i))
        .flat_map(|(_, c)| c.iter().map(|v| (f64::from(*v) * gain) as f32))
        .collect();
    if kept.is_empty() {
        samples.iter().map(|v| (f64::from(*v) * gain) as f32).collect()
    } else {
        kept
    }
}

/// Cosine similarity of two L2-normalised voice vectors.
pub fn similarity(a: &Tensor, b: &Tensor) -> f64 {
    a.dot(b).double_value(&[])
}

#[cfg(test)]
mod tests {
    use super::prepare;

    #[test]
    fn prepare_cuts_pauses_and_raises_quiet_speech() {
        let tone = |n: usize, a: f32| (0..n).map(move |i| a * (i as f32 * 0.05).sin());
        // 1 s silence, 1 s quiet speech-like tone, 1 s silence.
        let x: Vec<f32> = std::iter::repeat_n(0.0, 16_000)
            .chain(tone(16_000, 0.001))
            .chain(std::iter::repeat_n(0.0, 16_000))
            .collect();
        let y = prepare(&x);
        // The tone plus at most 8 frames (240 ms) of edge on each side.
        assert!(
            y.len() >= 16_000 && y.len() <= 16_000 + 2 * 8 * 480 + 480,
            "{}",
            y.len()
        );
        let rms = (y.iter().map(|v| v * v).sum::<f32>() / y.len() as f32).sqrt();
        assert!(rms > 0.01, "raised towards -30 dBFS: {rms}");
        let loud: Vec<f32> = tone(16_000, 0.5).collect();
        assert_eq!(prepare(&loud), loud, "loud speech is never lowered or cut");
        assert_eq!(prepare(&[0.0; 100]), vec![0.0; 100], "silence stays as it is");
    }
}
