//! Learning objectives (Section III-E, Eq. 3–5).
//!
//! * Focal loss (Eq. 5) on each Central head. The paper prints `(1 − p)^γ p`; the focal
//!   loss it cites (Lin et al.) is `−(1 − p)^γ log p`, which is what is implemented.
//! * The aggregated cross-modal NCE (Eq. 3–4): for an utterance, its descriptors in two
//!   modalities are a positive pair; descriptors of other utterances (uniformly sampled)
//!   are negatives. Implemented in the InfoNCE form with a temperature (the authors used
//!   temperature 0.07 and a memory bank; negatives here come from the batch).
//! * The utterance-level classification loss of the context classifier.

use tch::{Kind, Tensor};

/// Mean focal loss over rows with a label (`labels < 0` are ignored).
pub fn focal(logits: &Tensor, labels: &Tensor, gamma: f64, row_weight: Option<&Tensor>) -> Tensor {
    let valid = labels.ge(0);
    let safe = labels.clamp_min(0);
    let logp = logits
        .log_softmax(-1, Kind::Float)
        .gather(1, &safe.unsqueeze(1), false)
        .squeeze_dim(1);
    let p = logp.exp();
    let mut w = valid.to_kind(Kind::Float);
    if let Some(rw) = row_weight {
        w *= rw;
    }
    let per: Tensor = (p.neg() + 1.0).pow_tensor_scalar(gamma) * &logp * &w;
    let per = per.neg();
    per.sum(Kind::Float) / w.sum(Kind::Float).clamp_min(1e-8)
}

/// InfoNCE between two modalities' descriptors `a, b [B, d]` for rows where both exist
/// (`both [B]` 0/1): the positive of row i is `b[i]`; `negatives` other rows of `b` are
/// drawn uniformly (LibTorch's generator: seed it with `tch::manual_seed`) as noise. Returns 0 when fewer than two
/// rows qualify.
pub fn nce(a: &Tensor, b: &Tensor, both: &Tensor, temperature: f64, negatives: i64) -> Tensor {
    let rows = both.gt(0.5).nonzero().squeeze_dim(1);
    let n = rows.size()[0];
    if n < 2 {
        return Tensor::zeros([], (Kind::Float, a.device()));
    }
    let a = l2(&a.index_select(0, &rows));
    let b = l2(&b.index_select(0, &rows));
    let k = negatives.min(n - 1).max(1);
    // Uniform negatives ≠ i: offsets 1..n-1 added modulo n.
    let g = tch::Tensor::randint_low(1, n, [n, k], (Kind::Int64, a.device()));
    let neg_idx = (Tensor::arange(n, (Kind::Int64, a.device())).unsqueeze(1) + g).remainder(n);
    let pos = (&a * &b)
        .sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
        .unsqueeze(1);
    let neg = a
        .unsqueeze(1)
        .matmul(&b.index_select(0, &neg_idx.view([-1])).view([n, k, -1]).transpose(1, 2))
        .squeeze_dim(1);
    let logits = Tensor::cat(&[pos, neg], 1) / temperature;
    logits.log_softmax(-1, Kind::Float).select(1, 0).neg().mean(Kind::Float)
}

fn l2(x: &Tensor) -> Tensor {
    x / x.norm_scalaropt_dim(2, [-1i64].as_slice(), true).clamp_min(1e-8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn focal_matches_hand_computation_and_reduces_to_cross_entropy() {
        // Two classes, logits [0, ln 3] → p(class 1) = 0.75.
        let logits = Tensor::from_slice(&[0f32, 3f32.ln()]).view([1, 2]);
        let y = Tensor::from_slice(&[1i64]);
        let l = focal(&logits, &y, 2.0, None).double_value(&[]);
        let expected = -(0.25f64).powi(2) * 0.75f64.ln();
        assert!((l - expected).abs() < 1e-6, "{l} vs {expected}");
        let ce = focal(&logits, &y, 0.0, None).double_value(&[]);
        assert!((ce + 0.75f64.ln()).abs() < 1e-6);
        // Unlabelled rows are ignored.
        let logits2 = Tensor::from_slice(&[0f32, 3f32.ln(), 5.0, -5.0]).view([2, 2]);
        let y2 = Tensor::from_slice(&[1i64, -1]);
        assert!((focal(&logits2, &y2, 2.0, None).double_value(&[]) - expected).abs() < 1e-6);
    }

    #[test]
    fn nce_is_low_for_aligned_pairs_and_matches_hand_computation() {
        // Two rows, orthogonal unit vectors, aligned across modalities; 1 negative each.
        let a = Tensor::from_slice(&[1f32, 0.0, 0.0, 1.0]).view([2, 2]);
        let both = Tensor::ones([2], (Kind::Float, Device::Cpu));
        let l = nce(&a, &a, &both, 1.0, 1).double_value(&[]);
        // pos = 1, neg = 0 → -log(e / (e + 1)).
        let expected = -(1f64.exp() / (1f64.exp() + 1.0)).ln();
        assert!((l - expected).abs() < 1e-6, "{l} vs {expected}");
        let swapped = Tensor::from_slice(&[0f32, 1.0, 1.0, 0.0]).view([2, 2]);
        assert!(nce(&a, &swapped, &both, 1.0, 1).double_value(&[]) > l);
        let one = Tensor::from_slice(&[1f32, 0.0]);
        assert_eq!(nce(&a, &a, &one, 1.0, 1).double_value(&[]), 0.0);
    }
}
