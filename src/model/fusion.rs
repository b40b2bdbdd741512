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
            FusionMode::Equal => nn::Init::Const(0.5),
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

    /// Eq. 6: move α for the pair `(m, m_i)` toward the interpolation that the loss gradient
    /// at `f^m` points to. `grad_m` is ∇_{f^m} L of the Central head of `m` for a batch;
    /// the per-element ratio of Eq. 6 is averaged over elements and batch, scaled by ε, and
    /// blended into α with `rate` (an exponential moving average), then clamped to [0, 1].
    #[allow(clippy::too_many_arguments)]
    pub fn guided_update(
        &self,
        m: i64,
        mi: i64,
        f_m: &Tensor,
        f_mi: &Tensor,
        grad_m: &Tensor,
        epsilon: f64,
        rate: f64,
    ) -> f64 {
        let estimate = eq6_alpha(f_m, f_mi, grad_m, epsilon);
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

/// The scalar α' of Eq. 6 for interpolating from `f_m` toward `f_mi`:
/// `ε · ‖f_mi − f_m‖₂ · ∇ / ‖∇‖₂ ⊘ (f_mi − f_m)`, averaged over finite elements.
pub fn eq6_alpha(f_m: &Tensor, f_mi: &Tensor, grad_m: &Tensor, epsilon: f64) -> f64 {
    let diff = f_mi - f_m;
    let dist = diff.norm_scalaropt_dim(2, [-1i64].as_slice(), true);
    let gnorm = grad_m.norm_scalaropt_dim(2, [-1i64].as_slice(), true).clamp_min(1e-12);
    let ratio = (dist * grad_m / gnorm) / &diff;
    let keep = ratio.isfinite().logical_and(&diff.abs().gt(1e-6));
    let vals = ratio.masked_select(&keep);
    if vals.numel() == 0 {
        return 0.0;
    }
    (epsilon * vals.mean(Kind::Double).double_value(&[])).abs()
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
        let f_m = Tensor::from_slice(&[0f32, 0.0]).view([1, 2]);
        let f_mi = Tensor::from_slice(&[1f32, 1.0]).view([1, 2]);
        let g = Tensor::from_slice(&[-5f32, -5.0]).view([1, 2]);
        let next = af.guided_update(0, 1, &f_m, &f_mi, &g, 10.0, 1.0);
        assert!((0.0..=1.0).contains(&next));
        // Eq. 6 by hand: dist = √2, ∇/‖∇‖ = -1/√2 each, ratio = √2·(-1/√2)/1 = -1 → |ε·(-1)|.
        assert!((eq6_alpha(&f_m, &f_mi, &g, 0.3) - 0.3).abs() < 1e-6);
    }
}
