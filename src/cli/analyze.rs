//! `amuse analyze`: the viewer's pipeline headless over a video, a folder of videos or a
//! MELD.Raw split, for analysts. One JSON per dialogue (the JSON export, plus any other
//! formats asked for) and a `summary.csv`; a video without a transcript is transcribed, as
//! the viewer does. Resumable: outputs are written atomically, and a complete output is
//! reused only when the key it records matches what would make it now (see [`output_key`]);
//! a file that fails is reported (in the summary and the exit code) while the others finish.
//! What the pipeline repaired or left out is a note in the JSON, the summary and on stderr.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::features::{jobs, DialogueJob};
use crate::analysis::Analyzer;
use crate::export::agreement;
use crate::export::summary_table::{self, Outcome};
use crate::export::{self, json, Format, Source};
use crate::progress::{CancelToken, Progress};
use amuse_formats::annotations::{self, sidecar};

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// A video (its transcript beside it), a folder of videos, or a MELD.Raw split folder.
    pub input: PathBuf,
    /// The transcript when it is not beside the video (a single video or MELD.Raw's CSV).
    #[arg(long)]
    pub transcript: Option<PathBuf>,
    /// Output folder: one `<name>.json` per dialogue and summary.csv.
    #[arg(long)]
    pub out: PathBuf,
    /// Explain every utterance's prediction by its words (LIME; slow).
    #[arg(long)]
    pub explain: bool,
    /// LIME samples per utterance with --explain.
    #[arg(long, default_value_t = 100)]
    pub samples: usize,
    /// Extra export formats besides the JSON (repeat or comma-separate: csv, eaf).
    #[arg(long = "format", value_enum, value_delimiter = ',')]
    pub formats: Vec<Format>,
    /// Refuse videos without a transcript instead of transcribing them (Whisper tiny.en).
    #[arg(long)]
    pub no_transcribe: bool,
    /// Analyse only shard I of N (1-based, e.g. `3/8`): the files whose name hashes to it, so
    /// N machines (a Slurm job array, GNU parallel) split a folder without talking to each
    /// other. Each shard writes `summary.shard-I-of-N.csv`; `amuse merge-summaries OUT` joins them.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<Shard>,
}

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Whether the dialogue `name` belongs to this shard: by a hash of the name, so the split
    /// depends on nothing but the names (not on the order or number of files a machine sees).
    pub fn keeps(&self, name: &str) -> bool {
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(name.as_bytes());
        let v = u64::from_le_bytes(h[..8].try_into().unwrap_or([0; 8]));
        (v % self.count as u64) as usize == self.index - 1
    }
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad = || format!("--shard takes I/N with 1 ≤ I ≤ N (e.g. 3/8), not `{s}`");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (index, count) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if index == 0 || index > count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

/// The video extensions looked for in a plain folder.
const VIDEO_EXTENSIONS: [&str; 6] = ["mp4", "mkv", "avi", "webm", "mov", "flv"];

/// One input of the run: a MELD.Raw dialogue, or a video (its transcript found, given or
/// made when it is processed, so that an unreadable one fails alone).
enum Input {
    DialogueJob(DialogueJob),
    Video {
        name: String,
        path: PathBuf,
        transcript: Option<PathBuf>,
    },
}

/// A MELD.Raw split: `dia{D}_utt{U}.mp4` clips *and* the split's CSV (given, or in the
/// folder). One MELD-named clip among plain videos does not make a folder MELD.Raw.
fn is_meld_raw(dir: &Path, transcript: Option<&Path>) -> bool {
    let names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_ascii_lowercase())
        .collect();
    let clips = names
        .iter()
        .any(|n| crate::media::transcript::meld_raw::is_clip_name(n));
    clips && (transcript.is_some() || names.iter().any(|n| n.ends_with(".csv")))
}

fn name_of(input: &Input) -> String {
    match input {
        Input::DialogueJob(job) => job.name.clone(),
        Input::Video { name, .. } => name.clone(),
    }
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The dialogues of the input; a video is only listed here (its transcript is read, or
/// made, when it is processed), so an unreadable one fails alone.
fn inputs(input: &Path, transcript: Option<&Path>) -> Result<Vec<Input>> {
    let video = |path: &Path, t: Option<&Path>| Input::Video {
        name: stem(path),
        path: path.to_path_buf(),
        transcript: t.map(Path::to_path_buf),
    };
    if input.is_file() {
        return Ok(vec![video(input, transcript)]);
    }
    if !input.is_dir() {
        // A symbolic link loop or a dangling link: the decoder names it.
        if std::fs::symlink_metadata(input).is_ok() {
            crate::media::decode::probe(input)?;
        }
        bail!(
            "{} does not exist: give a video, a folder of videos or a MELD.Raw folder",
            input.display()
        );
    }
    if is_meld_raw(input, transcript) {
        return Ok(jobs(input, transcript)?.into_iter().map(Input::DialogueJob).collect());
    }
    if transcript.is_some() {
        bail!("--transcript applies to a single video or a MELD.Raw folder; in a folder of videos each transcript sits beside its video");
    }
    let mut videos: Vec<PathBuf> = std::fs::read_dir(input)
        .with_context(|| format!("cannot list {}", input.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    videos.sort();
    if videos.is_empty() {
        bail!("no video ({}) in {}", VIDEO_EXTENSIONS.join(", "), input.display());
    }
    Ok(videos.iter().map(|v| video(v, None)).collect())
}

/// What a reusable output was made from, hashed: the amuse version, the checkpoint's weights,
/// the options that change the output, the input's content (a video's size, modification
/// time and first MiB; the transcript's bytes, or the parsed MELD.Raw dialogue) and the
/// annotator's sidecar. A `<name>.json` whose key differs is redone, never reused.
pub fn output_key(checkpoint_sha: &str, args: &AnalyzeArgs, parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION"));
    h.update(checkpoint_sha);
    h.update(format!(
        "{}|{}|{:?}|{}",
        args.explain, args.samples, args.formats, args.no_transcribe
    ));
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// A file's size and modification time (nothing for a missing file).
fn stat(path: &Path) -> Vec<u8> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Vec::new();
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    [
        meta.len().to_le_bytes().to_vec(),
        mtime.map_or(0, |d| d.as_nanos()).to_le_bytes().to_vec(),
    ]
    .concat()
}

/// A file's identity for [`output_key`]: size, modification time and its first MiB (all of
/// a transcript or a sidecar, so an edit that keeps the size and the second still counts).
fn identity(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut out = stat(path);
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(1 << 20).read_to_end(&mut out);
    }
    out
}

/// The key of one input's output.
fn key_of(input: &Input, checkpoint_sha: &str, args: &AnalyzeArgs) -> Option<String> {
    let sidecar_bytes = |video: Option<&Path>| video.map(|v| identity(&sidecar::path_for(v))).unwrap_or_default();
    match input {
        Input::DialogueJob(job) => {
            let dialogue = serde_json::to_vec(&job.dialogue.utterances).unwrap_or_default();
            let clips: Vec<u8> = job
                .dialogue
                .utterances
                .iter()
                .filter_map(|u| u.clip.as_deref())
                .flat_map(stat)
                .collect();
            Some(output_key(
                checkpoint_sha,
                args,
                &[&dialogue, &clips, &sidecar_bytes(job.video.as_deref())],
            ))
        }
        Input::Video { path, transcript, .. } => {
            let found = transcript
                .clone()
                .or_else(|| crate::media::transcript::find_beside(path));
            let t = found.map(|t| identity(&t)).unwrap_or_else(|| b"transcribed".to_vec());
            Some(output_key(
                checkpoint_sha,
                args,
                &[&identity(path), &t, &sidecar_bytes(Some(path))],
            ))
        }
    }
}

/// The annotator's corrections beside a video, read only (a damaged sidecar is reported, never moved).
fn corrections(video: Option<&Path>, notes: &mut Vec<String>) -> Option<annotations::Annotations> {
    let path = sidecar::path_for(video?);
    let bytes = std::fs::read(&path).ok()?;
    match annotations::parse(&bytes) {
        Ok(a) => Some(a),
        Err(e) => {
            notes.push(format!("{}: {e}; corrections ignored", path.display()));
            None
        }
    }
}

/// Analyse one input and write its outputs; `Ok(true)` when a complete output with the same
/// key was reused.
fn process(
    analyzer: &Analyzer,
    input: &Input,
    key: Option<String>,
    args: &AnalyzeArgs,
    report: &mut dyn FnMut(&str),
) -> Result<(json::Document, bool)> {
    let (name, video) = match input {
        Input::DialogueJob(job) => (&job.name, job.video.as_deref()),
        Input::Video { name, path, .. } => (name, Some(path.as_path())),
    };
    let out = args.out.join(format!("{name}.json"));
    if let Some(doc) = std::fs::read(&out).ok().and_then(|b| json::read(&b)) {
        if doc.key.is_some() && doc.key == key {
            return Ok((doc, true));
        }
    }
    let cancel = CancelToken::default();
    let mut progress = |p: Progress| report(&format!("{} {}/{}", p.stage.name(), p.done, p.total));
    let analysis = match input {
        Input::Video { path, transcript, .. } => {
            analyzer.run(path, transcript.as_deref(), !args.no_transcribe, &mut progress, &cancel)?
        }
        Input::DialogueJob(job) => analyzer.run_dialogue(video, job.dialogue.clone(), &mut progress, &cancel)?,
    };
    let crate::analysis::Analysis {
        dialogue,
        features,
        result,
    } = analysis;
    let mut explanations = std::collections::HashMap::new();
    if args.explain {
        for i in 0..result.utterances.len() {
            report(&format!("explain {}/{}", i + 1, result.utterances.len()));
            // The viewer's cache: explanations it made in the background are reused here.
            let dir = crate::analysis::explain_cache::default_dir();
            let (e, _) =
                analyzer.explain_words_cached(&dir, video, &dialogue, &features, i, args.samples, 0, &cancel)?;
            explanations.insert(i, e);
        }
    }
    let mut notes: Vec<String> = dialogue.warnings.clone();
    for n in &result.notes {
        if !notes.contains(n) {
            notes.push(n.clone());
        }
    }
    let a = corrections(video, &mut notes);
    let rows = export::rows(&result, a.as_ref(), &explanations);
    let label_set = a.as_ref().map_or("meld".to_owned(), |a| a.label_set.name.clone());
    let source = Source {
        video,
        checkpoint: &analyzer.checkpoint_name,
        label_set: &label_set,
    };
    // The other formats first: the JSON, written last, marks the dialogue as done.
    for f in args.formats.iter().filter(|f| **f != Format::Json) {
        export::save(&args.out.join(format!("{name}.{}", f.extension())), &rows, &source)?;
    }
    let mut doc = json::Document::new(rows, &source);
    doc.transcribed = dialogue.transcribed;
    doc.notes = notes;
    doc.key = key;
    crate::fsutil::write_atomic(&out, &json::write(&doc)?)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok((doc, false))
}

pub fn run(analyzer: &Analyzer, args: &AnalyzeArgs) -> Result<ExitCode> {
    let mut inputs = inputs(&args.input, args.transcript.as_deref())?;
    if let Some(shard) = args.shard {
        inputs.retain(|i| shard.keeps(&name_of(i)));
        println!("shard {}/{}: {} dialogues", shard.index, shard.count, inputs.len());
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let pb = ProgressBar::new(inputs.len() as u64);
    pb.set_style(
        ProgressStyle::with_template("[{bar:30}] {pos}/{len} {elapsed}/{eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    // The analyzer's digest covers the weights, config.json (the temperatures) and the
    // text adapter: an output is stale when any of them changed.
    let checkpoint_sha = &analyzer.checkpoint_sha;
    let mut outcomes = Vec::new();
    for input in &inputs {
        let name = name_of(input);
        pb.set_message(name.clone());
        let mut report = |s: &str| pb.set_message(format!("{name}: {s}"));
        let key = key_of(input, checkpoint_sha, args);
        let outcome = Outcome {
            name: name.clone(),
            status: process(analyzer, input, key, args, &mut report).map_err(|e| format!("{e:#}")),
        };
        if let Ok((doc, false)) = &outcome.status {
            for n in &doc.notes {
                pb.suspend(|| eprintln!("warning: {name}: {n}"));
            }
        }
        // Printed to stdout (the bar lives on stderr and hides itself when not a terminal).
        let line = match &outcome.status {
            Ok((_, true)) => format!("{}: done earlier, skipped", outcome.name),
            Ok((doc, false)) => format!("{}: {} utterances", outcome.name, doc.utterances.len()),
            Err(e) => format!("{}: FAILED: {e}", outcome.name),
        };
        pb.suspend(|| println!("{line}"));
        outcomes.push(outcome);
        pb.inc(1);
    }
    pb.finish_and_clear();
    let summary_path = args.out.join(match args.shard {
        Some(Shard { index, count }) => summary_table::shard_file(index, count),
        None => "summary.csv".into(),
    });
    summary_table::write(&summary_path, &outcomes)?;
    let pooled: Vec<(usize, usize)> = outcomes
        .iter()
        .filter_map(|o| o.status.as_ref().ok())
        .flat_map(|(d, _)| agreement::pairs(&d.utterances))
        .collect();
    if let Some(r) = agreement::report(&pooled) {
        println!("agreement with the ground truth (corrections first):\n{}", r.table());
    }
    println!("wrote {}", summary_path.display());
    let failed = outcomes.iter().filter(|o| o.status.is_err()).count();
    if failed > 0 {
        eprintln!(
            "error: {failed} of {} inputs failed (see the \"failed\" lines of {}); the others are done",
            outcomes.len(),
            summary_path.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_by_name_and_cover_everything_once() {
        assert_eq!(parse_shard("3/8"), Ok(Shard { index: 3, count: 8 }));
        for bad in ["0/8", "9/8", "3", "a/b", "1/0"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
        let names: Vec<String> = (0..200).map(|i| format!("dia{i}")).collect();
        let shards: Vec<Shard> = (1..=4).map(|index| Shard { index, count: 4 }).collect();
        for n in &names {
            assert_eq!(
                shards.iter().filter(|s| s.keeps(n)).count(),
                1,
                "{n} in exactly one shard"
            );
        }
        let sizes: Vec<usize> = shards
            .iter()
            .map(|s| names.iter().filter(|n| s.keeps(n)).count())
            .collect();
        assert!(sizes.iter().all(|&k| (30..=70).contains(&k)), "balanced: {sizes:?}");
    }

    #[test]
    fn an_output_key_follows_the_transcript_sidecar_checkpoint_and_options() {
        let dir = tempfile::tempdir().unwrap();
        let video = dir.path().join("v.mp4");
        std::fs::write(&video, b"not decoded here").unwrap();
        let csv = dir.path().join("v.csv");
        std::fs::write(&csv, "Utterance,Speaker\nI got the job!,Cam\n").unwrap();
        let mut args = AnalyzeArgs {
            input: video.clone(),
            transcript: None,
            out: dir.path().join("out"),
            explain: false,
            samples: 100,
            formats: Vec::new(),
            no_transcribe: false,
            shard: None,
        };
        let input = Input::Video {
            name: "v".into(),
            path: video.clone(),
            transcript: None,
        };
        let key = |args: &AnalyzeArgs, sha: &str| key_of(&input, sha, args).unwrap();
        let first = key(&args, "ckpt-a");
        assert_eq!(first, key(&args, "ckpt-a"), "same inputs, same key");
        // The text edited, same size (and possibly the same second): another key.
        std::fs::write(&csv, "Utterance,Speaker\nI lost the job,Cam\n").unwrap();
        let edited = key(&args, "ckpt-a");
        assert_ne!(first, edited);
        assert_ne!(edited, key(&args, "ckpt-b"), "another checkpoint");
        std::fs::write(sidecar::path_for(&video), b"{}").unwrap();
        let corrected = key(&args, "ckpt-a");
        assert_ne!(edited, corrected, "the annotator's sidecar");
        args.explain = true;
        assert_ne!(corrected, key(&args, "ckpt-a"), "options");
        std::fs::remove_file(&csv).unwrap();
        args.explain = false;
        assert_ne!(corrected, key(&args, "ckpt-a"), "no transcript any more: transcribed");
    }
}
