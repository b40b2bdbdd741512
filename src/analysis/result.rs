//! Plain results of an analysis: what the viewer shows and the CLI exports. No tensors.

use serde::{Deserialize, Serialize};

use crate::emotion::Emotion;
use crate::features::visual::KeyframeFaces;

/// Probabilities over the seven classes, in `Emotion::ALL` order.
pub type Probs = [f32; 7];

/// The analysis of one utterance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UtteranceResult {
    pub start: f64,
    pub end: f64,
    pub speaker: Option<String>,
    pub text: String,
    /// Ground truth from the transcript, when present.
    pub label: Option<Emotion>,
    /// The fused AMuSE prediction.
    pub probs: Probs,
    /// Per-modality Central head predictions (text, audio, visual); `None` when the
    /// utterance lacks the modality or the checkpoint does not use it.
    pub modality_probs: [Option<Probs>; 3],
    /// Keyframe times and the faces found in each.
    pub keyframe_times: Vec<f64>,
    pub keyframes: Vec<KeyframeFaces>,
    pub audio_seconds: f64,
    /// Expression CNN probabilities of the speaker's face, averaged over keyframes with a
    /// face (FER2013 classes mapped to MELD's: an evidence display, not the model's output).
    pub face_expression: Option<Probs>,
    /// The speaker's voice vector (L2-normalised, 256 floats) for "follow this voice".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<Vec<f32>>,
}

impl UtteranceResult {
    pub fn predicted(&self) -> Emotion {
        let i = self
            .probs
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap_or(0);
        Emotion::from_index(i).unwrap_or(Emotion::Neutral)
    }

    pub fn confidence(&self) -> f32 {
        self.probs.iter().copied().fold(0.0, f32::max)
    }
}

/// The analysis of a dialogue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DialogueResult {
    pub utterances: Vec<UtteranceResult>,
    /// Warnings from the transcript and notes from the extraction (no audio track…).
    pub notes: Vec<String>,
    pub transcribed: bool,
    /// Which checkpoint produced the predictions.
    pub checkpoint: String,
    /// Whether that checkpoint reads faces (its visual branch is trained on them).
    pub reads_faces: bool,
}

impl DialogueResult {
    /// Distinct named speakers in order of first appearance.
    pub fn speakers(&self) -> Vec<String> {
        crate::media::transcript::distinct_speakers(self.utterances.iter().map(|u| u.speaker.as_ref()))
    }
}

/// What the viewer shows about the loaded checkpoint (plain data, from its `config.json`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckpointSummary {
    pub name: String,
    pub modalities: Vec<String>,
    /// The visual streams read (empty when the checkpoint does not read faces).
    pub visual_streams: Vec<String>,
    pub trained_on: String,
    /// `(dev set, accuracy, weighted F1)` measured when it was saved.
    pub dev_scores: Vec<(String, f64, f64)>,
    /// `(output, temperature)`: the fused output per presence pattern, then each head.
    pub temperatures: Vec<(String, f64)>,
    /// `(set, before, after)` calibration of the fused output on each dev set and pool.
    pub reliability: Vec<(
        String,
        crate::model::calibration::Reliability,
        crate::model::calibration::Reliability,
    )>,
}

impl CheckpointSummary {
    pub fn of(name: &str, info: &crate::model::checkpoint::CheckpointInfo) -> Self {
        let dev_scores = info
            .dev_scores
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let f = |key: &str| v.get(key).and_then(serde_json::Value::as_f64).unwrap_or(f64::NAN);
                        (k.clone(), f("accuracy"), f("weighted_f1"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let c = &info.calibration;
        let temperatures = c
            .fused
            .iter()
            .map(|(k, v)| (format!("fused, {k}"), *v))
            .chain(c.heads.iter().map(|(k, v)| (format!("{k} head"), *v)))
            .collect();
        let reliability = c
            .report
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        let r = |key: &str| serde_json::from_value(v.get(key)?.clone()).ok();
                        Some((k.clone(), r("before")?, r("after")?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            name: name.to_owned(),
            modalities: info.modalities.iter().map(|m| m.name().to_owned()).collect(),
            visual_streams: if info.reads(crate::model::amuse::Modality::Visual) {
                info.visual_streams.clone()
            } else {
                Vec::new()
            },
            trained_on: info.trained_on.clone(),
            dev_scores,
            temperatures,
            reliability,
        }
    }
}
