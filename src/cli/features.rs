//! `amuse features`: run media + encoders headless on a video or a MELD.Raw folder, print a
//! per-utterance summary and fill the feature cache.

use std::path::{Path, PathBuf};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use crate::features::cache;
use crate::features::extract::{self, Encoders, ExtractOptions};
use crate::manifest::ModelStore;
use crate::media::transcript::{meld_raw, Dialogue};
use crate::progress::{CancelToken, Progress};

/// A dialogue to analyse: its video (none for MELD.Raw, where each utterance has a clip).
pub struct DialogueJob {
    pub name: String,
    pub video: Option<PathBuf>,
    pub dialogue: Dialogue,
}

/// Resolve the inputs of `amuse features`/`analyze`: a video (+ transcript) or a MELD.Raw folder.
pub fn jobs(input: &Path, transcript_path: Option<&Path>) -> Result<Vec<DialogueJob>> {
    if input.is_dir() {
        return Ok(meld_raw::load(input, transcript_path)?
            .into_iter()
            .map(|d| DialogueJob {
                name: format!("dia{}", d.id),
                video: None,
                dialogue: d.dialogue,
            })
            .collect());
    }
    let dialogue = crate::analysis::load_dialogue(input, transcript_path)?;
    let name = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(vec![DialogueJob {
        name,
        video: Some(input.to_path_buf()),
        dialogue,
    }])
}

fn progress_bar() -> ProgressBar {
    let pb = ProgressBar::new(1);
    pb.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} {elapsed}/{eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb
}

/// Extract features for one job, from the cache when possible. Returns the features, the
/// notes, and whether they came from the cache; failing to write the cache is an error
/// here, since filling it is this command's job.
pub fn extract_cached(
    store: &ModelStore,
    enc: &Encoders,
    job: &DialogueJob,
    opts: &ExtractOptions,
    dir: &Path,
) -> Result<(Vec<extract::UtteranceFeatures>, extract::Notes, bool)> {
    let pb = progress_bar();
    let mut report = |p: Progress| {
        pb.set_message(p.stage.name());
        pb.set_length(p.total as u64);
        pb.set_position(p.done as u64);
    };
    let (features, notes, outcome) = cache::load_or_extract(
        store,
        enc,
        job.video.as_deref(),
        &job.dialogue,
        opts,
        dir,
        &mut report,
        &CancelToken::default(),
    )?;
    pb.finish_and_clear();
    match outcome {
        cache::Outcome::Hit => Ok((features, notes, true)),
        cache::Outcome::Written => Ok((features, notes, false)),
        cache::Outcome::NotWritten(e) => Err(e),
    }
}

pub fn run(
    store: &ModelStore,
    enc: &Encoders,
    input: &Path,
    transcript_path: Option<&Path>,
    out: Option<&Path>,
) -> Result<()> {
    let dir = out.map(Path::to_path_buf).unwrap_or_else(cache::default_dir);
    let opts = ExtractOptions::default();
    let jobs = jobs(input, transcript_path)?;
    // Filling the cache is this command's job: refuse before extracting, not after.
    cache::check_writable(&dir)?;
    for job in jobs {
        for w in &job.dialogue.warnings {
            eprintln!("warning: {w}");
        }
        let started = std::time::Instant::now();
        let (features, notes, from_cache) = extract_cached(store, enc, &job, &opts, &dir)?;
        for n in &notes {
            eprintln!("note: {n}");
        }
        println!(
            "{}: {} utterances{}",
            job.name,
            features.len(),
            if from_cache { " (from the feature cache)" } else { "" }
        );
        println!(
            "{:>4}  {:<12} {:>6} {:>7} {:>6}  text",
            "#", "speaker", "faces", "audio s", "tokens"
        );
        for (i, (u, f)) in job.dialogue.utterances.iter().zip(&features).enumerate() {
            let faces = f
                .visual
                .as_ref()
                .map_or(0, |v| v.keyframes.iter().filter(|k| !k.faces.is_empty()).count());
            let keyframes = f.visual.as_ref().map_or(0, |v| v.keyframes.len());
            let text: String = u.text.chars().take(48).collect();
            println!(
                "{:>4}  {:<12} {:>3}/{:<2} {:>7.2} {:>6}  {}",
                i,
                u.speaker.as_deref().unwrap_or("?"),
                faces,
                keyframes,
                f.audio_seconds,
                f.text.tokens.size()[0],
                text
            );
        }
        println!(
            "{:.2} s ({}), cache {}",
            started.elapsed().as_secs_f64(),
            if from_cache { "hit" } else { "written" },
            dir.display()
        );
    }
    Ok(())
}
