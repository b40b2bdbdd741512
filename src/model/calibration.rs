//! Confidences that mean what they say: temperature scaling (Guo et al. 2017) of the fused
//! output and of each modality's Central head, stored with the checkpoint.
//!
//! A network trained with focal and cross-entropy losses is rarely calibrated: its 0.9 is not
//! right nine times in ten. Dividing the logits by a temperature `T` keeps every prediction
//! (the argmax) and moves the confidences. The fused output gets one temperature per
//! *presence pattern* (which modalities an utterance has), because the same network is
//! over- or under-confident differently on text alone, on a voice alone or on both: the
//! fusion then knows, for instance, that a voice heard without words deserves less trust.
//! The temperatures are fitted on pools held aside from the training corpora
//! (`train::calibrate`), never on dev; a pattern without a fitted temperature keeps `T = 1`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use super::amuse::Modality;

/// Temperatures of a checkpoint's outputs (all 1 when it was never calibrated).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The fused output's temperature per presence pattern (`"text"`, `"text+audio"`, …).
    #[serde(default)]
    pub fused: BTreeMap<String, f64>,
    /// Each Central head's temperature, by modality name.
    #[serde(default)]
    pub heads: BTreeMap<String, f64>,
    /// How they were fitted: pools, expected calibration error and reliability bins before
    /// and after, per pool and per dev set (plain JSON for the model card and the viewer).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub report: serde_json::Value,
}

/// Confidence bins of the ECE and of reliability diagrams.
pub const BINS: usize = 15;

/// One confidence bin: how many predictions fell in it, their mean confidence and how many
/// of them were right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    pub count: usize,
    pub confidence: f64,
    pub accuracy: f64,
}

/// Calibration of a set of predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reliability {
    pub n: usize,
    pub ece: f64,
    pub bins: Vec<Bin>,
    /// The ECE a perfectly calibrated model with these confidences would show on this many
    /// utterances, on average (`train::calibrate::noise_floor`), when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<f64>,
}

/// ECE and reliability bins of `(truth, probabilities)` pairs: the argmax's probability is
/// the confidence; bin `b` holds confidences in `(b/15, (b+1)/15]`.
pub fn reliability(samples: &[(usize, Vec<f64>)]) -> Reliability {
    let mut sums = vec![(0usize, 0.0f64, 0.0f64); BINS];
    for (truth, p) in samples {
        let (best, conf) = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, &c)| (i, c))
            .unwrap_or((0, 0.0));
        let b = ((conf * BINS as f64).ceil() as usize).clamp(1, BINS) - 1;
        sums[b].0 += 1;
        sums[b].1 += conf;
        sums[b].2 += f64::from(u8::from(best == *truth));
    }
    let n = samples.len();
    let bins: Vec<Bin> = sums
        .into_iter()
        .map(|(count, conf, right)| Bin {
            count,
            confidence: if count > 0 { conf / count as f64 } else { 0.0 },
            accuracy: if count > 0 { right / count as f64 } else { 0.0 },
        })
        .collect();
    let ece = bins
        .iter()
        .map(|b| b.count as f64 / n.max(1) as f64 * (b.accuracy - b.confidence).abs())
        .sum();
    Reliability {
        n,
        ece,
        bins,
        floor: None,
    }
}

/// The presence pattern's name: the present modalities joined by `+` (`"none"` if none).
pub fn pattern(present: [bool; 3]) -> String {
    let names: Vec<&str> = Modality::ALL
        .iter()
        .filter(|m| present[m.index()])
        .map(|m| m.name())
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join("+")
    }
}

impl Calibration {
    pub fn is_empty(&self) -> bool {
        self.fused.is_empty() && self.heads.is_empty()
    }

    /// The fused temperature of an utterance with `present` modalities.
    pub fn fused_temperature(&self, present: [bool; 3]) -> f64 {
        self.fused.get(&pattern(present)).copied().unwrap_or(1.0)
    }

    pub fn head_temperature(&self, m: usize) -> f64 {
        self.heads.get(Modality::ALL[m].name()).copied().unwrap_or(1.0)
    }

    /// Fused logits `[U, C]` divided by each utterance's temperature (by `present [U, 3]`).
    pub fn scale_fused(&self, logits: &Tensor, present: &Tensor) -> Tensor {
        if self.fused.is_empty() {
            return logits.shallow_clone();
        }
        let rows: Vec<f32> = Vec::<f32>::try_from(
            present
                .to_device(tch::Device::Cpu)
                .to_kind(Kind::Float)
                .contiguous()
                .view([-1]),
        )
        .unwrap_or_default();
        let temps: Vec<f32> = rows
            .chunks(3)
            .map(|p| self.fused_temperature([p[0] > 0.5, p[1] > 0.5, p[2] > 0.5]) as f32)
            .collect();
        let t = Tensor::from_slice(&temps).to_device(logits.device()).unsqueeze(1);
        logits / t
    }

    /// Head `m`'s logits divided by its temperature.
    pub fn scale_head(&self, m: usize, logits: &Tensor) -> Tensor {
        logits / self.head_temperature(m)
    }

    /// Keep `self`'s temperatures and add `other`'s for patterns and heads `self` lacks
    /// (an extended checkpoint keeps its base's temperatures: those predictions are frozen).
    pub fn merged_with(mut self, other: &Calibration) -> Calibration {
        for (k, v) in &other.fused {
            self.fused.entry(k.clone()).or_insert(*v);
        }
        for (k, v) in &other.heads {
            self.heads.entry(k.clone()).or_insert(*v);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperatures_follow_the_presence_pattern_and_keep_the_argmax() {
        let mut c = Calibration::default();
        c.fused.insert("text".into(), 2.0);
        c.fused.insert("audio".into(), 4.0);
        c.heads.insert("audio".into(), 0.5);
        assert_eq!(pattern([true, true, false]), "text+audio");
        assert_eq!(pattern([false, false, false]), "none");
        let logits = Tensor::from_slice(&[2.0f32, 0.0, 4.0, 0.0, 1.0, 0.0]).view([3, 2]);
        let present = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0]).view([3, 3]);
        let scaled: Vec<f32> = c.scale_fused(&logits, &present).view([-1]).try_into().unwrap();
        assert_eq!(
            scaled,
            [1.0, 0.0, 1.0, 0.0, 1.0, 0.0],
            "T 2, 4, and 1 for an unfitted pattern"
        );
        let head: Vec<f32> = c.scale_head(1, &logits).view([-1]).try_into().unwrap();
        assert_eq!(head[0], 4.0);
        assert_eq!(c.head_temperature(0), 1.0);
        // Merging keeps what a base had.
        let mut other = Calibration::default();
        other.fused.insert("text".into(), 9.0);
        other.fused.insert("visual".into(), 3.0);
        let m = c.merged_with(&other);
        assert_eq!((m.fused["text"], m.fused["visual"]), (2.0, 3.0));
    }
}
