//! AMuSE: speaker emotion recognition in group conversations, with explanations.
//!
//! Data flows one way: [`media`] (decode, subtitles, keyframes, faces) → [`features`]
//! (pretrained encoders) → `model` (AMuSE) → `explain` (LIME) → [`app`] (egui) / [`cli`].
pub mod analysis;
pub mod app;
pub mod cli;
pub mod device;
pub mod doctor;
pub mod export;
pub mod features;
pub mod heap;
pub mod lime;
pub mod manifest;
pub mod media;
pub mod metrics;
pub mod model;
pub mod paths;
pub mod profile;
pub mod progress;
pub mod torchscript;
pub mod train;
pub mod transcribe;

pub use amuse_formats::{emotion, fsutil};
