//! The AMuSE viewer's plain-text formats, kept apart from LibTorch and FFmpeg so that the
//! parsers that read user files can be fuzzed and tested on their own.
//!
//! - [`annotations`]: an annotator's corrections, notes and undo history, saved beside the video.
//! - [`emotion`]: the seven MELD classes, the label set of the model and the annotator.
//! - [`transcript`]: SRT, WebVTT, MELD/IEMOCAP CSV and MELD.Raw folders → one `Dialogue`.
//! - [`fsutil`]: atomic file replacement (write, fsync, rename), used for every file the
//!   tool writes that a user would be sorry to lose.
//! - [`fuzzing`]: bytes → parser entry points shared by the fuzz targets and the corpus replay test.
pub mod annotations;
pub mod emotion;
pub mod fsutil;
pub mod fuzzing;
pub mod transcript;
