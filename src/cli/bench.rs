//! `amuse bench`: measured figures, printed (speed goals live here, not in timed tests).
//!
//! * `features`: seconds of compute per minute of video, split by stage, on a dialogue
//!   (default: the demo), bypassing the feature cache.
//! * `model`: forward time of the loaded checkpoint on that dialogue.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use super::features::jobs;
use crate::analysis::Analyzer;
use crate::features::extract::{self, CancelToken, Progress};
use crate::media::decode;

pub fn run(analyzer: &Analyzer, video: &Path, repeats: usize) -> Result<()> {
    let job = jobs(video, None)?.remove(0);
    let minutes = decode::probe(video)?.duration / 60.0;
    println!(
        "benchmark on {} ({:.2} min of video, {} utterances), device {:?}",
        video.display(),
        minutes,
        job.dialogue.utterances.len(),
        analyzer.device
    );
    let mut per_stage: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
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
            per_stage.entry(k).or_default().push(v);
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
        .entry("model")
        .or_default()
        .push(start.elapsed().as_secs_f64() / runs as f64);
    println!("{:<14} {:>10} {:>16}", "stage", "seconds", "s per video min");
    let mut total = 0.0;
    for (stage, v) in &per_stage {
        let mut v = v.clone();
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        total += median;
        println!("{stage:<14} {median:>10.2} {:>16.2}", median / minutes);
    }
    println!("{:<14} {total:>10.2} {:>16.2}", "total", total / minutes);
    Ok(())
}
