//! Audio augmentation for training the audio branch: what real recordings do and acted
//! studio corpora (RAVDESS, EmoDB) do not.
//!
//! Each acted clip is clean, close-miked, level-normalised and cut tightly around the
//! sentence; a TV episode or a meeting recording is none of these. Every transform here
//! draws its parameters from a seeded generator, so an augmented copy is reproducible (and
//! its encoder features cacheable) from `(clip, transform, seed)`:
//!
//! * [`Transform::Crop`]: a random part of the clip (60–100 % of its duration), since real
//!   utterances are cut by subtitles, not by the recording session;
//! * [`Transform::Gain`]: −18 to +6 dB, since Whisper's log-mel front end sees absolute levels;
//! * [`Transform::Noise`]: generated white, pink or brown noise at 5–25 dB SNR;
//! * [`Transform::Reverb`]: a generated room (exponentially decaying noise, RT60 0.15–0.8 s,
//!   30–70 % wet), convolved through an FFT;
//! * [`Transform::Band`]: a band-limited channel: resampled to 8 kHz and back (telephone,
//!   low-bit-rate streams) or 11.025 kHz.
//!
//! `amuse train --augment crop,noise,…` adds `--augment-copies` augmented copies of every
//! audio training clip, each drawn with all the chosen transforms in a fixed order.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

/// Sample rate the transforms work at (the speech encoder's).
pub const RATE: f64 = 16_000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, serde::Serialize)]
pub enum Transform {
    Crop,
    Gain,
    Noise,
    Reverb,
    Band,
}

impl Transform {
    pub const ALL: [Transform; 5] = [Self::Crop, Self::Gain, Self::Noise, Self::Reverb, Self::Band];

    pub fn name(self) -> &'static str {
        match self {
            Self::Crop => "crop",
            Self::Gain => "gain",
            Self::Noise => "noise",
            Self::Reverb => "reverb",
            Self::Band => "band",
        }
    }
}

/// A set of transforms, applied in [`Transform::ALL`] order (crop first, the channel last).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Augment {
    pub transforms: Vec<Transform>,
}

impl Augment {
    pub fn new(mut transforms: Vec<Transform>) -> Self {
        transforms.sort();
        transforms.dedup();
        Self { transforms }
    }

    pub fn is_empty(&self) -> bool {
        self.transforms.is_empty()
    }

    /// `crop+noise`, for names and cache keys.
    pub fn label(&self) -> String {
        self.transforms.iter().map(|t| t.name()).collect::<Vec<_>>().join("+")
    }

    /// An augmented copy of `x` (16 kHz mono), drawn from `seed`.
    pub fn apply(&self, x: &[f32], seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut y = x.to_vec();
        for t in &self.transforms {
            y = match t {
                Transform::Crop => crop(&y, &mut rng),
                Transform::Gain => gain(&y, &mut rng),
                Transform::Noise => noise(&y, &mut rng),
                Transform::Reverb => reverb(&y, &mut rng),
                Transform::Band => band(&y, &mut rng),
            };
        }
        y
    }
}

fn rms(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt()
}

/// 60–100 % of the clip, at a random offset (clips under 0.5 s are kept whole).
fn crop(x: &[f32], rng: &mut ChaCha8Rng) -> Vec<f32> {
    if x.len() < (RATE * 0.5) as usize {
        return x.to_vec();
    }
    let keep = ((x.len() as f64) * rng.random_range(0.6..=1.0)) as usize;
    let start = rng.random_range(0..=x.len() - keep);
    x[start..start + keep].to_vec()
}

/// −18 to +6 dB, clipped to [−1, 1] as a recorder would.
fn gain(x: &[f32], rng: &mut ChaCha8Rng) -> Vec<f32> {
    let g = 10f32.powf(rng.random_range(-18.0f32..=6.0) / 20.0);
    x.iter().map(|v| (v * g).clamp(-1.0, 1.0)).collect()
}

/// White, pink or brown noise at 5–25 dB SNR (relative to the clip's RMS).
fn noise(x: &[f32], rng: &mut ChaCha8Rng) -> Vec<f32> {
    let colour = rng.random_range(0..3);
    let mut n: Vec<f32> = Vec::with_capacity(x.len());
    // Pink: Paul Kellet's economy filter; brown: leaky integration of white noise.
    let (mut b0, mut b1, mut b2, mut brown) = (0f32, 0f32, 0f32, 0f32);
    for _ in 0..x.len() {
        let w: f32 = rng.random_range(-1.0..=1.0);
        n.push(match colour {
            0 => w,
            1 => {
                b0 = 0.99765 * b0 + w * 0.099_046;
                b1 = 0.963 * b1 + w * 0.296_516_4;
                b2 = 0.57 * b2 + w * 1.052_691_3;
                b0 + b1 + b2 + w * 0.1848
            }
            _ => {
                brown = 0.995 * brown + 0.1 * w;
                brown
            }
        });
    }
    let snr_db: f64 = rng.random_range(5.0..=25.0);
    let (sx, sn) = (rms(x), rms(&n));
    if sx < 1e-6 || sn < 1e-9 {
        return x.to_vec();
    }
    let scale = (sx / sn / 10f64.powf(snr_db / 20.0)) as f32;
    x.iter()
        .zip(&n)
        .map(|(a, b)| (a + b * scale).clamp(-1.0, 1.0))
        .collect()
}

/// A generated room: the dry signal plus its convolution with exponentially decaying noise
/// (RT60 0.15–0.8 s), mixed 30–70 % wet at the dry signal's RMS.
fn reverb(x: &[f32], rng: &mut ChaCha8Rng) -> Vec<f32> {
    if x.is_empty() {
        return Vec::new();
    }
    let rt60: f64 = rng.random_range(0.15..=0.8);
    let wet: f32 = rng.random_range(0.3..=0.7);
    let len = (rt60 * RATE) as usize;
    // Amplitude falls by 60 dB over rt60: exp(-6.91 t / rt60).
    let ir: Vec<f32> = (0..len)
        .map(|i| {
            let t = i as f64 / RATE;
            (rng.random_range(-1.0f64..=1.0) * (-6.91 * t / rt60).exp()) as f32
        })
        .collect();
    let conv = fft_convolve(x, &ir);
    let (sx, sc) = (rms(x), rms(&conv[..x.len()]));
    let scale = if sc > 1e-9 { (sx / sc) as f32 } else { 0.0 };
    x.iter()
        .zip(&conv)
        .map(|(d, c)| ((1.0 - wet) * d + wet * c * scale).clamp(-1.0, 1.0))
        .collect()
}

/// `x * h` (full length) through LibTorch's real FFT.
fn fft_convolve(x: &[f32], h: &[f32]) -> Vec<f32> {
    let n = (x.len() + h.len() - 1).next_power_of_two() as i64;
    let fx = Tensor::from_slice(x).fft_rfft(n, 0, "backward");
    let fh = Tensor::from_slice(h).fft_rfft(n, 0, "backward");
    let y = (fx * fh).fft_irfft(n, 0, "backward").to_kind(Kind::Float);
    let y: Vec<f32> = y.try_into().unwrap_or_default();
    y[..x.len() + h.len() - 1].to_vec()
}

/// Through an 8 kHz or 11.025 kHz channel and back: the top of the spectrum is gone.
fn band(x: &[f32], rng: &mut ChaCha8Rng) -> Vec<f32> {
    let low = if rng.random_bool(0.5) { 8_000 } else { 11_025 };
    let down = crate::media::decode::resample_mono(x, RATE as u32, low).unwrap_or_else(|_| x.to_vec());
    let mut up = crate::media::decode::resample_mono(&down, low, RATE as u32).unwrap_or_else(|_| x.to_vec());
    up.resize(x.len(), 0.0);
    up
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1 s of a 220 Hz tone with a 3 kHz overtone.
    fn tone() -> Vec<f32> {
        (0..16_000)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                0.3 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
                    + 0.1 * (2.0 * std::f32::consts::PI * 3000.0 * t).sin()
            })
            .collect()
    }

    #[test]
    fn copies_are_reproducible_from_their_seed_and_differ_between_seeds() {
        let a = Augment::new(Transform::ALL.to_vec());
        let x = tone();
        assert_eq!(a.apply(&x, 3), a.apply(&x, 3));
        assert_ne!(a.apply(&x, 3), a.apply(&x, 4));
        assert_eq!(a.label(), "crop+gain+noise+reverb+band");
        assert_eq!(
            Augment::new(vec![Transform::Noise, Transform::Crop, Transform::Noise]).label(),
            "crop+noise"
        );
    }

    #[test]
    fn each_transform_does_what_it_says() {
        let x = tone();
        let one = |t| Augment::new(vec![t]);
        let c = one(Transform::Crop).apply(&x, 1);
        assert!(c.len() >= 9_600 && c.len() <= 16_000, "{}", c.len());
        for seed in 0..5 {
            let g = one(Transform::Gain).apply(&x, seed);
            let db = 20.0 * (rms(&g) / rms(&x)).log10();
            assert!((-18.5..=6.5).contains(&db), "gain {db} dB");
            let n = one(Transform::Noise).apply(&x, seed);
            let residual: Vec<f32> = n.iter().zip(&x).map(|(a, b)| a - b).collect();
            let snr = 20.0 * (rms(&x) / rms(&residual)).log10();
            assert!((4.0..=26.0).contains(&snr), "noise at {snr} dB SNR");
        }
        // Reverb keeps the length and smears the signal in time (the tail after an impulse).
        let mut click = vec![0f32; 16_000];
        click[100] = 1.0;
        let r = one(Transform::Reverb).apply(&click, 2);
        assert_eq!(r.len(), click.len());
        assert!(r[2_000..].iter().any(|v| v.abs() > 1e-4), "a reverberant tail");
        // Either channel (8 or 11.025 kHz) removes a 7 kHz tone.
        let high: Vec<f32> = (0..16_000)
            .map(|i| 0.3 * (2.0 * std::f32::consts::PI * 7000.0 * i as f32 / 16_000.0).sin())
            .collect();
        let b = one(Transform::Band).apply(&high, 0);
        assert_eq!(b.len(), high.len());
        assert!(
            rms(&b[1000..15_000]) < 0.1 * rms(&high),
            "7 kHz is filtered: {}",
            rms(&b)
        );
    }
}
