//! A result the worker computes for the viewer, per utterance: one type for the word, face
//! and audio-segment explanations (each shows a spinner while running, the result when
//! ready, or a short note when it failed), and why a job gave no result.

/// An explanation being computed, computed, or failed.
#[derive(Debug)]
pub enum Pending<T> {
    Running,
    Ready(T),
    /// No face, no audio, a checkpoint without the modality, or an error: a short note.
    Failed(String),
}

impl<T> Pending<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Pending::Ready(t) => Some(t),
            _ => None,
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self, Pending::Running)
    }
}

/// Why a job of the worker gave no result: the user cancelled it (it can be asked for again)
/// or it failed (the reason is shown).
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    Cancelled,
    Error(String),
}

impl Failure {
    /// The failure of a job that ended with `e` ([`crate::progress::Cancelled`] or another error).
    pub fn of(e: &anyhow::Error) -> Self {
        if e.downcast_ref::<crate::progress::Cancelled>().is_some() {
            Failure::Cancelled
        } else {
            Failure::Error(format!("{e:#}"))
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Cancelled => f.write_str("cancelled"),
            Failure::Error(e) => f.write_str(e),
        }
    }
}

impl<T> Pending<T> {
    /// What a finished job leaves: its result, a note, or nothing when it was cancelled (so
    /// that it can be asked for again).
    pub fn finished(result: Result<T, Failure>) -> Option<Self> {
        match result {
            Ok(t) => Some(Pending::Ready(t)),
            Err(Failure::Cancelled) => None,
            Err(Failure::Error(e)) => Some(Pending::Failed(e)),
        }
    }
}
