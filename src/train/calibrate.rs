//! Fitting the temperatures of [`crate::model::calibration`] on pools held aside from the
//! training corpora, and measuring calibration: the expected calibration error (ECE, 15
//! equal-width confidence bins, Guo et al. 2017) and the reliability bins a diagram draws.

use tch::{Device, Kind, Tensor};

use super::data::Corpus;
use super::dims;
use crate::model::amuse::{Amuse, Modality};
use crate::model::batch::{Batch, UtteranceInput};
use crate::model::calibration::{pattern, Calibration};

pub use crate::model::calibration::{reliability, Bin, Reliability, BINS};
/// Fewest pool samples a temperature is fitted on; patterns with fewer keep `T = 1`.
pub const MIN_SAMPLES: usize = 40;
/// Fewest pool samples a temperature below 1 (sharper confidences) is fitted on. Sharpening
/// makes confident mistakes more confident, the failure calibration is there to prevent, and
/// on a pool of a few dozen clips the estimate is noise: on the audio stage's 48-clip EmoDB
/// pool, T = 0.86 raised EmoDB dev's ECE from 0.082 to 0.106.
pub const MIN_SAMPLES_TO_SHARPEN: usize = 200;

/// The raw outputs of one utterance.
#[derive(Debug, Clone)]
pub struct Row {
    pub truth: usize,
    pub present: [bool; 3],
    pub fused: Vec<f64>,
    /// Each Central head's logits, for the modalities present.
    pub heads: [Option<Vec<f64>>; 3],
}

/// Logits of every labelled utterance of `corpus` (inference mode).
pub fn outputs(model: &Amuse, corpus: &Corpus, device: Device) -> Vec<Row> {
    let mut out = Vec::with_capacity(corpus.utterances());
    let to_rows = |t: &Tensor| -> Vec<Vec<f64>> {
        Vec::<Vec<f64>>::try_from(t.to_device(Device::Cpu).to_kind(Kind::Double)).unwrap_or_default()
    };
    tch::no_grad(|| {
        for chunk in corpus.dialogues.chunks(16) {
            let ds: Vec<&[UtteranceInput]> = chunk.iter().map(Vec::as_slice).collect();
            let o = model.forward(&Batch::new(&ds, dims(model), device), false);
            let fused = to_rows(&o.logits);
            let present = to_rows(&o.present);
            let heads: Vec<Vec<Vec<f64>>> = (0..3).map(|m| to_rows(&o.modality_logits.get(m))).collect();
            for (i, u) in chunk.iter().flatten().enumerate() {
                let Some(truth) = u.label else { continue };
                let p: [bool; 3] = std::array::from_fn(|m| present[i][m] > 0.5);
                out.push(Row {
                    truth: truth as usize,
                    present: p,
                    fused: fused[i].clone(),
                    heads: std::array::from_fn(|m| p[m].then(|| heads[m][i].clone())),
                });
            }
        }
    });
    out
}

fn softmax(logits: &[f64], t: f64) -> Vec<f64> {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = logits.iter().map(|l| ((l - max) / t).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

fn nll(samples: &[(usize, &[f64])], t: f64) -> f64 {
    samples
        .iter()
        .map(|(y, l)| -softmax(l, t)[*y].max(1e-12).ln())
        .sum::<f64>()
        / samples.len().max(1) as f64
}

/// The temperature minimising the negative log-likelihood of `(truth, logits)` pairs, by
/// golden-section search over `ln T ∈ [ln 0.05, ln 20]` (the NLL is unimodal in `T`).
pub fn fit_temperature(samples: &[(usize, &[f64])]) -> f64 {
    let (mut a, mut b) = (0.05f64.ln(), 20f64.ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let f = |x: f64| nll(samples, x.exp());
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..60 {
        if fc < fd {
            (b, d, fd) = (d, c, fc);
            c = b - g * (b - a);
            fc = f(c);
        } else {
            (a, c, fc) = (c, d, fd);
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    ((a + b) / 2.0).exp()
}

/// Temperatures fitted on pools held aside from training: the fused output per presence
/// pattern, each head over every utterance where its modality is present. A pattern is
/// fitted on the `real` pools (recordings, as the dev sets are) when they have it, else on
/// the `synthetic` ones (the cross-corpus samples: the only source of, e.g., a face with
/// words), whose temperature is then at least 1; patterns and heads with fewer than
/// [`MIN_SAMPLES`] samples keep `T = 1`, and fewer than [`MIN_SAMPLES_TO_SHARPEN`] real ones
/// may only soften (`T ≥ 1`).
pub fn fit(model: &Amuse, real: &[&Corpus], synthetic: &[&Corpus], device: Device) -> Calibration {
    let rows = |pools: &[&Corpus]| -> Vec<Row> { pools.iter().flat_map(|p| outputs(model, p, device)).collect() };
    let (real, synthetic) = (rows(real), rows(synthetic));
    let fit_on = |of: &dyn Fn(&Row) -> Option<Vec<f64>>| -> Option<f64> {
        let pick = |rows: &[Row]| -> Vec<(usize, Vec<f64>)> {
            rows.iter().filter_map(|r| of(r).map(|l| (r.truth, l))).collect()
        };
        let from_real = pick(&real);
        let (samples, is_real) = if from_real.len() >= MIN_SAMPLES {
            (from_real, true)
        } else {
            (pick(&synthetic), false)
        };
        (samples.len() >= MIN_SAMPLES).then(|| {
            let refs: Vec<(usize, &[f64])> = samples.iter().map(|(y, l)| (*y, l.as_slice())).collect();
            temperature(&refs, is_real)
        })
    };
    let mut calibration = Calibration::default();
    let mut patterns: Vec<[bool; 3]> = real.iter().chain(&synthetic).map(|r| r.present).collect();
    patterns.sort();
    patterns.dedup();
    for p in patterns {
        if let Some(t) = fit_on(&|r: &Row| (r.present == p).then(|| r.fused.clone())) {
            calibration.fused.insert(pattern(p), t);
        }
    }
    for (m, name) in Modality::ALL.iter().map(|m| m.name()).enumerate() {
        if let Some(t) = fit_on(&|r: &Row| r.heads[m].clone()) {
            calibration.heads.insert((*name).to_owned(), t);
        }
    }
    calibration
}

/// The temperature of one pattern or head from its pool samples. Synthetic samples agree
/// across modalities by construction, so they are easier than real ones: they may soften a
/// pattern's confidences, never sharpen them; neither may a small real pool.
fn temperature(samples: &[(usize, &[f64])], is_real: bool) -> f64 {
    let t = fit_temperature(samples);
    if is_real && samples.len() >= MIN_SAMPLES_TO_SHARPEN {
        t
    } else {
        t.max(1.0)
    }
}

/// The expected ECE of a perfectly calibrated model with these confidences on a set of the
/// same size: each prediction drawn right with probability equal to its confidence, 200
/// times. ECE on a few hundred utterances is not zero even for perfect calibration; this
/// says how far from zero it gets by chance alone.
pub fn noise_floor(confidences: &[f64]) -> f64 {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(15);
    let runs = 200;
    let mut total = 0.0;
    for _ in 0..runs {
        let sample: Vec<(usize, Vec<f64>)> = confidences
            .iter()
            .map(|&c| {
                let right = rng.random_bool(c.clamp(0.0, 1.0));
                (usize::from(!right), vec![c, 1.0 - c])
            })
            .collect();
        total += reliability(&sample).ece;
    }
    total / runs as f64
}

/// The fused output's reliability on `corpus` without and with `calibration`; the second
/// one's `floor` is the [`noise_floor`] of its confidences.
pub fn measure(
    model: &Amuse,
    calibration: &Calibration,
    corpus: &Corpus,
    device: Device,
) -> (Reliability, Reliability) {
    let rows = outputs(model, corpus, device);
    let raw: Vec<(usize, Vec<f64>)> = rows.iter().map(|r| (r.truth, softmax(&r.fused, 1.0))).collect();
    let cal: Vec<(usize, Vec<f64>)> = rows
        .iter()
        .map(|r| (r.truth, softmax(&r.fused, calibration.fused_temperature(r.present))))
        .collect();
    let confidences: Vec<f64> = cal.iter().map(|(_, p)| p.iter().copied().fold(0.0, f64::max)).collect();
    let mut after = reliability(&cal);
    after.floor = Some(noise_floor(&confidences));
    (reliability(&raw), after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ece_of_perfectly_and_badly_calibrated_predictions() {
        // Confidence 0.8, right 4 times in 5: calibrated.
        let ok: Vec<(usize, Vec<f64>)> = (0..5).map(|i| (usize::from(i == 4), vec![0.8, 0.2])).collect();
        let r = reliability(&ok);
        assert!(r.ece.abs() < 1e-12, "{}", r.ece);
        assert_eq!(r.bins.iter().map(|b| b.count).sum::<usize>(), 5);
        assert_eq!(r.bins[11].count, 5, "0.8 falls in (11/15, 12/15]");
        // Confidence 0.99, right half the time: ECE 0.49.
        let over: Vec<(usize, Vec<f64>)> = (0..4).map(|i| (i % 2, vec![0.99, 0.01])).collect();
        assert!((reliability(&over).ece - 0.49).abs() < 1e-9);
    }

    #[test]
    fn the_fitted_temperature_undoes_a_known_overconfidence() {
        // Logits drawn so that the true temperature is 3: labels sampled from softmax(l / 3).
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut data = Vec::new();
        for _ in 0..4000 {
            let l: Vec<f64> = (0..4).map(|_| rng.random_range(-6.0..6.0)).collect();
            let p = softmax(&l, 3.0);
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let y = p.iter().position(|v| {
                acc += v;
                u < acc
            });
            data.push((y.unwrap_or(3), l));
        }
        let samples: Vec<(usize, &[f64])> = data.iter().map(|(y, l)| (*y, l.as_slice())).collect();
        let t = fit_temperature(&samples);
        assert!((t - 3.0).abs() < 0.3, "fitted T {t}");
        assert_eq!(temperature(&samples, true), t);
        // Underconfident logits (the true temperature is 1/3 of these): only a large real
        // pool may sharpen them.
        let sharp: Vec<(usize, Vec<f64>)> = data
            .iter()
            .map(|(y, l)| (*y, l.iter().map(|v| v / 9.0).collect()))
            .collect();
        let sharp: Vec<(usize, &[f64])> = sharp.iter().map(|(y, l)| (*y, l.as_slice())).collect();
        assert!(temperature(&sharp, true) < 0.5);
        assert_eq!(temperature(&sharp[..MIN_SAMPLES_TO_SHARPEN - 1], true), 1.0);
        assert_eq!(temperature(&sharp, false), 1.0);
        let before = reliability(&data.iter().map(|(y, l)| (*y, softmax(l, 1.0))).collect::<Vec<_>>());
        let after = reliability(&data.iter().map(|(y, l)| (*y, softmax(l, t))).collect::<Vec<_>>());
        assert!(
            after.ece < 0.03 && before.ece > 0.15,
            "ECE {} → {}",
            before.ece,
            after.ece
        );
    }
}
