//! Faces: MTCNN detection, face/back frames and the speaker's face.
pub mod mtcnn;
pub mod split;
