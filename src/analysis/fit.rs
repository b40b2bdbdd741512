//! What every model-level LIME explanation says about its local model, whatever it perturbs
//! (words, audio segments): the label explained, the surrogate's intercept, its weighted R²
//! and its prediction at the instance (LIME's g(z') = w·z' + b, Eq. 1 of Ribeiro et al.,
//! the paper's Section IV-D), and what it cost.
//!
//! Why one struct: the word and segment explanations carried these seven fields twice, and
//! the CLI printed them through two copies of the same call. It is flattened into its owner
//! when serialised, so their JSON keeps its flat shape.

use serde::{Deserialize, Serialize};

use crate::emotion::Emotion;
use crate::lime::Explanation;

/// The local model's fit and the explanation's cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// The class explained (the prediction unless another was asked for).
    pub label: Emotion,
    /// The surrogate's prediction with every selected feature switched off.
    pub intercept: f64,
    /// Weighted R² of the local model on the neighbourhood.
    pub score: f64,
    /// The surrogate's prediction for the unperturbed instance.
    pub local_pred: f64,
    /// Samples drawn (the neighbourhood's size, instance included).
    pub samples: usize,
    /// Distinct perturbations evaluated (each one encoder pass).
    pub evaluated: usize,
    /// Wall-clock seconds of the whole explanation.
    pub seconds: f64,
}

impl Fit {
    /// The fit of LIME's explanation `e` of `label`.
    pub fn new(label: Emotion, e: &Explanation, samples: usize, evaluated: usize, seconds: f64) -> Self {
        Self {
            label,
            intercept: e.intercept,
            score: e.score,
            local_pred: e.local_pred,
            samples,
            evaluated,
            seconds,
        }
    }
}
