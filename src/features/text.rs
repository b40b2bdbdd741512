//! Text encoder (Section III-A1): MPNet token states `[p, 768]` and the pooled sentence
//! vector `[768]` per utterance.
//!
//! Utterances are sorted by token length and batched, so padding stays small: this is
//! where most of the text encoder's time goes, and LIME re-encodes thousands of texts.

use anyhow::Result;
use tch::{Device, Tensor};

use super::tokenizer::{pad_batch, Encoded, TextTokenizer};
use super::torchscript::TorchScript;
use crate::manifest::ModelStore;

/// MPNet hidden size.
pub const DIM: i64 = 768;

/// One utterance's text features (on the CPU).
#[derive(Debug)]
pub struct TextFeatures {
    /// `[p, 768]` token states, special tokens included.
    pub tokens: Tensor,
    /// `[768]` mean-pooled, L2-normalised sentence vector.
    pub pooled: Tensor,
}

pub struct TextEncoder {
    pub tokenizer: TextTokenizer,
    module: TorchScript,
    /// Texts per forward pass.
    pub batch_size: usize,
}

impl TextEncoder {
    pub fn load(store: &ModelStore, device: Device) -> Result<Self> {
        Ok(Self {
            tokenizer: TextTokenizer::from_file(&store.require("mpnet_tokenizer")?)?,
            module: TorchScript::load(store, "text_mpnet", device)?,
            batch_size: 32,
        })
    }

    /// Encode texts (any order, any lengths); results in input order.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<TextFeatures>> {
        let encoded: Vec<Encoded> = texts.iter().map(|t| self.tokenizer.encode(t)).collect::<Result<_>>()?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encoded[i].ids.len());
        let mut out: Vec<Option<TextFeatures>> = (0..texts.len()).map(|_| None).collect();
        for chunk in order.chunks(self.batch_size.max(1)) {
            let batch: Vec<Encoded> = chunk.iter().map(|&i| encoded[i].clone()).collect();
            let (ids, mask) = pad_batch(&batch, self.tokenizer.pad_id());
            let result = self.module.forward(&[ids, mask])?;
            let (states, pooled) = (result[0].to_device(Device::Cpu), result[1].to_device(Device::Cpu));
            for (row, &i) in chunk.iter().enumerate() {
                let len = encoded[i].ids.len() as i64;
                out[i] = Some(TextFeatures {
                    tokens: super::owned(&states.get(row as i64).narrow(0, 0, len)),
                    pooled: super::owned(&pooled.get(row as i64)),
                });
            }
        }
        Ok(out.into_iter().map(|f| f.expect("every text encoded")).collect())
    }
}
