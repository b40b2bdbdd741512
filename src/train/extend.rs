//! Adding a modality to a trained checkpoint without changing what it predicts from the
//! modalities it already had (`amuse train --extend DIR`).
//!
//! Why: trained jointly on MELD (text only here) and RAVDESS (text + audio), the default
//! checkpoint's MELD dev score sat 0.4–2 points below the text-only checkpoint's, with the
//! seed deciding which side of the paper's text-only row it landed on. The issue asks that
//! adding modalities must not hurt MELD. Here that holds by construction: training starts
//! from the text checkpoint, and every weight element that a text-only prediction depends on
//! is frozen; only the rest (the audio encoder and Central network, the audio slot of the
//! context Bi-LSTMs' input weights, and the text Central network's cross-attention and the
//! fusion α, which have nothing to attend to or fuse when text is alone) learns. Which
//! elements those are is not listed by hand: an element is free when the gradient of the
//! model's outputs on the old modalities alone is exactly zero for it over a whole corpus
//! (masked modalities enter as exact zeros, so the dependence is structural, not
//! numerical). After each optimiser step the frozen elements are written back, which also
//! undoes AdamW's weight decay on them.

use std::collections::BTreeMap;

use tch::{nn, Kind, Tensor};

use super::dims;
use crate::model::amuse::Amuse;
use crate::model::batch::{Batch, UtteranceInput};

/// The frozen part of a model: per variable, its values at the start and a boolean mask of
/// the elements that may learn.
pub struct Frozen {
    vars: Vec<(Tensor, Tensor, Tensor)>,
    /// Per variable name, the number of free elements (for the log and the tests).
    pub free: BTreeMap<String, i64>,
    /// Elements in the model, and how many of them are frozen.
    pub total: i64,
    pub frozen: i64,
}

impl std::fmt::Debug for Frozen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frozen({} of {} elements)", self.frozen, self.total)
    }
}

/// Freeze every element of `vs` on which the model's outputs for `dialogues` (final logits
/// and Central head logits, in inference mode) depend.
pub fn freeze_dependencies(model: &Amuse, vs: &nn::VarStore, dialogues: &[Vec<UtteranceInput>]) -> Frozen {
    let vars = vs.variables();
    let mut touched: BTreeMap<String, Tensor> = vars.iter().map(|(k, v)| (k.clone(), Tensor::zeros_like(v))).collect();
    let device = vs.device();
    for chunk in dialogues.chunks(16) {
        let ds: Vec<&[UtteranceInput]> = chunk.iter().map(Vec::as_slice).collect();
        let b = Batch::new(&ds, dims(model), device);
        let out = model.forward(&b, false);
        // A random weighting of the outputs, so that no element's gradient cancels by
        // symmetry; rows of absent modalities' heads are masked, as the losses mask them.
        let present = out.present.transpose(0, 1).unsqueeze(-1).to_kind(Kind::Float);
        let heads = &out.modality_logits * present;
        let target = (&out.logits * Tensor::randn_like(&out.logits)).sum(Kind::Float)
            + (&heads * Tensor::randn_like(&heads)).sum(Kind::Float);
        zero_grads(&vars);
        target.backward();
        tch::no_grad(|| {
            for (k, v) in &vars {
                let g = v.grad();
                if g.defined() {
                    let t = touched.get_mut(k).expect("same keys");
                    let _ = t.g_add_(&g.abs().ne(0.0).to_kind(Kind::Float));
                }
            }
        });
    }
    let mut free = BTreeMap::new();
    let (mut total, mut frozen) = (0, 0);
    let kept = vars
        .iter()
        .map(|(k, v)| {
            let learn = touched[k].eq(0.0);
            let n = v.numel() as i64;
            let f = learn.sum(Kind::Int64).int64_value(&[]);
            total += n;
            frozen += n - f;
            free.insert(k.clone(), f);
            (v.shallow_clone(), v.detach().copy(), learn)
        })
        .collect();
    zero_grads(&vars);
    Frozen {
        vars: kept,
        free,
        total,
        frozen,
    }
}

/// Clear the gradients `backward` accumulates into.
fn zero_grads(vars: &std::collections::HashMap<String, Tensor>) {
    for v in vars.values() {
        let mut g = v.grad();
        if g.defined() {
            let _ = g.zero_();
        }
    }
}

impl Frozen {
    /// Write the frozen elements back (after an optimiser step).
    pub fn restore(&self) {
        tch::no_grad(|| {
            for (var, start, learn) in &self.vars {
                let back = var.where_self(learn, start);
                var.shallow_clone().copy_(&back);
            }
        });
    }
}
