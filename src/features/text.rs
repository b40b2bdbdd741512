//! Text encoder (Section III-A1): MPNet token states `[p, 768]` and the pooled sentence
//! vector `[768]` per utterance.
//!
//! Utterances are sorted by token length and batched, so padding stays small: this is
//! where most of the text encoder's time goes, and LIME re-encodes thousands of texts.

use anyhow::Result;
use tch::{Device, Tensor};

use super::adapter::TextAdapter;
use super::tokenizer::{pad_batch, Encoded, TextTokenizer};
use crate::manifest::ModelStore;
use crate::torchscript::TorchScript;

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
    /// sha256 of the merged [`TextAdapter`], if any: features differ with it, so it is
    /// part of every cache key.
    pub adapter_sha256: Option<String>,
    /// Preceding utterances [`Self::encode_dialogue`] puts before each one (the adapter's).
    pub context: usize,
}

impl TextEncoder {
    /// The registry's MPNet as exported (what the golden files check).
    pub fn load(store: &ModelStore, device: Device) -> Result<Self> {
        Self::load_adapted(store, device, None)
    }

    /// MPNet with `adapter` merged into its weights (the encoder a checkpoint trained on
    /// adapted states needs, see [`crate::model::checkpoint::Loaded::text_adapter`]).
    pub fn load_adapted(store: &ModelStore, device: Device, adapter: Option<&TextAdapter>) -> Result<Self> {
        let module = TorchScript::load(store, "text_mpnet", device)?;
        if let Some(adapter) = adapter {
            adapter.merge_into(&module.parameters()?)?;
        }
        Ok(Self {
            tokenizer: TextTokenizer::from_file(&store.require("mpnet_tokenizer")?)?,
            module,
            batch_size: 32,
            adapter_sha256: adapter.map(|a| a.sha256.clone()),
            context: adapter.map_or(0, |a| a.context),
        })
    }

    /// Encode texts (any order, any lengths); results in input order.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<TextFeatures>> {
        Ok(encode_sorted(&self.module, &self.tokenizer, self.batch_size, texts)?
            .into_iter()
            .map(|mut outs| {
                let pooled = outs.pop().expect("two outputs");
                TextFeatures {
                    tokens: outs.pop().expect("two outputs"),
                    pooled,
                }
            })
            .collect())
    }
}

impl TextEncoder {
    /// Encode a dialogue's utterances, each after its [`Self::context`] predecessors (the
    /// input the adapter was trained on); without context, [`Self::encode`].
    pub fn encode_dialogue(&self, texts: &[&str]) -> Result<Vec<TextFeatures>> {
        let contexts = dialogue_contexts(texts, self.context);
        let items: Vec<(&str, &str)> = contexts.iter().map(String::as_str).zip(texts.iter().copied()).collect();
        self.encode_after(&items)
    }

    /// Encode each `(context, text)`: MPNet reads the context, then the text; the features
    /// are the text's own token states and their mean, L2-normalised (the module's pooled
    /// vector when the context is empty).
    pub fn encode_after(&self, items: &[(&str, &str)]) -> Result<Vec<TextFeatures>> {
        let (encoded, ranges): (Vec<Encoded>, Vec<(usize, usize)>) = items
            .iter()
            .map(|(c, t)| self.tokenizer.encode_in_context(c, t))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .unzip();
        let outputs = run_sorted(&self.module, self.tokenizer.pad_id(), self.batch_size, &encoded)?;
        Ok(outputs
            .into_iter()
            .zip(ranges)
            .map(|(mut outs, (start, len))| {
                let pooled = outs.pop().expect("two outputs");
                let tokens = outs.pop().expect("two outputs");
                // The tokenizer's range starts at 0 exactly when there is no context.
                if start == 0 {
                    return TextFeatures { tokens, pooled };
                }
                let tokens = super::owned(&tokens.narrow(0, start as i64, len.max(1) as i64));
                let mean = tokens.mean_dim(0, false, tch::Kind::Float);
                let norm = mean.norm().clamp_min(1e-12);
                TextFeatures {
                    pooled: &mean / norm,
                    tokens,
                }
            })
            .collect())
    }
}

/// Utterance `i`'s `context` predecessors' texts joined by spaces ("" for the first, and
/// for all when `context` is 0).
pub fn preceding(texts: &[&str], i: usize, context: usize) -> String {
    texts[i.saturating_sub(context)..i].join(" ")
}

/// [`preceding`] of every utterance.
pub fn dialogue_contexts(texts: &[&str], context: usize) -> Vec<String> {
    (0..texts.len()).map(|i| preceding(texts, i, context)).collect()
}

/// Run a MPNet-contract module (`input_ids, attention_mask` → per-token and per-text
/// outputs) over `texts` sorted by token count, `batch_size` at a time, so padding stays
/// small; per text and in input order, each output's row (per-token ones cut to the text's
/// own tokens), as compact CPU copies.
pub(crate) fn encode_sorted(
    module: &TorchScript,
    tokenizer: &TextTokenizer,
    batch_size: usize,
    texts: &[&str],
) -> Result<Vec<Vec<Tensor>>> {
    let encoded: Vec<Encoded> = texts.iter().map(|t| tokenizer.encode(t)).collect::<Result<_>>()?;
    run_sorted(module, tokenizer.pad_id(), batch_size, &encoded)
}

/// [`encode_sorted`] on sequences already tokenised (e.g. an utterance in its context).
pub(crate) fn run_sorted(
    module: &TorchScript,
    pad_id: i64,
    batch_size: usize,
    encoded: &[Encoded],
) -> Result<Vec<Vec<Tensor>>> {
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    order.sort_by_key(|&i| encoded[i].ids.len());
    let mut out: Vec<Vec<Tensor>> = (0..encoded.len()).map(|_| Vec::new()).collect();
    for chunk in order.chunks(batch_size.max(1)) {
        let batch: Vec<Encoded> = chunk.iter().map(|&i| encoded[i].clone()).collect();
        let (ids, mask) = pad_batch(&batch, pad_id);
        let outputs: Vec<Tensor> = module
            .forward(&[ids, mask])?
            .iter()
            .map(|t| t.to_device(Device::Cpu))
            .collect();
        for (row, &i) in chunk.iter().enumerate() {
            let len = encoded[i].ids.len() as i64;
            out[i] = outputs
                .iter()
                .map(|o| {
                    let r = o.get(row as i64);
                    super::owned(&if o.dim() == 3 { r.narrow(0, 0, len) } else { r })
                })
                .collect();
        }
    }
    Ok(out)
}
