//! `amuse analyze`: the viewer's pipeline headless over a video, a folder of videos or a
//! MELD.Raw split, for analysts. One JSON per dialogue (the JSON export, plus any other
//! formats asked for) and a `summary.csv`; resumable, since outputs are written atomically
//! and a complete output is skipped on the next run; a file that fails is reported (in the
//! summary and the exit code) while the others finish.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::features::{jobs, Job};
use crate::analysis::{agreement, summary, Analyzer};
use crate::export::{self, json, Format, Row, Source};
use crate::features::extract::{CancelToken, Progress};
use amuse_formats::annotations::{self, sidecar};

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// A video (its transcript beside it), a folder of videos, or a MELD.Raw split folder.
    pub input: PathBuf,
    /// The transcript when it is not beside the video (a single video or MELD.Raw's CSV).
    #[arg(long)]
    pub transcript: Option<PathBuf>,
    /// Output folder: one <name>.json per dialogue and summary.csv.
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
}

/// The video extensions looked for in a plain folder.
const VIDEO_EXTENSIONS: [&str; 6] = ["mp4", "mkv", "avi", "webm", "mov", "flv"];

/// One input of the run: a dialogue to analyse, or a file that could not even be opened.
enum Input {
    Job(Job),
    Broken { name: String, error: String },
}

/// How one dialogue went.
struct Outcome {
    name: String,
    status: Result<(json::Document, bool), String>,
}

fn is_meld_raw(dir: &Path) -> bool {
    std::fs::read_dir(dir).into_iter().flatten().flatten().any(|e| {
        let n = e.file_name().to_string_lossy().to_ascii_lowercase();
        n.starts_with("dia") && n.contains("_utt") && n.ends_with(".mp4")
    })
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The dialogues of the input; an unreadable video becomes a `Broken` input, not an error.
fn inputs(input: &Path, transcript: Option<&Path>) -> Result<Vec<Input>> {
    let one = |video: &Path, t: Option<&Path>| match jobs(video, t) {
        Ok(mut j) if !j.is_empty() => Input::Job(j.remove(0)),
        Ok(_) => Input::Broken {
            name: stem(video),
            error: "no dialogue".into(),
        },
        Err(e) => Input::Broken {
            name: stem(video),
            error: format!("{e:#}"),
        },
    };
    if input.is_file() {
        return Ok(vec![one(input, transcript)]);
    }
    if !input.is_dir() {
        bail!(
            "{} does not exist: give a video, a folder of videos or a MELD.Raw folder",
            input.display()
        );
    }
    if is_meld_raw(input) {
        return Ok(jobs(input, transcript)?.into_iter().map(Input::Job).collect());
    }
    if transcript.is_some() {
        bail!("--transcript applies to a single video or a MELD.Raw folder; in a folder of videos each transcript sits beside its video");
    }
    let mut videos: Vec<PathBuf> = std::fs::read_dir(input)
        .with_context(|| format!("cannot list {}", input.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    videos.sort();
    if videos.is_empty() {
        bail!("no video ({}) in {}", VIDEO_EXTENSIONS.join(", "), input.display());
    }
    Ok(videos.iter().map(|v| one(v, None)).collect())
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

/// Analyse one dialogue and write its outputs; `Ok(true)` when a complete output was reused.
fn process(
    analyzer: &Analyzer,
    job: &Job,
    args: &AnalyzeArgs,
    report: &mut dyn FnMut(&str),
) -> Result<(json::Document, bool)> {
    let out = args.out.join(format!("{}.json", job.name));
    if let Some(doc) = std::fs::read(&out).ok().and_then(|b| json::read(&b)) {
        if doc.utterances.len() == job.dialogue.utterances.len() {
            return Ok((doc, true));
        }
    }
    let cancel = CancelToken::default();
    let mut progress = |p: Progress| report(&format!("{} {}/{}", p.stage.name(), p.done, p.total));
    let (features, notes) = analyzer.features(job.video.as_deref(), &job.dialogue, &mut progress, &cancel)?;
    let result = analyzer.results(&job.dialogue, &features, notes, &mut progress);
    let mut explanations = std::collections::HashMap::new();
    if args.explain {
        for i in 0..result.utterances.len() {
            report(&format!("explain {}/{}", i + 1, result.utterances.len()));
            let e = analyzer.explain_words(&job.dialogue, &features, i, None, args.samples, 0, &cancel)?;
            explanations.insert(i, e);
        }
    }
    let mut notes = result.notes.clone();
    let a = corrections(job.video.as_deref(), &mut notes);
    let rows = export::rows(&result, a.as_ref(), &explanations);
    let label_set = a.as_ref().map_or("meld".to_owned(), |a| a.label_set.name.clone());
    let source = Source {
        video: job.video.as_deref(),
        checkpoint: &analyzer.checkpoint_name,
        label_set: &label_set,
    };
    // The other formats first: the JSON, written last, marks the dialogue as done.
    for f in args.formats.iter().filter(|f| **f != Format::Json) {
        export::save(
            &args.out.join(format!("{}.{}", job.name, f.extension())),
            &rows,
            &source,
        )?;
    }
    let doc = json::Document::new(rows, &source);
    crate::fsutil::write_atomic(&out, &json::write(&doc)?)
        .with_context(|| format!("cannot write {}", out.display()))?;
    for n in notes {
        tracing::info!("{}: {n}", job.name);
    }
    Ok((doc, false))
}

/// The summary table, one line per dialogue and a pooled line, written atomically.
fn write_summary(path: &Path, outcomes: &[Outcome]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "file",
        "status",
        "utterances",
        "emotions_per_speaker",
        "emotion_shifts",
        "most_confident",
        "accuracy",
        "weighted_f1",
        "error",
    ])?;
    let score = |rows: &[Row]| match agreement::of_rows(rows) {
        Some(r) => (format!("{:.4}", r.accuracy), format!("{:.4}", r.weighted_f1)),
        None => (String::new(), String::new()),
    };
    let mut pooled = Vec::new();
    for o in outcomes {
        match &o.status {
            Ok((doc, skipped)) => {
                let rows = &doc.utterances;
                pooled.extend(agreement::pairs(rows));
                let (acc, f1) = score(rows);
                w.write_record([
                    o.name.as_str(),
                    if *skipped { "done earlier" } else { "ok" },
                    &rows.len().to_string(),
                    &summary::distribution_text(rows),
                    &summary::shifts(rows).to_string(),
                    &summary::most_confident_text(rows, 3),
                    &acc,
                    &f1,
                    "",
                ])?;
            }
            Err(e) => w.write_record([o.name.as_str(), "failed", "", "", "", "", "", "", e])?,
        }
    }
    let (acc, f1) = match agreement::report(&pooled) {
        Some(r) => (format!("{:.4}", r.accuracy), format!("{:.4}", r.weighted_f1)),
        None => (String::new(), String::new()),
    };
    let n = pooled.len().to_string();
    w.write_record(["ALL", "pooled", &n, "", "", "", &acc, &f1, ""])?;
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    crate::fsutil::write_atomic(path, &bytes).with_context(|| format!("cannot write {}", path.display()))
}

pub fn run(analyzer: &Analyzer, args: &AnalyzeArgs) -> Result<ExitCode> {
    let inputs = inputs(&args.input, args.transcript.as_deref())?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let pb = ProgressBar::new(inputs.len() as u64);
    pb.set_style(
        ProgressStyle::with_template("[{bar:30}] {pos}/{len} {elapsed}/{eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut outcomes = Vec::new();
    for input in &inputs {
        let outcome = match input {
            Input::Broken { name, error } => Outcome {
                name: name.clone(),
                status: Err(error.clone()),
            },
            Input::Job(job) => {
                pb.set_message(job.name.clone());
                let mut report = |s: &str| pb.set_message(format!("{}: {s}", job.name));
                Outcome {
                    name: job.name.clone(),
                    status: process(analyzer, job, args, &mut report).map_err(|e| format!("{e:#}")),
                }
            }
        };
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
    let summary_path = args.out.join("summary.csv");
    write_summary(&summary_path, &outcomes)?;
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
