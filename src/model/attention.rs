//! Masked attention used by the unimodal self-attention (Section III-A) and the MAN (Eq. 1).

use tch::{Kind, Tensor};

/// Large negative used instead of −∞ so that a row with no valid key gives zeros, not NaN.
const NEG: f64 = -1e9;

/// Scaled dot-product attention over the last two dims: `q [.., Lq, d]`, `k, v [.., Lk, d]`,
/// `key_mask [.., Lk]` (true = real) broadcast over queries. Rows whose keys are all masked
/// return zeros.
pub fn attend(q: &Tensor, k: &Tensor, v: &Tensor, key_mask: &Tensor) -> Tensor {
    let d = *q.size().last().expect("q has a last dim") as f64;
    let scores = q.matmul(&k.transpose(-2, -1)) / d.sqrt();
    let mask = key_mask.unsqueeze(-2); // [.., 1, Lk]
    let scores = scores.masked_fill(&mask.logical_not(), NEG);
    let weights = scores.softmax(-1, Kind::Float) * mask.to_kind(Kind::Float);
    weights.matmul(v)
}

/// Split `[B, L, heads·dh]` into `[B, heads, L, dh]`.
pub fn split_heads(x: &Tensor, heads: i64) -> Tensor {
    let (b, l, d) = (x.size()[0], x.size()[1], x.size()[2]);
    x.view([b, l, heads, d / heads]).transpose(1, 2)
}

/// Merge `[B, heads, L, dh]` back into `[B, L, heads·dh]`.
pub fn merge_heads(x: &Tensor) -> Tensor {
    let (b, h, l, dh) = (x.size()[0], x.size()[1], x.size()[2], x.size()[3]);
    x.transpose(1, 2).contiguous().view([b, l, h * dh])
}

/// Mean over the valid positions: `x [B, L, d]`, `mask [B, L]` → `[B, d]` (zeros when none).
pub fn masked_mean(x: &Tensor, mask: &Tensor) -> Tensor {
    let m = mask.to_kind(Kind::Float).unsqueeze(-1);
    (x * &m).sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
        / m.sum_dim_intlist([1i64].as_slice(), false, Kind::Float).clamp_min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn attention_matches_a_hand_computed_case() {
        // One query [1,0]; keys [1,0] and [0,1]; values 10 and 20; d = 2.
        let q = Tensor::from_slice(&[1f32, 0.0]).view([1, 1, 2]);
        let k = Tensor::from_slice(&[1f32, 0.0, 0.0, 1.0]).view([1, 2, 2]);
        let v = Tensor::from_slice(&[10f32, 20.0]).view([1, 2, 1]);
        let all = Tensor::from_slice(&[true, true]).view([1, 2]);
        let out = attend(&q, &k, &v, &all).double_value(&[0, 0, 0]);
        let w1 = (1.0f64 / 2f64.sqrt()).exp();
        let expected = (10.0 * w1 + 20.0) / (w1 + 1.0);
        assert!((out - expected).abs() < 1e-5, "{out} vs {expected}");
        let first_only = Tensor::from_slice(&[true, false]).view([1, 2]);
        assert!((attend(&q, &k, &v, &first_only).double_value(&[0, 0, 0]) - 10.0).abs() < 1e-5);
        let none = Tensor::from_slice(&[false, false]).view([1, 2]);
        assert_eq!(attend(&q, &k, &v, &none).double_value(&[0, 0, 0]), 0.0);
    }

    #[test]
    fn heads_round_trip_and_masked_mean() {
        let x = Tensor::randn([2, 3, 8], (Kind::Float, Device::Cpu));
        assert_eq!(merge_heads(&split_heads(&x, 4)).eq_tensor(&x).all().int64_value(&[]), 1);
        let m = Tensor::from_slice(&[true, true, false, false, false, false]).view([2, 3]);
        let mean = masked_mean(&x, &m);
        let expected = (x.get(0).get(0) + x.get(0).get(1)) / 2.0;
        assert!((mean.get(0) - expected).abs().max().double_value(&[]) < 1e-6);
        assert_eq!(mean.get(1).abs().sum(Kind::Float).double_value(&[]), 0.0);
    }
}
