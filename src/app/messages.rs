//! What the viewer and its worker say to each other: plain data, never a tensor.
//!
//! Every message about an explanation or an analysis names its video, so the viewer can drop
//! what arrives for a video it has since closed (commands queue on the worker, so answers for
//! the previous video can arrive after a new one is opened).

use std::path::PathBuf;

use crate::analysis::explain::WordExplanation;
use crate::analysis::explain_audio::SegmentExplanation;
use crate::analysis::explain_face::FaceExplanation;
use crate::analysis::result::DialogueResult;
use crate::device::DeviceInfo;
use crate::features::extract::Progress;

/// The error text of an explanation the user cancelled.
pub const CANCELLED: &str = "cancelled";

/// What the UI asks the worker to do.
#[derive(Debug)]
pub enum Command {
    /// Analyse a video with its transcript (found beside it when `None`).
    Analyze {
        video: PathBuf,
        transcript: Option<PathBuf>,
    },
    /// Explain an utterance of the last analysis (of `video`) by its words (LIME).
    Explain {
        utterance: usize,
        video: PathBuf,
        samples: usize,
        seed: u64,
    },
    /// Explain an utterance of the last analysis by 0.5 s segments of its audio (LIME; slow).
    ExplainAudio {
        utterance: usize,
        video: PathBuf,
        samples: usize,
        seed: u64,
    },
    /// Explain the speaker's face of an utterance by facial regions (LIME).
    ExplainFace {
        utterance: usize,
        video: PathBuf,
        times: Vec<f64>,
    },
    /// Decode frames at these times for display (longest side `max_side`).
    Frames {
        times: Vec<f64>,
        video: PathBuf,
        max_side: u32,
        tag: u64,
    },
}

/// What the worker reports.
#[derive(Debug)]
pub enum Message {
    /// LibTorch is initialised; the models are (or failed to be) loaded.
    Ready {
        device: DeviceInfo,
        checkpoint: Result<String, String>,
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
        video: PathBuf,
        error: String,
    },
    /// The analysis of `video` was cancelled.
    Cancelled {
        video: PathBuf,
    },
    /// A word explanation of an utterance of `video`.
    Explained {
        video: PathBuf,
        explanation: Box<WordExplanation>,
    },
    ExplainFailed {
        video: PathBuf,
        error: String,
    },
    /// A face explanation and its tinted crop (width, height, RGB8).
    FaceExplained {
        video: PathBuf,
        utterance: usize,
        explanation: Box<FaceExplanation>,
        overlay: (u32, u32, Vec<u8>),
    },
    FaceFailed {
        video: PathBuf,
        utterance: usize,
        error: String,
    },
    /// An audio-segment explanation, or why there is none.
    AudioExplained {
        video: PathBuf,
        utterance: usize,
        result: Result<Box<SegmentExplanation>, String>,
    },
    /// Decoded frames (RGB8), for `Command::Frames`.
    Frames {
        tag: u64,
        frames: Vec<(f64, u32, u32, Vec<u8>)>,
    },
}
