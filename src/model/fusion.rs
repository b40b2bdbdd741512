//! Adaptive Fusion (Section III-C, Eq. 2) and the learning of its coefficients (III-E2, Eq. 6).
//!
//! `A(u) = ⊕_m ( mean_{m_i ≠ m} [ α^m_{m_i} f_CA^{m_i} + (1 − α^m_{m_i}) f_CA^m ] )`
//!
//! with one `α ∈ [0, 1]` per ordered modality pair. The mean runs over the peripherals the
//! utterance actually has (the authors' code divides by their number; the paper's `1/|M|`
//! would shrink descriptors of utterances with missing modalities). A modality the
//! utterance lacks contributes a zero block, so the classifier always sees `3·d` inputs.

use tch::nn;
use tch::{Kind, Tensor};

use super::config::FusionMode;

#[derive(Debug)]
pub struct AdaptiveFusion {
    /// `[M, M]`: `alpha[m][m_i]`, diagonal unused.
    pub alpha: Tensor,
    pub mode: FusionMode,
}

impl AdaptiveFusion {
    /// `modalities` = M. Learned α start uniform(0,1) (the authors' initialisation);
    /// RandomFixed draws them once from the VarStore's seeded RNG and freezes them.
    pub fn new(vs: nn::Path, modalities: i64, mode: FusionMode) -> Self {
        let init = match mode {
            // Eq. 6 starts from the equal split and moves α between epochs.
            FusionMode::Equal | FusionMode::Guided => nn::Init::Const(0.5),
            FusionMode::RandomFixed | FusionMode::Learned => nn::Init::Uniform { lo: 0.0, up: 1.0 },
        };
        let mut alpha = vs.var("alpha", &[modalities, modalities], init);
        if mode != FusionMode::Learned {
            alpha = alpha.set_requires_grad(false);
        }
        Self { alpha, mode }
    }

    /// Keep α in [0, 1] after an optimiser step (projected gradient).
    pub fn project(&self) {
        tch::no_grad(|| {
            let _ = self.alpha.shallow_clone().clamp_(0.0, 1.0);
        });
    }

    /// `f [B, M, d]` Central descriptors, `present [B, M]` (0/1) → `[B, M·d]`.
    pub fn forward(&self, f: &Tensor, present: &Tensor) -> Tensor {
        fuse(f, present, &self.alpha.clamp(0.0, 1.0))
    }

    /// Blend an Eq. 6 estimate for the pair `(m, m_i)` into α with `rate` (an exponential
    /// moving average, so one noisy pool does not overwrite what earlier epochs found),
    /// clamped to [0, 1]. Returns the new α.
    pub fn guided_update(&self, m: i64, mi: i64, estimate: f64, rate: f64) -> f64 {
        tch::no_grad(|| {
            let current = self.alpha.double_value(&[m, mi]);
            let next = ((1.0 - rate) * current + rate * estimate).clamp(0.0, 1.0);
            let _ = self.alpha.get(m).get(mi).fill_(next);
            next
        })
    }
}

/// Eq. 2 with explicit coefficients (exposed for tests and explanations).
pub fn fuse(f: &Tensor, present: &Tensor, alpha: &Tensor) -> Tensor {
    let m = f.size()[1];
    let mut blocks = Vec::with_capacity(m as usize);
    for c in 0..m {
        let fc = f.select(1, c);
        let mut sum = Tensor::zeros_like(&fc);
        let mut count = Tensor::zeros([f.size()[0]], (Kind::Float, f.device()));
        for p in (0..m).filter(|&p| p != c) {
            let a = alpha.get(c).get(p);
            let w = present.select(1, p);
            sum += (f.select(1, p) * &a + &fc * (1.0 - &a)) * w.unsqueeze(1);
            count += w;
        }
        // No peripheral: the modality's own descriptor.
        let own = &fc * count.eq(0.0).to_kind(Kind::Float).unsqueeze(1);
        let block = sum / count.clamp_min(1.0).unsqueeze(1) + own;
        blocks.push(block * present.select(1, c).unsqueeze(1));
    }
    Tensor::cat(&blocks, 1)
}

/// Eq. 6 per row: the coefficient α' of `u' = α' f^{m1} + (1 − α') f^{m2}`, from the
/// gradient `grad` of the Central head `Q_{m2}`'s loss at `f^{m2}` (rows `[N, d]` → `[N]`).
///
/// Eq. 6 writes α' as the step `ε ‖f^{m1} − f^{m2}‖ ∇/‖∇‖`, divided element-wise by
/// `f^{m1} − f^{m2}`. A scalar α' cannot match every element; its least-squares solution
/// is `ε ‖diff‖ (∇̂·diff)/‖diff‖² = ε cos(∇, diff)`. We take the descent step (−∇), so
/// α' > 0 exactly when moving `f^{m2}` toward `f^{m1}` lowers `Q_{m2}`'s loss, and clamp to
/// [0, 1] (α' = 0: keep `f^{m2}`; the interpolation cannot leave the segment).
pub fn eq6_rows(f_m2: &Tensor, f_m1: &Tensor, grad: &Tensor, epsilon: f64) -> Tensor {
    let diff = f_m1 - f_m2;
    let dot = (&diff * grad).sum_dim_intlist([-1i64].as_slice(), false, Kind::Float);
    let norms =
        diff.norm_scalaropt_dim(2, [-1i64].as_slice(), false) * grad.norm_scalaropt_dim(2, [-1i64].as_slice(), false);
    (dot / norms.clamp_min(1e-12) * -epsilon).clamp(0.0, 1.0)
}

/// The mean of [`eq6_rows`] over a batch (0 for an empty batch).
pub fn eq6_alpha(f_m2: &Tensor, f_m1: &Tensor, grad: &Tensor, epsilon: f64) -> f64 {
    if f_m2.numel() == 0 {
        return 0.0;
    }
    eq6_rows(f_m2, f_m1, grad, epsilon).mean(Kind::Double).double_value(&[])
}

/// The three modalities' weights recovered from the pairwise chain of III-E2:
/// `u'_1 = α'_1 f^{m1} + (1 − α'_1) f^{m2}`, `u'_2 = α'_2 u'_1 + (1 − α'_2) f^{m3}` give
/// `α_{m1} = α'_1 α'_2`, `α_{m2} = α'_2 (1 − α'_1)`, `α_{m3} = 1 − α'_2` (they sum to 1).
pub fn chain_weights(a1: f64, a2: f64) -> [f64; 3] {
    [a1 * a2, a2 * (1.0 - a1), 1.0 - a2]
}

/// Eq. 2's per-pair α of a block whose own modality is `m3` with peripherals `m1, m2`,
/// from chain weights `w`: Eq. 2 gives `m_i` the weight `α^{m3}_{m_i} / 2` (the mean over
/// two peripherals), so `α = 2 w`, clamped to [0, 1] (exact whenever `w_{m_i} ≤ 1/2`).
pub fn pair_alphas_from_chain(w: [f64; 3]) -> [f64; 2] {
    [(2.0 * w[0]).clamp(0.0, 1.0), (2.0 * w[1]).clamp(0.0, 1.0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eq2_matches_a_hand_computed_case() {
        // B=1, M=3, d=1: f = [1, 2, 4]; alpha[0][1]=0.5, alpha[0][2]=0.25, alpha[1][0]=1, alpha[1][2]=0,
        // alpha[2][0]=0, alpha[2][1]=0.5.
        let f = Tensor::from_slice(&[1f32, 2.0, 4.0]).view([1, 3, 1]);
        let alpha = Tensor::from_slice(&[0f32, 0.5, 0.25, 1.0, 0.0, 0.0, 0.0, 0.5, 0.0]).view([3, 3]);
        let all = Tensor::ones([1, 3], (Kind::Float, tch::Device::Cpu));
        let out: Vec<f32> = fuse(&f, &all, &alpha).view([-1]).try_into().unwrap();
        // m=0: mean(0.5*2+0.5*1, 0.25*4+0.75*1) = mean(1.5, 1.75) = 1.625
        // m=1: mean(1*1+0*2, 0*4+1*2) = mean(1, 2) = 1.5
        // m=2: mean(0*1+1*4, 0.5*2+0.5*4) = mean(4, 3) = 3.5
        assert_eq!(out, vec![1.625, 1.5, 3.5]);
        // Without the third modality: its block is zero and the others average one peripheral.
        let two = Tensor::from_slice(&[1f32, 1.0, 0.0]).view([1, 3]);
        let out: Vec<f32> = fuse(&f, &two, &alpha).view([-1]).try_into().unwrap();
        assert_eq!(out, vec![1.5, 1.0, 0.0]);
        // Alone: the modality's own descriptor.
        let one = Tensor::from_slice(&[1f32, 0.0, 0.0]).view([1, 3]);
        let out: Vec<f32> = fuse(&f, &one, &alpha).view([-1]).try_into().unwrap();
        assert_eq!(out, vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn alpha_is_kept_in_unit_interval() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let af = AdaptiveFusion::new(vs.root(), 3, FusionMode::Learned);
        tch::no_grad(|| {
            let _ = af.alpha.shallow_clone().fill_(3.0);
        });
        af.project();
        assert_eq!(af.alpha.max().double_value(&[]), 1.0);
        let next = af.guided_update(0, 1, 3.0, 1.0);
        assert_eq!(next, 1.0);
    }

    #[test]
    fn eq6_by_hand_and_its_direction() {
        // f^{m2} = 0, f^{m1} = (1, 1): diff = (1, 1).
        let f_m2 = Tensor::from_slice(&[0f32, 0.0]).view([1, 2]);
        let f_m1 = Tensor::from_slice(&[1f32, 1.0]).view([1, 2]);
        // ∇ = (−5, −5): the loss falls toward f^{m1}; cos(∇, diff) = −1 → α' = ε.
        let down = Tensor::from_slice(&[-5f32, -5.0]).view([1, 2]);
        assert!((eq6_alpha(&f_m2, &f_m1, &down, 0.3) - 0.3).abs() < 1e-6);
        // ∇ = (−3, 0): cos = −1/√2 → α' = 0.5/√2.
        let half = Tensor::from_slice(&[-3f32, 0.0]).view([1, 2]);
        assert!((eq6_alpha(&f_m2, &f_m1, &half, 0.5) - 0.5 / 2f64.sqrt()).abs() < 1e-6);
        // The loss rises toward f^{m1}: keep f^{m2} (α' = 0).
        let up = Tensor::from_slice(&[5f32, 5.0]).view([1, 2]);
        assert_eq!(eq6_alpha(&f_m2, &f_m1, &up, 0.3), 0.0);
    }

    #[test]
    fn chain_recovers_weights_that_sum_to_one() {
        let w = chain_weights(0.25, 0.8);
        assert!((w[0] - 0.2).abs() < 1e-12 && (w[1] - 0.6).abs() < 1e-12 && (w[2] - 0.2).abs() < 1e-12);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // Eq. 2 halves each peripheral's α: 0.2 → 0.4; 0.6 → 1.2, clamped to 1.
        assert_eq!(pair_alphas_from_chain(w), [0.4, 1.0]);
    }
}
