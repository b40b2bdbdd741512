//! Checks that run before any model is loaded.
//!
//! Loading the encoders and the checkpoint takes 4–5 s on a CPU; a mistyped path or a
//! broken file should be reported at once, with the same message the pipeline would give.

use std::path::Path;

use anyhow::Result;

use crate::media::decode;

/// `path` is a folder (checked later, file by file) or a media file FFmpeg can open.
pub fn media_input(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    decode::probe(path)?;
    Ok(())
}
