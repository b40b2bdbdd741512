//! Progress and cancellation of long work (an analysis, an explanation, a training corpus):
//! the stages a user sees, a progress report, and a cancellation flag the work checks. Used
//! by every layer, from decoding to the viewer, so it sits at the bottom.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Result};

/// The stages a user sees progress for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Speech to text when the video has no transcript (`crate::transcribe`).
    Transcribe,
    Decode,
    Faces,
    Encoders,
    Model,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Transcribe => "transcription",
            Stage::Decode => "decode",
            Stage::Faces => "faces",
            Stage::Encoders => "encoders",
            Stage::Model => "model",
        }
    }
}

/// Progress report: `done` of `total` units of `stage`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub stage: Stage,
    pub done: usize,
    pub total: usize,
}

/// Shared cancellation flag; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    /// `Err(Cancelled)` once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            bail!(Cancelled);
        }
        Ok(())
    }
}

/// The analysis was cancelled by the user.
#[derive(Debug, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;
