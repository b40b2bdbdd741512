//! Media: from files to what the encoders need — decoded audio and frames, transcripts,
//! keyframes, faces.
pub mod decode;
pub mod faces;
pub mod keyframes;
pub mod rotation;

pub use amuse_formats::transcript;
