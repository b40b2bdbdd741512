//! LIME explanations of the real model's predictions (Section IV-D), as plain data for the
//! viewer and the CLI.
//!
//! Text: words of the utterance are switched off (the reference's bag-of-words sampling);
//! each distinct perturbed transcript is re-encoded by MPNet and pushed through the full
//! model with the rest of the dialogue unchanged (so dialogue and speaker context are
//! included); identical perturbations are evaluated once and the other utterances'
//! features are reused, not recomputed.

use std::cell::Cell;
use std::time::Instant;

use anyhow::{anyhow, Result};
use serde::{Deserialize, Serialize};

use super::fit::Fit;
use super::in_context::InContext;
pub use super::in_context::Timing;
use super::Analyzer;
use crate::emotion::Emotion;
use crate::features::extract::UtteranceFeatures;
use crate::features::text::preceding;
use crate::lime::engine::{Labels, LimeConfig};
use crate::lime::text::explain_text;
use crate::media::transcript::Dialogue;
use crate::model::batch::UtteranceInput;
use crate::progress::{CancelToken, Cancelled};

/// Samples of the interactive default (the reference uses 5000): the smallest count at which
/// two seeds give the same top-5 words in at least 80 % of MELD dev utterances
/// (`amuse bench lime --stability`; the figures are in the README). The cost is the distinct
/// perturbed transcripts, at most 2^words, so most utterances cost no more than at 1000.
pub const INTERACTIVE_SAMPLES: usize = 2000;

/// Distinct perturbed transcripts handed to the encoder at once: MPNet sorts them by token
/// count and pads per batch, so one large group pads less than several small ones (measured
/// with `amuse bench lime --batch-sizes`: all at once beat groups of 128).
pub const CLASSIFIER_BATCH: usize = 1024;

/// Transcripts per MPNet forward pass (see [`CLASSIFIER_BATCH`]).
pub const MPNET_BATCH: usize = 64;

/// A word-level explanation ready to draw: the utterance split into pieces, each with the
/// weight of its word (positive supports the explained label, negative detracts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordExplanation {
    pub utterance: usize,
    pub pieces: Vec<(String, Option<f64>)>,
    /// `(word, weight)` sorted by |weight|, the top features.
    pub top: Vec<(String, f64)>,
    /// The label explained and the local model's fit; `evaluated` counts distinct
    /// perturbed transcripts.
    #[serde(flatten)]
    pub fit: Fit,
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
        let texts: Vec<&str> = dialogue.utterances.iter().map(|u| u.text.as_str()).collect();
        let text = texts.get(i).ok_or_else(|| anyhow!("no utterance {}", i + 1))?;
        let preceding = preceding(&texts, i, self.encoders.text.context);
        let inputs = self.inputs(dialogue, features);
        let (e, _) = self.explain_words_of(&inputs, (&preceding, text), i, label, samples, seed, cancel)?;
        Ok(e)
    }

    /// As [`Self::explain_words`], on prepared model inputs (e.g. a MELD dev dialogue of the
    /// corpus loader) with utterance `i`'s transcript `text` and the preceding utterances
    /// the text encoder reads before it (`(preceding, text)`; the preceding text is not
    /// perturbed); also says where the time went.
    #[allow(clippy::too_many_arguments)]
    pub fn explain_words_of(
        &self,
        inputs: &[UtteranceInput],
        (preceding, text): (&str, &str),
        i: usize,
        label: Option<Emotion>,
        samples: usize,
        seed: u64,
        cancel: &CancelToken,
    ) -> Result<(WordExplanation, Timing)> {
        let started = Instant::now();
        let context = InContext::new(self, inputs, i)?;
        let label = context.label(label);
        let encode = Cell::new(0.0);
        let classifier = |texts: &[String]| -> Result<Vec<Vec<f64>>> {
            cancel.check()?;
            let t = Instant::now();
            let items: Vec<(&str, &str)> = texts.iter().map(|t| (preceding, t.as_str())).collect();
            let encoded = self.encoders.text.encode_after(&items)?;
            encode.set(encode.get() + t.elapsed().as_secs_f64());
            let variants = encoded
                .into_iter()
                .map(|f| UtteranceInput {
                    text: Some(f.tokens),
                    ..context.original()
                })
                .collect();
            context.classify(variants)
        };
        let cfg = LimeConfig {
            num_samples: samples.max(2),
            seed,
            batch_size: CLASSIFIER_BATCH,
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
        let pieces = result
            .features
            .pieces()
            .iter()
            .map(|(range, feature)| {
                let weight = feature.and_then(|f| exp.selected_weight(f));
                (text[range.clone()].to_owned(), weight)
            })
            .collect();
        let seconds = started.elapsed().as_secs_f64();
        let timing = Timing {
            encode: encode.get(),
            model: context.model_seconds.get(),
            total: seconds,
        };
        Ok((
            WordExplanation {
                utterance: i,
                pieces,
                top: exp.weights.iter().map(|(f, w)| (words[*f].clone(), *w)).collect(),
                fit: Fit::new(label, exp, cfg.num_samples, result.neighbourhood.evaluated, seconds),
            },
            timing,
        ))
    }
}
