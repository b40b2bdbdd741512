//! The model-agnostic LIME core, matching `lime_base.LimeBase` of the reference (0.2.0.1).
//!
//! Given a neighbourhood of binary interpretable rows (row 0 is the instance itself, all
//! features on), the classifier's probabilities for each row and each row's distance to the
//! instance, LIME weights every row with the kernel `sqrt(exp(-d²/w²))`, selects features and
//! fits a weighted ridge regression (alpha 1, with intercept) whose coefficients are the
//! explanation. The ridge is solved on the weighted, centred Gram matrix exactly as
//! scikit-learn's `Ridge(solver="cholesky")` does (falling back to a pseudo-inverse via SVD,
//! as scikit-learn falls back to its SVD solver, when the system is singular), so the numbers
//! agree with the reference up to rounding; only the random stream differs (numpy's
//! Mersenne Twister vs ChaCha8), which changes samples but not their distribution.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::ridge::Design;
use super::Explanation;

/// Error type a classifier closure may return (`anyhow::Error`, `String`, … convert into it).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How features are chosen before the final fit (the reference's `feature_selection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeatureSelection {
    /// `Forward` when `num_features ≤ 6`, else `HighestWeights` (the reference default).
    Auto,
    /// Greedily add the feature that most raises the weighted R² of an unregularised fit.
    Forward,
    /// Fit ridge (alpha 0.01) on all features, keep the largest |coef × instance value|.
    HighestWeights,
    /// Use every feature; `num_features` is ignored.
    None,
}

/// Parameters of one explanation run. [`LimeConfig::text`] and [`LimeConfig::image`] give the
/// reference's defaults for each modality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimeConfig {
    /// Neighbourhood size, including the unperturbed row 0.
    pub num_samples: usize,
    /// Maximum number of features in the explanation.
    pub num_features: usize,
    /// Width `w` of the kernel `sqrt(exp(-d²/w²))`, in the units of the distances.
    pub kernel_width: f64,
    pub feature_selection: FeatureSelection,
    /// Seed of the ChaCha8 stream used for sampling: same seed, same explanation.
    pub seed: u64,
    /// Maximum number of perturbed inputs handed to the classifier per call.
    pub batch_size: usize,
}

impl LimeConfig {
    /// `LimeTextExplainer` defaults: 5000 samples, 10 features, kernel width 25 (on cosine
    /// distance × 100). The reference classifies all samples in one call; we batch by 256.
    pub fn text() -> Self {
        Self {
            num_samples: 5000,
            num_features: 10,
            kernel_width: 25.0,
            feature_selection: FeatureSelection::Auto,
            seed: 0,
            batch_size: 256,
        }
    }

    /// `LimeImageExplainer` defaults: 1000 samples, kernel width 0.25 (plain cosine distance),
    /// batches of 10, and `num_features = 100000`, i.e. every superpixel is kept.
    pub fn image() -> Self {
        Self {
            num_samples: 1000,
            num_features: 100_000,
            kernel_width: 0.25,
            feature_selection: FeatureSelection::Auto,
            seed: 0,
            batch_size: 10,
        }
    }
}

/// Which class labels to explain (the reference's `labels` / `top_labels`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Labels {
    /// These class indices.
    Given(Vec<usize>),
    /// The `k` most probable classes for the unperturbed instance, most probable first.
    Top(usize),
}

/// Why an explanation could not be computed.
#[derive(Debug)]
pub enum LimeError {
    /// Inconsistent or unusable input (shapes, configuration, non-finite numbers).
    Invalid(String),
    /// The label is not a column of the classifier's output.
    LabelOutOfRange { label: usize, classes: usize },
    /// The classifier closure failed.
    Classifier(BoxError),
}

impl fmt::Display for LimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(msg) => write!(f, "LIME: {msg}"),
            Self::LabelOutOfRange { label, classes } => {
                write!(
                    f,
                    "LIME: label {label} out of range for a classifier with {classes} classes"
                )
            }
            Self::Classifier(e) => write!(f, "LIME: classifier failed: {e}"),
        }
    }
}

impl std::error::Error for LimeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Classifier(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

fn invalid(msg: impl Into<String>) -> LimeError {
    LimeError::Invalid(msg.into())
}

/// The random stream used for sampling; seeded so runs are reproducible.
pub fn rng_from_seed(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Text sampling (`LimeTextExplainer`): row 0 keeps all `d` features; every other row draws
/// `k` uniformly from `1..=d` and switches off `k` distinct features chosen without
/// replacement. `true` = feature present.
pub fn sample_text_masks(d: usize, n: usize, rng: &mut impl Rng) -> Vec<Vec<bool>> {
    (0..n)
        .map(|i| {
            let mut row = vec![true; d];
            if i > 0 && d > 0 {
                let k = rng.random_range(1..=d);
                for j in rand::seq::index::sample(rng, d, k) {
                    row[j] = false;
                }
            }
            row
        })
        .collect()
}

/// Image sampling (`LimeImageExplainer`): row 0 keeps all `d` features; every other bit is
/// on with probability ½, independently.
pub fn sample_image_masks(d: usize, n: usize, rng: &mut impl Rng) -> Vec<Vec<bool>> {
    (0..n)
        .map(|i| (0..d).map(|_| i == 0 || rng.random::<bool>()).collect())
        .collect()
}

/// Cosine distance of every row to row 0, as scikit-learn's `pairwise_distances(...,
/// metric="cosine")` computes it: a zero vector has similarity 0 (distance 1).
pub fn cosine_distances(data: &[Vec<bool>]) -> Vec<f64> {
    let Some(first) = data.first() else { return Vec::new() };
    let n0 = first.iter().filter(|&&b| b).count() as f64;
    data.iter()
        .map(|row| {
            let dot = row.iter().zip(first).filter(|(a, b)| **a && **b).count() as f64;
            let nr = row.iter().filter(|&&b| b).count() as f64;
            let sim = if n0 == 0.0 || nr == 0.0 {
                0.0
            } else {
                dot / (n0.sqrt() * nr.sqrt())
            };
            (1.0 - sim).clamp(0.0, 2.0)
        })
        .collect()
}

/// The reference's exponential kernel: `sqrt(exp(-d² / w²))`.
pub fn kernel(distance: f64, width: f64) -> f64 {
    (-(distance * distance) / (width * width)).exp().sqrt()
}

/// A perturbed neighbourhood and the classifier's answers, kept so that further labels (or
/// other settings) can be explained without running the model again.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbourhood {
    /// Binary interpretable rows; row 0 is the instance.
    pub data: Vec<Vec<bool>>,
    /// Classifier probabilities per row (rows × classes).
    pub probs: Vec<Vec<f64>>,
    /// Distance of each row to row 0, in the kernel's units.
    pub distances: Vec<f64>,
    /// How many distinct perturbations the classifier actually evaluated.
    pub evaluated: usize,
}

impl Neighbourhood {
    /// The classifier's probabilities for the unperturbed instance.
    pub fn predict_proba(&self) -> &[f64] {
        self.probs.first().map_or(&[], Vec::as_slice)
    }

    /// Resolves [`Labels`] against the instance's probabilities.
    pub fn resolve_labels(&self, labels: &Labels) -> Vec<usize> {
        match labels {
            Labels::Given(v) => v.clone(),
            Labels::Top(k) => {
                let p = self.predict_proba();
                let mut idx: Vec<usize> = (0..p.len()).collect();
                idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
                idx.truncate(*k);
                idx
            }
        }
    }

    /// The reference image explainer's neighbourhood over `d` segments (superpixels, audio
    /// windows): each segment on with probability ½, row 0 the instance, cosine distances
    /// to it; `perturb(mask)` builds the input the classifier sees for one row.
    pub fn of_segments<T, E: Into<BoxError>>(
        d: usize,
        cfg: &LimeConfig,
        mut perturb: impl FnMut(&[bool]) -> T,
        classifier: impl FnMut(&[T]) -> Result<Vec<Vec<f64>>, E>,
    ) -> Result<Self, LimeError> {
        let data = sample_image_masks(d, cfg.num_samples, &mut rng_from_seed(cfg.seed));
        let (probs, evaluated) = evaluate_distinct(&data, |i| perturb(&data[i]), classifier, cfg.batch_size)?;
        let distances = cosine_distances(&data);
        Ok(Self {
            data,
            probs,
            distances,
            evaluated,
        })
    }

    /// Explains each requested label on this neighbourhood.
    pub fn explain_labels(&self, labels: &Labels, cfg: &LimeConfig) -> Result<Vec<Explanation>, LimeError> {
        self.resolve_labels(labels)
            .into_iter()
            .map(|l| explain(&self.data, &self.probs, &self.distances, l, cfg))
            .collect()
    }
}

/// Runs `classifier` on the inputs `build(i)` for every row `i`, evaluating each distinct key
/// only once (identical perturbations are common when there are few features) and in batches
/// of at most `batch_size`. Returns per-row outputs and the number of distinct evaluations.
pub fn evaluate_distinct<K, T, E>(
    keys: &[K],
    mut build: impl FnMut(usize) -> T,
    mut classifier: impl FnMut(&[T]) -> Result<Vec<Vec<f64>>, E>,
    batch_size: usize,
) -> Result<(Vec<Vec<f64>>, usize), LimeError>
where
    K: Hash + Eq,
    E: Into<BoxError>,
{
    let mut first: HashMap<&K, usize> = HashMap::with_capacity(keys.len());
    let mut uniques = Vec::new();
    let slots: Vec<usize> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            *first.entry(k).or_insert_with(|| {
                uniques.push(i);
                uniques.len() - 1
            })
        })
        .collect();
    let mut outs: Vec<Vec<f64>> = Vec::with_capacity(uniques.len());
    for chunk in uniques.chunks(batch_size.max(1)) {
        let inputs: Vec<T> = chunk.iter().map(|&i| build(i)).collect();
        let got = classifier(&inputs).map_err(|e| LimeError::Classifier(e.into()))?;
        if got.len() != chunk.len() {
            return Err(invalid(format!(
                "classifier returned {} rows for {} inputs",
                got.len(),
                chunk.len()
            )));
        }
        outs.extend(got);
    }
    let classes = outs.first().map_or(0, Vec::len);
    if outs
        .iter()
        .any(|r| r.len() != classes || r.iter().any(|p| !p.is_finite()))
    {
        return Err(invalid("classifier output is ragged or not finite"));
    }
    Ok((slots.iter().map(|&s| outs[s].clone()).collect(), uniques.len()))
}

/// The LIME core (`LimeBase.explain_instance_with_data`): explains column `label` of `probs`
/// on the neighbourhood `data` (row 0 = the instance) with the given distances to row 0.
pub fn explain(
    data: &[Vec<bool>],
    probs: &[Vec<f64>],
    distances: &[f64],
    label: usize,
    cfg: &LimeConfig,
) -> Result<Explanation, LimeError> {
    let n = data.len();
    if n == 0 {
        return Err(invalid("empty neighbourhood"));
    }
    let d = data[0].len();
    if data.iter().any(|r| r.len() != d) {
        return Err(invalid("data rows have different lengths"));
    }
    if probs.len() != n || distances.len() != n {
        return Err(invalid(format!(
            "{n} rows but {} probability rows and {} distances",
            probs.len(),
            distances.len()
        )));
    }
    let classes = probs.iter().map(Vec::len).min().unwrap_or(0);
    if label >= classes {
        return Err(LimeError::LabelOutOfRange { label, classes });
    }
    if !(cfg.kernel_width.is_finite() && cfg.kernel_width > 0.0) {
        return Err(invalid(format!(
            "kernel width must be positive, got {}",
            cfg.kernel_width
        )));
    }
    let labels: Vec<f64> = probs.iter().map(|r| r[label]).collect();
    let weights: Vec<f64> = distances.iter().map(|&dist| kernel(dist, cfg.kernel_width)).collect();
    if labels.iter().chain(&weights).any(|v| !v.is_finite()) || weights.iter().sum::<f64>() <= 0.0 {
        return Err(invalid(
            "probabilities or kernel weights are not finite, or all weights vanish",
        ));
    }
    let design = Design::new(data, &labels, &weights);
    let method = match cfg.feature_selection {
        FeatureSelection::Auto if cfg.num_features <= 6 => FeatureSelection::Forward,
        FeatureSelection::Auto => FeatureSelection::HighestWeights,
        m => m,
    };
    let used = match method {
        FeatureSelection::Forward => design.forward_selection(cfg.num_features),
        FeatureSelection::HighestWeights => design.highest_weights(&data[0], cfg.num_features),
        _ => (0..d).collect(),
    };
    let fit = design.fit(&used, 1.0);
    let local_pred = fit.intercept
        + used
            .iter()
            .zip(&fit.coef)
            .filter(|(&f, _)| data[0][f])
            .map(|(_, c)| c)
            .sum::<f64>();
    let mut weights: Vec<(usize, f64)> = used.into_iter().zip(fit.coef).collect();
    weights.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    Ok(Explanation {
        label,
        intercept: fit.intercept,
        weights,
        score: fit.r2,
        local_pred,
    })
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
