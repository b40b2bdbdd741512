//! What the viewer and its worker say to each other: plain data, never a tensor.
//!
//! Commands queue on the worker, so reports about a video can arrive after the user opened
//! another one — or the same file again. Every opening is therefore a numbered [`Run`]; the
//! commands of a run carry its number, the worker's reports name it, and the viewer drops
//! reports of any run but the current one.

use std::path::PathBuf;

pub use super::pending::Failure;
use crate::analysis::explain_audio::SegmentExplanation;
use crate::analysis::explain_face::FaceExplanation;
use crate::analysis::explain_visual::BackExplanation;
use crate::analysis::explain_words::WordExplanation;
use crate::analysis::result::DialogueResult;
use crate::device::DeviceInfo;
use crate::progress::Progress;

/// The number of one opening of a video in the viewer.
pub type Run = u64;

/// What the UI asks the worker to do.
#[derive(Debug)]
pub enum Command {
    /// Analyse a video with its transcript (found beside it when `None`).
    Analyze {
        run: Run,
        video: PathBuf,
        transcript: Option<PathBuf>,
    },
    /// Explain an utterance of run `run`'s analysis by its words (LIME).
    Explain {
        run: Run,
        utterance: usize,
        samples: usize,
        seed: u64,
    },
    /// Explain an utterance of the last analysis by 0.5 s segments of its audio (LIME; slow).
    ExplainAudio {
        run: Run,
        utterance: usize,
        video: PathBuf,
        samples: usize,
        seed: u64,
    },
    /// The user selected this utterance: the background explanations start around it.
    Focus { run: Run, utterance: usize },
    /// Explain the speaker's face of an utterance by facial regions (LIME).
    ExplainFace {
        run: Run,
        utterance: usize,
        video: PathBuf,
        times: Vec<f64>,
    },
    /// Explain an utterance's prediction by the superpixels of its back frame (LIME; for
    /// checkpoints that read back frames).
    ExplainBack { run: Run, utterance: usize, video: PathBuf },
    /// Decode frames at these times for display (longest side `max_side`).
    Frames {
        times: Vec<f64>,
        video: PathBuf,
        max_side: u32,
        tag: u64,
    },
}

/// A message of the worker and the run it is about (`None`: not about one, e.g. `Ready`).
#[derive(Debug)]
pub struct Envelope {
    pub run: Option<Run>,
    pub message: Message,
}

/// What the worker reports.
#[derive(Debug)]
pub enum Message {
    /// LibTorch is initialised; the models are (or failed to be) loaded.
    Ready {
        device: DeviceInfo,
        checkpoint: Result<crate::analysis::result::CheckpointSummary, String>,
    },
    Progress {
        progress: Progress,
        elapsed: f64,
    },
    Done {
        video: PathBuf,
        result: Box<DialogueResult>,
        seconds: f64,
    },
    Failed {
        error: String,
    },
    Cancelled,
    Explained(Box<WordExplanation>),
    ExplainFailed {
        utterance: usize,
        failure: Failure,
    },
    /// A face explanation and its tinted crop (width, height, RGB8).
    FaceExplained {
        utterance: usize,
        explanation: Box<FaceExplanation>,
        overlay: (u32, u32, Vec<u8>),
    },
    FaceFailed {
        utterance: usize,
        failure: Failure,
    },
    /// An audio-segment explanation, or why there is none.
    AudioExplained {
        utterance: usize,
        result: Result<Box<SegmentExplanation>, Failure>,
    },
    /// A back-frame explanation, or why there is none.
    BackExplained {
        utterance: usize,
        result: Result<Box<BackExplanation>, Failure>,
    },
    /// Decoded frames (RGB8), for `Command::Frames`.
    Frames {
        tag: u64,
        frames: Vec<(f64, u32, u32, Vec<u8>)>,
    },
}
