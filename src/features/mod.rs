//! Pretrained encoders: from prepared media to per-utterance feature tensors.
//!
//! Each encoder wraps one TorchScript export (see [`torchscript`]); the modules here only
//! prepare inputs (tokenise, pad, crop, resample) and split outputs per utterance.
pub mod audio;
pub mod cache;
pub mod extract;
pub mod speakers;
pub mod text;
pub mod tokenizer;
pub mod torchscript;
pub mod visual;
pub mod voice;
