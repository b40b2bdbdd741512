//! The integration tests, as one binary (ripgrep's layout): each of these modules was a test
//! binary of its own, and every one of them linked LibTorch, FFmpeg and wgpu, so that most of
//! a cold `make test` went into linking the same libraries thirty times. `cargo test --test
//! it faces::` runs one module.

mod common;
mod robust;

mod ablate;
mod af_learning;
mod analyze;
mod annotate;
mod checkpoint;
mod cli_doctor;
mod determinism;
mod explain_background;
mod explain_face;
mod export;
mod extend;
mod faces;
mod golden;
mod iemocap;
mod iemocap_video;
mod media;
mod meld_raw;
mod memory;
mod model;
mod pipeline;
mod robustness;
mod robustness_pipeline;
mod speakers;
mod text_adapter;
mod tokenizer;
mod transcribe;
mod transcripts;
mod viewer;
mod viewer_snapshots;
