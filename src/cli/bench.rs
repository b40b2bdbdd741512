//! `amuse bench`: measured figures, printed (speed goals live here, not in timed tests).
//!
//! * `pipeline` (the default): seconds of feature extraction per stage and sub-stage on a
//!   dialogue (default: the demo), bypassing the feature cache, and the model's forward
//!   time; `--vs-python` runs `../shared/bench/peer_pipeline.py` (the same models, inputs
//!   and keyframes in eager PyTorch) right after, in the same session, and prints the ratios.
//! * `lime`, `speakers`, `transcribe`, `train`: see their own modules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};

use super::features::jobs;
use crate::analysis::Analyzer;
use crate::features::extract;
use crate::media::decode;
use crate::progress::{CancelToken, Progress};

#[derive(Debug, Subcommand)]
pub enum Bench {
    /// Feature extraction per stage and sub-stage, and the model, on a dialogue.
    Pipeline(PipelineArgs),
    /// Seconds per LIME word explanation on MELD dev (MPNet / model / engine).
    Lime(LimeArgs),
    /// Grouping utterances by voice on RAVDESS (threshold choice).
    Speakers,
    /// Real-time factor of Whisper transcription, and its WER against the video's transcript.
    Transcribe(TranscribeArgs),
    /// Seconds per training epoch on MELD train from cached features.
    Train(TrainArgs),
}

#[derive(Debug, Args, Default)]
pub struct PipelineArgs {
    /// The video (default: the demo dialogue).
    pub video: Option<PathBuf>,
    /// Repetitions (the median is printed).
    #[arg(long, default_value_t = 1)]
    pub repeats: usize,
    /// Then run the Python peer (`../shared/bench/peer_pipeline.py`, with the bootstrap's
    /// venv) on the same video and transcript, and print both side by side.
    #[arg(long)]
    pub vs_python: bool,
}

#[derive(Debug, Args)]
pub struct LimeArgs {
    /// Sample counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "5000")]
    pub samples: Vec<usize>,
    /// Utterances per group (with --stability: in total).
    #[arg(long, default_value_t = 3)]
    pub utterances: usize,
    /// Top-5 agreement of two seeds at each --samples count.
    #[arg(long)]
    pub stability: bool,
    /// Instead, compare these MPNet batch sizes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub batch_sizes: Vec<usize>,
}

#[derive(Debug, Args)]
pub struct TranscribeArgs {
    /// The video (default: the demo dialogue).
    pub video: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    pub repeats: usize,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
}

pub fn run(what: Option<Bench>, device: tch::Device) -> Result<()> {
    match what.unwrap_or(Bench::Pipeline(PipelineArgs::default())) {
        Bench::Transcribe(a) => {
            super::bench_transcribe::run(&a.video.unwrap_or_else(crate::app::demo_video), a.repeats, device)
        }
        Bench::Speakers => super::bench_speakers::run(&crate::manifest::ModelStore::open_default()?, device),
        Bench::Train(a) => super::bench_train::run(a.epochs, device),
        Bench::Lime(a) => {
            let mut analyzer = Analyzer::load(device)?;
            let opts = super::bench_lime::Options {
                samples: a.samples,
                utterances: a.utterances,
                stability: a.stability,
                batch_sizes: a.batch_sizes,
            };
            super::bench_lime::run(&mut analyzer, &opts)
        }
        Bench::Pipeline(a) => {
            let analyzer = Analyzer::load(device)?;
            let video = a.video.unwrap_or_else(crate::app::demo_video);
            let ours = pipeline(&analyzer, &video, a.repeats)?;
            if a.vs_python {
                let peer = python_peer(&video)?;
                compare(&ours, &peer);
            }
            Ok(())
        }
    }
}

/// Seconds per stage (`decode`, `faces`, `encoders`, `model`) and per sub-stage.
pub struct Figures {
    pub stages: BTreeMap<String, f64>,
    pub minutes: f64,
}

/// Extract features of `video` `repeats` times (no cache) and print the medians.
pub fn pipeline(analyzer: &Analyzer, video: &Path, repeats: usize) -> Result<Figures> {
    let job = jobs(video, None)?.remove(0);
    let minutes = decode::probe(video)?.duration / 60.0;
    println!(
        "benchmark on {} ({:.2} min of video, {} utterances), device {:?}, {} thread(s)",
        video.display(),
        minutes,
        job.dialogue.utterances.len(),
        analyzer.device,
        tch::get_num_threads()
    );
    let mut per_stage: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut per_part: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut features = None;
    for _ in 0..repeats.max(1) {
        let mut last = Instant::now();
        let mut current: Option<&'static str> = None;
        let mut times: BTreeMap<&'static str, f64> = BTreeMap::new();
        let mut progress = |p: Progress| {
            let name = p.stage.name();
            if current != Some(name) {
                if let Some(c) = current {
                    *times.entry(c).or_default() += last.elapsed().as_secs_f64();
                }
                last = Instant::now();
                current = Some(name);
            }
        };
        let _ = crate::profile::take();
        let (f, _) = extract::extract(
            &analyzer.encoders,
            job.video.as_deref(),
            &job.dialogue,
            &analyzer.options,
            &mut progress,
            &CancelToken::default(),
        )?;
        if let Some(c) = current {
            *times.entry(c).or_default() += last.elapsed().as_secs_f64();
        }
        for (k, v) in times {
            per_stage.entry(k.to_owned()).or_default().push(v);
        }
        for (k, (s, _)) in crate::profile::take() {
            per_part.entry(k).or_default().push(s);
        }
        features = Some(f);
    }
    let features = features.expect("at least one run");
    let start = Instant::now();
    let runs = 5;
    for _ in 0..runs {
        let _ = analyzer.predict(&job.dialogue, &features);
    }
    per_stage
        .entry("model".into())
        .or_default()
        .push(start.elapsed().as_secs_f64() / runs as f64);
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("{:<22} {:>10} {:>16}", "stage", "seconds", "s per video min");
    let mut stages = BTreeMap::new();
    let mut total = 0.0;
    for (stage, v) in &per_stage {
        let m = median(v);
        total += m;
        stages.insert(stage.clone(), m);
        println!("{stage:<22} {m:>10.2} {:>16.2}", m / minutes);
    }
    println!("{:<22} {total:>10.2} {:>16.2}", "total", total / minutes);
    println!("\n{:<22} {:>10}   (inside the stages above)", "sub-stage", "seconds");
    for (part, v) in &per_part {
        println!("{part:<22} {:>10.2}", median(v));
    }
    stages.insert("total".into(), total);
    Ok(Figures { stages, minutes })
}

/// The Python peer's figures: its stage totals as `amuse bench` groups them.
pub struct Peer {
    pub decode: f64,
    pub faces: f64,
    pub encoders: f64,
    pub total: f64,
}

/// Run `../shared/bench/peer_pipeline.py` on `video` and its transcript with one thread.
fn python_peer(video: &Path) -> Result<Peer> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = crate::train::data::data_dir().join("../bench/peer_pipeline.py");
    if !script.is_file() {
        bail!("no Python peer at {} (it lives in ../shared/bench)", script.display());
    }
    // The bootstrap's venv: `.libtorch` links to its `lib/python3.x/site-packages/torch`.
    let python = std::fs::canonicalize(root.join(".libtorch"))
        .ok()
        .and_then(|torch| torch.ancestors().nth(4).map(|venv| venv.join("bin/python")))
        .filter(|p| p.is_file())
        .context("no bootstrap venv found (the `.libtorch` link): run `make setup`")?;
    let csv = crate::media::transcript::find_beside(video)
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")))
        .context("the Python peer needs a MELD-style .csv transcript beside the video")?;
    println!("\nrunning the Python peer: {} {}", python.display(), script.display());
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(video)
        .arg(&csv)
        .args(["--threads", &tch::get_num_threads().to_string(), "--amuse"])
        .arg(root)
        .env("OMP_NUM_THREADS", tch::get_num_threads().to_string())
        .output()
        .with_context(|| format!("running {}", python.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "the Python peer failed:\n{}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse_peer(&text).with_context(|| format!("reading the Python peer's figures from:\n{text}"))
}

/// Its `as amuse bench's stages: decode D  faces F (…)  encoders E (…)` and `TOTAL_S T` lines.
fn parse_peer(text: &str) -> Option<Peer> {
    let after = |line: &str, key: &str| -> Option<f64> {
        let rest = line.split(key).nth(1)?;
        rest.split_whitespace().next()?.parse().ok()
    };
    let grouped = text.lines().find(|l| l.starts_with("as amuse bench's stages:"))?;
    let total = text
        .lines()
        .find_map(|l| l.strip_prefix("TOTAL_S "))
        .and_then(|v| v.trim().parse().ok())?;
    Some(Peer {
        decode: after(grouped, "decode ")?,
        faces: after(grouped, "faces ")?,
        encoders: after(grouped, "encoders ")?,
        total,
    })
}

fn compare(ours: &Figures, peer: &Peer) {
    println!("\nsame session, same video, one thread each (ratio = Python / amuse; > 1: amuse is faster)");
    println!("{:<12} {:>10} {:>10} {:>8}", "stage", "amuse s", "Python s", "ratio");
    let get = |k: &str| ours.stages.get(k).copied().unwrap_or(0.0);
    let extraction = get("decode") + get("faces") + get("encoders");
    for (name, a, p) in [
        ("decode", get("decode"), peer.decode),
        ("faces", get("faces"), peer.faces),
        ("encoders", get("encoders"), peer.encoders),
        ("extraction", extraction, peer.total),
    ] {
        println!("{name:<12} {a:>10.2} {p:>10.2} {:>7.2}×", p / a.max(1e-9));
    }
    println!(
        "real-time factor of amuse's extraction: {:.3} (seconds of compute per second of video)",
        extraction / (ours.minutes * 60.0)
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_peers_figures_are_read_from_its_report() {
        let text = "stage   seconds\nas amuse bench's stages: decode 4.712  faces 6.101 (MTCNN+split+face CNN+scene CNN)  encoders 8.530 (text+audio+sound+voice)\nLOAD_S 9.1\nTOTAL_S 19.243\n";
        let p = super::parse_peer(text).unwrap();
        assert_eq!((p.decode, p.faces, p.encoders, p.total), (4.712, 6.101, 8.530, 19.243));
        assert!(super::parse_peer("TOTAL_S 3").is_none());
    }
}
