//! `amuse transcribe <video> [--srt] [--force]`: Whisper tiny.en on a video's sound track,
//! utterances with speakers printed, and optionally written as `<video>.srt` beside it.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Result};
use tch::Device;

use crate::manifest::ModelStore;
use crate::progress::{CancelToken, Progress};
use crate::transcribe::{self, Transcriber, MODEL_NAME};

pub fn run(video: &Path, srt: bool, force: bool, device: Device) -> Result<()> {
    if !video.is_file() {
        bail!(
            "{}: no such file (give the path of a video or audio file)",
            video.display()
        );
    }
    let target = video.with_extension("srt");
    if srt && target.exists() && !force {
        bail!("{} exists; pass --force to replace it", target.display());
    }
    let transcriber = Transcriber::load(&ModelStore::open_default()?, device)?;
    let started = Instant::now();
    let mut progress = |p: Progress| {
        eprint!("\r{} {}/{} s of speech", p.stage.name(), p.done, p.total);
        let _ = std::io::stderr().flush();
    };
    let dialogue = transcriber.transcribe_file(video, &mut progress, &CancelToken::default());
    // End the progress line either way, so an error starts on a line of its own.
    eprintln!(" — {:.1} s", started.elapsed().as_secs_f64());
    let dialogue = dialogue?;
    println!(
        "{} utterances, {} speakers (transcribed by {MODEL_NAME})",
        dialogue.utterances.len(),
        dialogue.speakers().len()
    );
    for u in &dialogue.utterances {
        println!(
            "[{:7.2} → {:7.2}] {}: {}",
            u.start,
            u.end,
            u.speaker.as_deref().unwrap_or("?"),
            u.text
        );
    }
    for w in &dialogue.warnings {
        eprintln!("note: {w}");
    }
    if srt {
        let path = transcribe::write_srt(video, &dialogue, force)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
