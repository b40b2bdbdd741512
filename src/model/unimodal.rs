//! Unimodal self-attended representation (Section III-A): one generic encoder configured
//! per modality — text (MPNet token states), audio (Whisper/aisfx frames) and visual (face
//! and back-frame sequences, two Bi-LSTMs whose outputs are attended jointly over 2n
//! positions).
//!
//! Each input stream goes through its own Bi-LSTM (`d/2` per direction), the streams are
//! concatenated along time, then `M` self-attention layers apply
//! `w_{m+1} = linear(softmax(w_m w_mᵀ / √d) w_m)` over the valid positions.

use tch::nn::{self, Module};
use tch::Tensor;

use super::attention::attend;
use super::bilstm::{valid_mask, BiLstm};

/// One input stream of a modality: `x [B, L, dim]` with `lengths [B]`.
pub struct Stream<'a> {
    pub x: &'a Tensor,
    pub lengths: &'a Tensor,
}

#[derive(Debug)]
pub struct UnimodalEncoder {
    lstms: Vec<BiLstm>,
    sa: Vec<nn::Linear>,
    dropout: f64,
}

impl UnimodalEncoder {
    /// An encoder with one Bi-LSTM per input stream (`input_dims`), output width `hidden`.
    pub fn new(vs: nn::Path, input_dims: &[i64], hidden: i64, sa_layers: usize, dropout: f64) -> Self {
        let lstms = input_dims
            .iter()
            .enumerate()
            .map(|(i, &d)| BiLstm::new(&vs / format!("lstm{i}"), d, hidden / 2))
            .collect();
        let sa = (0..sa_layers)
            .map(|m| nn::linear(&vs / format!("sa{m}"), hidden, hidden, Default::default()))
            .collect();
        Self { lstms, sa, dropout }
    }

    /// `[B, L_total, hidden]` descriptors and their `[B, L_total]` validity mask.
    pub fn forward(&self, streams: &[Stream<'_>], train: bool) -> (Tensor, Tensor) {
        assert_eq!(streams.len(), self.lstms.len(), "one stream per Bi-LSTM");
        let mut parts = Vec::with_capacity(streams.len());
        let mut masks = Vec::with_capacity(streams.len());
        for (lstm, s) in self.lstms.iter().zip(streams) {
            parts.push(lstm.forward(s.x, s.lengths));
            masks.push(valid_mask(s.lengths, s.x.size()[1]));
        }
        let mut w = Tensor::cat(&parts, 1).dropout(self.dropout, train);
        let mask = Tensor::cat(&masks, 1);
        let valid = mask.to_kind(tch::Kind::Float).unsqueeze(-1);
        for layer in &self.sa {
            w = layer.forward(&attend(&w, &w, &w, &mask)) * &valid;
        }
        (w, mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn visual_configuration_attends_over_both_streams() {
        let vs = nn::VarStore::new(Device::Cpu);
        let enc = UnimodalEncoder::new(vs.root(), &[5, 7], 8, 2, 0.0);
        let face = Tensor::randn([2, 4, 5], (Kind::Float, Device::Cpu));
        let back = Tensor::randn([2, 4, 7], (Kind::Float, Device::Cpu));
        let (fl, bl) = (Tensor::from_slice(&[4i64, 0]), Tensor::from_slice(&[4i64, 3]));
        let (w, mask) = enc.forward(
            &[Stream { x: &face, lengths: &fl }, Stream { x: &back, lengths: &bl }],
            false,
        );
        assert_eq!(w.size(), [2, 8, 8]);
        assert_eq!(i64::try_from(mask.sum(Kind::Int64)).unwrap(), 4 + 4 + 3);
        // No face in the second item: its face positions are masked and zero.
        assert_eq!(w.get(1).narrow(0, 0, 4).abs().sum(Kind::Float).double_value(&[]), 0.0);
        assert!(w.get(1).narrow(0, 4, 3).abs().sum(Kind::Float).double_value(&[]) > 0.0);
    }
}
