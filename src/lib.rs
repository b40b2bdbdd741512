//! AMuSE: speaker emotion recognition in group conversations, with explanations.
//!
//! Data flows one way; a module uses only modules upstream of it (`grep -rho
//! "crate::[a-z]*" src/<module>` shows them):
//!
//! ```text
//! media ──► features ──► model ──► lime ──► analysis ──► export ──► app (egui) / cli
//!              └──► transcribe ───────────────┘
//!              └──► train (media, features, model) ─────────────────────────► cli
//! ```
//!
//! - [`media`]: decoding (FFmpeg), transcripts, keyframes, MTCNN faces, face/back frames.
//! - [`features`]: the pretrained encoders (TorchScript through tch) and their disk cache.
//! - [`model`]: the AMuSE network, one file per idea of the paper (`man.rs` Eq. 1,
//!   `fusion.rs` Eq. 2/6, `loss.rs` Eq. 3–5, …), checkpoints and calibration.
//! - [`lime`]: the LIME engine and what it perturbs (words, superpixels, face regions, audio
//!   segments), independent of any model.
//! - [`transcribe`]: Whisper transcription and voice grouping when a video has no transcript.
//! - [`analysis`]: one dialogue end to end ([`analysis::Analyzer::run`] → plain results) and
//!   the explanations of the real model; nothing after it touches a tensor.
//! - [`export`]: CSV/JSON/ELAN rows, agreement with ground truth, batch summaries.
//! - [`train`]: corpora, training plans, the text adapter, calibration (used by `cli`).
//! - [`app`]: the viewer; its worker thread calls `analysis` and sends plain results over a
//!   channel. [`cli`]: parses arguments and calls the library.
//!
//! Plumbing shared by all: [`paths`] (where models and caches are), [`progress`] (progress
//! and cancellation), [`profile`] (sub-stage timers), [`torchscript`], [`metrics`],
//! [`manifest`], [`device`].
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
