//! LIME explanations of the real model's predictions (Section IV-D), as plain data for the
//! viewer and the CLI.
//!
//! Text: words of the utterance are switched off (the reference's bag-of-words sampling);
//! each distinct perturbed transcript is re-encoded by MPNet and pushed through the full
//! model with the rest of the dialogue unchanged (so dialogue and speaker context are
//! included); identical perturbations are evaluated once and the other utterances'
//! features are reused, not recomputed.

use anyhow::{anyhow, Result};
use serde::{Deserialize, Serialize};

use super::Analyzer;
use crate::emotion::Emotion;
use crate::explain::lime::{Labels, LimeConfig};
use crate::explain::text::explain_text;
use crate::features::extract::{CancelToken, Cancelled, UtteranceFeatures};
use crate::media::transcript::Dialogue;
use crate::model::batch::{Batch, UtteranceInput};
use crate::model::context::{speaker_sequences, Sequences};
use tch::Tensor;

/// Samples of the interactive default (the reference uses 5000).
pub const INTERACTIVE_SAMPLES: usize = 300;

/// A word-level explanation ready to draw: the utterance split into pieces, each with the
/// weight of its word (positive supports the explained label, negative detracts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordExplanation {
    pub utterance: usize,
    pub label: Emotion,
    pub pieces: Vec<(String, Option<f64>)>,
    /// `(word, weight)` sorted by |weight|, the top features.
    pub top: Vec<(String, f64)>,
    pub intercept: f64,
    /// Weighted R² of the local model.
    pub score: f64,
    pub local_pred: f64,
    pub samples: usize,
    /// Distinct perturbed transcripts evaluated.
    pub evaluated: usize,
    pub seconds: f64,
}

impl Analyzer {
    /// Explain utterance `i`'s predicted label (or `label`) by its words.
    #[allow(clippy::too_many_arguments)]
    pub fn explain_words(
        &self,
        dialogue: &Dialogue,
        features: &[UtteranceFeatures],
        i: usize,
        label: Option<Emotion>,
        samples: usize,
        seed: u64,
        cancel: &CancelToken,
    ) -> Result<WordExplanation> {
        let started = std::time::Instant::now();
        let inputs = self.inputs(dialogue, features);
        let text = &dialogue
            .utterances
            .get(i)
            .ok_or_else(|| anyhow!("no utterance {i}"))?
            .text;
        let label = match label {
            Some(l) => l,
            None => {
                let (probs, _) = self.predict_inputs(&inputs);
                Emotion::from_index(crate::train::argmax(&probs[i].map(f64::from))).unwrap_or(Emotion::Neutral)
            }
        };
        let c = &self.model.info.config;
        let dims = [c.text_dim, c.audio_dim, c.face_dim, c.back_dim];
        // The other utterances' descriptors are computed once; each perturbed transcript
        // re-runs only utterance i's encoders, then the (cheap) context classifier.
        let n = inputs.len() as i64;
        let base = tch::no_grad(|| {
            self.model
                .model
                .encode(&Batch::new(&[inputs.as_slice()], dims, self.device), false)
                .fused
        });
        let names: Vec<Option<String>> = inputs.iter().map(|u| u.speaker.clone()).collect();
        let classifier = |texts: &[String]| -> Result<Vec<Vec<f64>>> {
            cancel.check()?;
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let encoded = self.encoders.text.encode(&refs)?;
            let u = &inputs[i];
            let variants: Vec<Vec<UtteranceInput>> = encoded
                .into_iter()
                .map(|f| {
                    vec![UtteranceInput {
                        text: Some(f.tokens),
                        audio: u.audio.as_ref().map(|t| t.shallow_clone()),
                        face: u.face.as_ref().map(|t| t.shallow_clone()),
                        back: u.back.as_ref().map(|t| t.shallow_clone()),
                        speaker: u.speaker.clone(),
                        label: None,
                    }]
                })
                .collect();
            let b = variants.len() as i64;
            let refs: Vec<&[UtteranceInput]> = variants.iter().map(Vec::as_slice).collect();
            let probs = tch::no_grad(|| {
                let own = self
                    .model
                    .model
                    .encode(&Batch::new(&refs, dims, self.device), false)
                    .fused;
                let rows = Tensor::arange(b, (tch::Kind::Int64, self.device)) * n + i as i64;
                let all = base.repeat([b, 1]).index_copy(0, &rows, &own);
                let dialogues = Sequences((0..b).map(|k| (k * n..(k + 1) * n).collect()).collect());
                let speakers = Sequences((0..b).flat_map(|k| speaker_sequences(&names, k * n)).collect());
                self.model
                    .model
                    .classify(&all, &dialogues, &speakers)
                    .index_select(0, &rows)
                    .softmax(-1, tch::Kind::Float)
            });
            let rows: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(probs.to_device(tch::Device::Cpu)).unwrap_or_default();
            Ok(rows
                .into_iter()
                .map(|r| r.into_iter().map(f64::from).collect())
                .collect())
        };
        let cfg = LimeConfig {
            num_samples: samples.max(2),
            seed,
            ..LimeConfig::text()
        };
        let result = explain_text(text, &Labels::Given(vec![label.index()]), &cfg, classifier);
        if cancel.is_cancelled() {
            anyhow::bail!(Cancelled);
        }
        let result = result.map_err(|e| anyhow!("LIME: {e}"))?;
        let exp = result
            .explanations
            .first()
            .ok_or_else(|| anyhow!("LIME returned no explanation"))?;
        let words = result.features.words();
        let weight_of = |f: usize| exp.weights.iter().find(|(k, _)| *k == f).map(|(_, w)| *w);
        let pieces = result
            .features
            .pieces()
            .iter()
            .map(|(range, feature)| (text[range.clone()].to_owned(), feature.and_then(weight_of)))
            .collect();
        Ok(WordExplanation {
            utterance: i,
            label,
            pieces,
            top: exp.weights.iter().map(|(f, w)| (words[*f].clone(), *w)).collect(),
            intercept: exp.intercept,
            score: exp.score,
            local_pred: exp.local_pred,
            samples: cfg.num_samples,
            evaluated: result.neighbourhood.evaluated,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}
