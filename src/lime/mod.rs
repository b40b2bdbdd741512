//! LIME explanations (Ribeiro et al. 2016), faithful to the reference implementation
//! `marcotcr/lime` 0.2.0.1 with its default settings.
//!
//! Why a re-implementation rather than calling Python: the app is a single Rust binary and the
//! model is only reachable in-process (LibTorch through `tch`), so the explainer must be too.
//! The engine is model-agnostic: the classifier is any closure that maps a batch of perturbed
//! inputs to class probabilities, which keeps this module free of `tch` and testable with toy
//! classifiers whose true local weights are known.
//!
//! Layout:
//! - [`engine`]: the core (sampling of binary masks, kernel, feature selection, weighted ridge,
//!   weighted R², local prediction) plus batched, de-duplicated evaluation of a classifier.
//! - [`text`]: words as features (`\W+` splitting, bag of words), perturbation by removal.
//! - [`image`]: superpixels (SLIC) as features, perturbation by mean-colour fill, overlays.
//! - [`audio`]: time segments of an utterance's audio as features, perturbation by silence.
//! - [`face_regions`]: facial regions where the paper's action units act, from landmarks.

pub mod audio;
pub mod engine;
pub mod face_regions;
pub mod image;
mod ridge;
pub mod slic;
pub mod text;

use serde::{Deserialize, Serialize};

pub use self::engine::{explain, FeatureSelection, Labels, LimeConfig, LimeError, Neighbourhood};

/// Fewest LIME samples accepted: below this the weighted ridge fit of a few dozen features is
/// noise (two samples gave every weight +0.0000).
pub const MIN_SAMPLES: usize = 100;
/// Most LIME samples accepted: the masks and the perturbed inputs are held in memory
/// (40 million samples aborted on allocation); 20× the reference's default of 5000.
pub const MAX_SAMPLES: usize = 100_000;

/// `samples` if it is within [`MIN_SAMPLES`]..=[`MAX_SAMPLES`], else a message that says so.
pub fn check_samples(samples: usize) -> Result<usize, String> {
    if (MIN_SAMPLES..=MAX_SAMPLES).contains(&samples) {
        Ok(samples)
    } else {
        Err(format!(
            "--samples {samples} is out of range: LIME needs at least {MIN_SAMPLES} samples for a meaningful \
             fit and at most {MAX_SAMPLES} fit in memory (the reference's default is 5000)"
        ))
    }
}

/// The local linear model LIME fits for one class label.
///
/// This is the reference's `(intercept, local_exp, score, local_pred)` tuple for one label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Class index (column of the classifier's output) this model explains.
    pub label: usize,
    /// Intercept of the weighted ridge model: the predicted probability with every
    /// selected feature switched off.
    pub intercept: f64,
    /// `(feature index, weight)` for the selected features, sorted by |weight| descending
    /// (ties keep selection order, as Python's stable `sorted` does).
    pub weights: Vec<(usize, f64)>,
    /// Kernel-weighted R² of the local model on the neighbourhood: how faithful it is there.
    pub score: f64,
    /// The local model's prediction for the unperturbed instance (all features on); compare
    /// with the classifier's own probability to judge the fit at the point being explained.
    pub local_pred: f64,
}

impl Explanation {
    /// Weight of one feature, or `None` when it was not selected.
    pub fn selected_weight(&self, feature: usize) -> Option<f64> {
        self.weights.iter().find(|(f, _)| *f == feature).map(|(_, w)| *w)
    }

    /// Weight of one feature, or 0 when it was not selected.
    pub fn weight_of(&self, feature: usize) -> f64 {
        self.selected_weight(feature).unwrap_or(0.0)
    }
}
