//! The weighted ridge regression behind every LIME explanation, and the feature selections
//! that use it (forward selection, highest weights): scikit-learn's `Ridge` with intercept
//! (alpha 1), solved on the weighted, centred Gram matrix by Cholesky with an SVD
//! pseudo-inverse fallback, so the numbers agree with the reference up to rounding.

use nalgebra::{DMatrix, DVector};

/// The kernel-weighted, centred design shared by every ridge fit of one explanation:
/// scikit-learn centres `X` and `y` on their weighted means and scales rows by √weight.
pub(crate) struct Design {
    x: DMatrix<f64>,
    y: DVector<f64>,
    x_mean: Vec<f64>,
    y_mean: f64,
    gram: DMatrix<f64>,
    xty: DVector<f64>,
    sst: f64,
    tol: f64,
}

pub(crate) struct Fit {
    pub(crate) coef: Vec<f64>,
    pub(crate) intercept: f64,
    pub(crate) r2: f64,
}

impl Design {
    pub(crate) fn new(data: &[Vec<bool>], labels: &[f64], weights: &[f64]) -> Self {
        let (n, d) = (data.len(), data[0].len());
        let sw: f64 = weights.iter().sum();
        let x_mean: Vec<f64> = (0..d)
            .map(|j| {
                data.iter()
                    .zip(weights)
                    .filter(|(r, _)| r[j])
                    .map(|(_, w)| w)
                    .sum::<f64>()
                    / sw
            })
            .collect();
        let y_mean = labels.iter().zip(weights).map(|(y, w)| y * w).sum::<f64>() / sw;
        let x = DMatrix::from_fn(n, d, |i, j| {
            weights[i].sqrt() * (f64::from(u8::from(data[i][j])) - x_mean[j])
        });
        let y = DVector::from_fn(n, |i, _| weights[i].sqrt() * (labels[i] - y_mean));
        let gram = x.tr_mul(&x);
        let xty = x.tr_mul(&y);
        let sst = y.norm_squared();
        // Below this, squared sums are rounding noise around constant labels.
        let tol = sw * (8.0 * f64::EPSILON * (1.0 + y_mean.abs())).powi(2);
        Self {
            x,
            y,
            x_mean,
            y_mean,
            gram,
            xty,
            sst,
            tol,
        }
    }

    /// Weighted ridge on the `features` columns, returning coefficients, intercept and the
    /// weighted R² on the neighbourhood (scikit-learn's `Ridge.fit` + `score`).
    pub(crate) fn fit(&self, features: &[usize], alpha: f64) -> Fit {
        let k = features.len();
        let a = DMatrix::from_fn(k, k, |r, c| {
            self.gram[(features[r], features[c])] + if r == c { alpha } else { 0.0 }
        });
        let b = DVector::from_fn(k, |r, _| self.xty[features[r]]);
        let solved = if alpha > 0.0 {
            a.clone().cholesky().map(|ch| ch.solve(&b))
        } else {
            None
        };
        let coef = solved.unwrap_or_else(|| {
            // Singular (or alpha = 0) system: minimum-norm least-squares solution.
            let svd = a.svd(true, true);
            let eps = 1e-12 * svd.singular_values.max().max(f64::MIN_POSITIVE);
            svd.solve(&b, eps).unwrap_or_else(|_| DVector::zeros(k))
        });
        let mut ssr = 0.0;
        for i in 0..self.y.len() {
            let pred: f64 = features.iter().zip(coef.iter()).map(|(&f, c)| c * self.x[(i, f)]).sum();
            ssr += (self.y[i] - pred).powi(2);
        }
        let r2 = if self.sst <= self.tol {
            if ssr <= self.tol {
                1.0
            } else {
                0.0
            }
        } else {
            1.0 - ssr / self.sst
        };
        let intercept = self.y_mean
            - features
                .iter()
                .zip(coef.iter())
                .map(|(&f, c)| c * self.x_mean[f])
                .sum::<f64>();
        Fit {
            coef: coef.iter().copied().collect(),
            intercept,
            r2,
        }
    }

    pub(crate) fn forward_selection(&self, num_features: usize) -> Vec<usize> {
        let d = self.x_mean.len();
        let mut used: Vec<usize> = Vec::new();
        for _ in 0..num_features.min(d) {
            let mut best: Option<(usize, f64)> = None;
            for f in (0..d).filter(|f| !used.contains(f)) {
                let mut trial = used.clone();
                trial.push(f);
                let r2 = self.fit(&trial, 0.0).r2;
                // Strict `>`: ties keep the lowest index, as in the reference.
                if best.is_none_or(|(_, s)| r2 > s) {
                    best = Some((f, r2));
                }
            }
            used.extend(best.map(|(f, _)| f));
        }
        used
    }

    pub(crate) fn highest_weights(&self, first_row: &[bool], num_features: usize) -> Vec<usize> {
        let all: Vec<usize> = (0..first_row.len()).collect();
        let coef = self.fit(&all, 0.01).coef;
        let mut ranked: Vec<(usize, f64)> = all
            .iter()
            .map(|&j| (j, coef[j] * f64::from(u8::from(first_row[j]))))
            .collect();
        ranked.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        ranked.into_iter().take(num_features).map(|(j, _)| j).collect()
    }
}
