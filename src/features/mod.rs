//! Pretrained encoders: from prepared media to per-utterance feature tensors.
//!
//! Each encoder wraps one TorchScript export (see [`crate::torchscript`]); the modules here only
//! prepare inputs (tokenise, pad, crop, resample) and split outputs per utterance.
pub mod adapter;
pub mod audio;
pub mod cache;
pub mod cache_gc;
pub mod expression;
pub mod extract;
pub mod speakers;
pub mod text;
pub mod tokenizer;
pub mod visual;
pub mod voice;

/// A compact copy of `t` that shares no storage with the tensor it was sliced from.
///
/// Encoders return views (`narrow`, `get`) into their whole output: a 2.5 s utterance's
/// Whisper frames were a view of the 30 s window's `[1500, 384]` output (2.3 MB), and
/// neither `contiguous()` (the view already is) nor a one-element `cat` copies it. Every
/// feature kept for the whole dialogue goes through here, so memory grows with the
/// features actually kept, not with the encoders' buffers (measured: 2 MB per utterance
/// before, on a 30-minute video).
pub fn owned(t: &tch::Tensor) -> tch::Tensor {
    t.to_kind(tch::Kind::Float).copy()
}
