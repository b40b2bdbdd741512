//! Text tokenisation for the MPNet encoder, with the same ids as the Python tokenizer.
//!
//! The `tokenizer.json` shipped with all-mpnet-base-v2 is read by the Rust `tokenizers`
//! crate; special tokens are added and sequences are cut at MPNet's 384-token window,
//! exactly as sentence-transformers does. Character offsets are kept so that LIME word
//! features can be mapped onto tokens.

use std::path::Path;

use anyhow::{anyhow, Result};
use tch::Tensor;
use tokenizers::{Tokenizer, TruncationParams};

/// sentence-transformers' `max_seq_length` for all-mpnet-base-v2.
pub const MAX_TOKENS: usize = 384;

/// One tokenised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub ids: Vec<i64>,
    pub attention_mask: Vec<i64>,
    /// Byte offsets of each token in the input text (`(0,0)` for special tokens).
    pub offsets: Vec<(usize, usize)>,
}

/// The MPNet tokenizer.
pub struct TextTokenizer {
    inner: Tokenizer,
}

impl TextTokenizer {
    pub fn from_file(path: &Path) -> Result<Self> {
        let mut inner = Tokenizer::from_file(path)
            .map_err(|e| anyhow!("cannot read tokenizer {}: {e}; re-run `make setup`", path.display()))?;
        inner
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| anyhow!("tokenizer truncation: {e}"))?;
        inner.with_padding(None);
        Ok(Self { inner })
    }

    /// Tokenise one text, special tokens included.
    pub fn encode(&self, text: &str) -> Result<Encoded> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| anyhow!("tokenizing {text:?}: {e}"))?;
        Ok(Encoded {
            ids: enc.get_ids().iter().map(|&i| i as i64).collect(),
            attention_mask: enc.get_attention_mask().iter().map(|&i| i as i64).collect(),
            offsets: enc.get_offsets().to_vec(),
        })
    }

    /// Tokenise `text` after `context` (MPNet's pair form `<s> context </s></s> text </s>`),
    /// so the encoder's attention sees the preceding utterances; also the token range
    /// `(start, len)` that belongs to `text` (its own tokens, specials excluded). An empty
    /// context gives [`Self::encode`]'s tokens and the range of all of them: `start` is 0
    /// exactly then (with a context, `<s>` and the context come first).
    pub fn encode_in_context(&self, context: &str, text: &str) -> Result<(Encoded, (usize, usize))> {
        if context.trim().is_empty() {
            let enc = self.encode(text)?;
            let n = enc.ids.len();
            return Ok((enc, (0, n)));
        }
        let enc = self
            .inner
            .encode((context, text), true)
            .map_err(|e| anyhow!("tokenizing {text:?} after {context:?}: {e}"))?;
        let seq = enc.get_sequence_ids();
        let start = seq.iter().position(|s| *s == Some(1)).unwrap_or(seq.len());
        let len = seq[start..].iter().take_while(|s| **s == Some(1)).count();
        // An empty text has no tokens of its own: its features are the closing `</s>`.
        let (start, len) = if len == 0 {
            (seq.len().saturating_sub(1), 1)
        } else {
            (start, len)
        };
        Ok((
            Encoded {
                ids: enc.get_ids().iter().map(|&i| i as i64).collect(),
                attention_mask: enc.get_attention_mask().iter().map(|&i| i as i64).collect(),
                offsets: enc.get_offsets().to_vec(),
            },
            (start, len),
        ))
    }

    /// Pad id used when batching.
    pub fn pad_id(&self) -> i64 {
        self.inner
            .get_padding()
            .map(|p| p.pad_id as i64)
            .or_else(|| self.inner.token_to_id("<pad>").map(|i| i as i64))
            .unwrap_or(1)
    }

    /// Tokenise a batch and pad it to the longest: `(input_ids [B,L], attention_mask [B,L])`.
    pub fn batch(&self, texts: &[&str]) -> Result<(Tensor, Tensor)> {
        let encoded: Vec<Encoded> = texts.iter().map(|t| self.encode(t)).collect::<Result<_>>()?;
        Ok(pad_batch(&encoded, self.pad_id()))
    }
}

/// Pad encoded sequences to a rectangle: `(input_ids [B,L], attention_mask [B,L])`.
pub fn pad_batch(encoded: &[Encoded], pad_id: i64) -> (Tensor, Tensor) {
    let len = encoded.iter().map(|e| e.ids.len()).max().unwrap_or(0).max(1);
    let mut ids = Vec::with_capacity(encoded.len() * len);
    let mut mask = Vec::with_capacity(encoded.len() * len);
    for e in encoded {
        ids.extend_from_slice(&e.ids);
        ids.extend(std::iter::repeat_n(pad_id, len - e.ids.len()));
        mask.extend_from_slice(&e.attention_mask);
        mask.extend(std::iter::repeat_n(0, len - e.attention_mask.len()));
    }
    let b = encoded.len() as i64;
    (
        Tensor::from_slice(&ids).view([b, len as i64]),
        Tensor::from_slice(&mask).view([b, len as i64]),
    )
}
