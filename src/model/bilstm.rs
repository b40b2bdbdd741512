//! A bidirectional LSTM over padded sequences whose outputs do not depend on padding.
//!
//! LibTorch's bidirectional LSTM on a padded batch reads the padding first in its backward
//! direction, so an utterance's features would change with whatever it is batched with —
//! and a prediction in the viewer would differ from the same utterance in a LIME batch.
//! Here the backward direction is a forward LSTM over each sequence reversed *within its
//! own length*, so padding always trails and never reaches a real position.

use tch::nn::{self, RNN};
use tch::{Kind, Tensor};

#[derive(Debug)]
pub struct BiLstm {
    fwd: nn::LSTM,
    bwd: nn::LSTM,
    pub hidden: i64,
}

impl BiLstm {
    /// Output size is `2 * hidden`.
    pub fn new(vs: nn::Path, input: i64, hidden: i64) -> Self {
        let cfg = nn::RNNConfig {
            batch_first: true,
            ..Default::default()
        };
        Self {
            fwd: nn::lstm(&vs / "fwd", input, hidden, cfg),
            bwd: nn::lstm(&vs / "bwd", input, hidden, cfg),
            hidden,
        }
    }

    /// `x [B, L, input]`, `lengths [B]` (int64) → `[B, L, 2·hidden]`, zero at padded positions.
    pub fn forward(&self, x: &Tensor, lengths: &Tensor) -> Tensor {
        let (b, l) = (x.size()[0], x.size()[1]);
        if l == 0 {
            return Tensor::zeros([b, 0, 2 * self.hidden], (Kind::Float, x.device()));
        }
        let rev = reverse_index(lengths, l); // [B, L]
        let gather = |t: &Tensor| t.gather(1, &rev.unsqueeze(-1).expand([b, l, t.size()[2]], false), false);
        let (f, _) = self.fwd.seq(x);
        let (r, _) = self.bwd.seq(&gather(x));
        let out = Tensor::cat(&[f, gather(&r)], 2);
        out * valid_mask(lengths, l).unsqueeze(-1).to_kind(Kind::Float)
    }
}

/// `[B, L]` index that reverses each row's first `len` positions and keeps the rest.
pub fn reverse_index(lengths: &Tensor, l: i64) -> Tensor {
    let t = Tensor::arange(l, (Kind::Int64, lengths.device())).unsqueeze(0);
    let len = lengths.to_kind(Kind::Int64).unsqueeze(1);
    let reversed = &len - 1 - &t;
    reversed.where_self(&t.lt_tensor(&len), &t.expand_as(&reversed))
}

/// `[B, L]` bool mask of real positions.
pub fn valid_mask(lengths: &Tensor, l: i64) -> Tensor {
    Tensor::arange(l, (Kind::Int64, lengths.device()))
        .unsqueeze(0)
        .lt_tensor(&lengths.to_kind(Kind::Int64).unsqueeze(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn, Device};

    #[test]
    fn reverse_index_reverses_within_length() {
        let idx = reverse_index(&Tensor::from_slice(&[3i64, 1, 0]), 4);
        let rows: Vec<Vec<i64>> = (0..3).map(|i| Vec::<i64>::try_from(idx.get(i)).unwrap()).collect();
        assert_eq!(rows, vec![vec![2, 1, 0, 3], vec![0, 1, 2, 3], vec![0, 1, 2, 3]]);
    }

    #[test]
    fn outputs_do_not_depend_on_padding_or_batch_companions() {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let lstm = BiLstm::new(vs.root(), 3, 4);
        let a = Tensor::randn([1, 2, 3], (Kind::Float, Device::Cpu));
        let alone = lstm.forward(&a, &Tensor::from_slice(&[2i64]));
        let long = Tensor::randn([1, 5, 3], (Kind::Float, Device::Cpu));
        let padded_a = Tensor::cat(
            &[
                a.shallow_clone(),
                Tensor::full([1, 3, 3], 9.0, (Kind::Float, Device::Cpu)),
            ],
            1,
        );
        let batch = Tensor::cat(&[padded_a, long], 0);
        let together = lstm.forward(&batch, &Tensor::from_slice(&[2i64, 5]));
        let diff = (together.get(0).narrow(0, 0, 2) - alone.get(0))
            .abs()
            .max()
            .double_value(&[]);
        assert!(diff < 1e-6, "diff {diff}");
        assert_eq!(
            together.get(0).narrow(0, 2, 3).abs().sum(Kind::Float).double_value(&[]),
            0.0
        );
    }
}
