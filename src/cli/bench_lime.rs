//! `amuse bench lime`: seconds per word explanation on real MELD dev dialogues (text only:
//! MELD's media is not here), split between MPNet, the AMuSE model and the LIME engine, and
//! (`--stability`) how often two seeds agree on the top-5 words.
//!
//! The reference figure: Python LIME 0.2.0.1 with sentence-transformers
//! all-mpnet-base-v2 takes ~143 s per MELD utterance of ≥ 10 words at 5000 samples on this
//! 2-core CPU with 1 thread (its engine alone, with a trivial classifier, ~0.14 s).

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::analysis::explain_words::{Timing, WordExplanation, INTERACTIVE_SAMPLES};
use crate::analysis::Analyzer;
use crate::features::text::dialogue_contexts;
use crate::lime::engine::{self, cosine_distances, evaluate_distinct, rng_from_seed, sample_text_masks};
use crate::lime::engine::{BoxError, Labels, LimeConfig};
use crate::lime::text::{explain_text, Words};
use crate::media::transcript::{csv, text as transcript_text};
use crate::model::batch::UtteranceInput;
use crate::progress::CancelToken;
use crate::train::data;

/// Reference seconds per ≥ 10-word MELD utterance at 5000 samples (see the module doc).
const REFERENCE_SECONDS: f64 = 143.0;
/// Reference engine-only seconds at 5000 samples.
const REFERENCE_ENGINE_SECONDS: f64 = 0.14;

/// What to measure.
pub struct Options {
    /// Sample counts (`--samples 5000` or `--samples 300,500,1000`).
    pub samples: Vec<usize>,
    /// Utterances per group (speed) or in total (stability).
    pub utterances: usize,
    pub stability: bool,
    /// MPNet batch sizes to compare on the distinct transcripts of one utterance.
    pub batch_sizes: Vec<usize>,
}

/// One MELD dev utterance in its dialogue.
struct Case {
    dialogue: usize,
    index: usize,
    text: String,
    /// The preceding utterances the text encoder reads before it.
    preceding: String,
    words: usize,
}

/// MELD dev as model inputs (cached MPNet states) and the utterances' transcripts.
fn meld_dev(analyzer: &Analyzer) -> Result<(Vec<Vec<UtteranceInput>>, Vec<Case>)> {
    let corpus = data::meld(&analyzer.store, &analyzer.encoders.text, "dev")?;
    let path = data::data_dir().join("meld/dev_sent_emo.csv");
    let raw = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let (content, _) = transcript_text::decode(&raw);
    let groups = csv::parse(&content).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut cases = Vec::new();
    for (d, (_, dialogue)) in groups.iter().enumerate() {
        let texts: Vec<&str> = dialogue.utterances.iter().map(|u| u.text.as_str()).collect();
        let contexts = dialogue_contexts(&texts, analyzer.encoders.text.context);
        for ((index, u), preceding) in dialogue.utterances.iter().enumerate().zip(contexts) {
            cases.push(Case {
                dialogue: d,
                index,
                text: u.text.clone(),
                preceding,
                words: Words::new(&u.text).num_words(),
            });
        }
    }
    if corpus.dialogues.len() != groups.len() {
        bail!("MELD dev: corpus and transcripts disagree on the number of dialogues");
    }
    Ok((corpus.dialogues, cases))
}

/// `k` items spread evenly over `items` (deterministic, covers the whole split).
pub(super) fn spread<T>(items: Vec<T>, k: usize) -> Vec<T> {
    let n = items.len();
    if k >= n {
        return items;
    }
    let picks: BTreeSet<usize> = (0..k).map(|j| j * n / k).collect();
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| picks.contains(i))
        .map(|(_, x)| x)
        .collect()
}

/// CPU seconds of this thread: with one LibTorch thread every op runs here, so this is the
/// explanation's cost without the time other processes on the shared cores took.
pub(super) fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn run(analyzer: &mut Analyzer, opts: &Options) -> Result<()> {
    let (dialogues, cases) = meld_dev(analyzer)?;
    let median_words = median(cases.iter().map(|c| c.words as f64).collect()) as usize;
    println!(
        "MELD dev: {} dialogues, {} utterances, median {median_words} words; MPNet batch {}, {} thread(s)",
        dialogues.len(),
        cases.len(),
        analyzer.encoders.text.batch_size,
        tch::get_num_threads()
    );
    if opts.stability {
        return stability(analyzer, &dialogues, cases, opts);
    }
    let long: Vec<&Case> = spread(cases.iter().filter(|c| c.words >= 10).collect(), opts.utterances);
    let typical: Vec<&Case> = spread(
        cases.iter().filter(|c| c.words == median_words).collect(),
        opts.utterances,
    );
    if let Some(first) = long.first() {
        engine_only(&first.text);
        if !opts.batch_sizes.is_empty() {
            batch_sweep(analyzer, &first.text, &opts.batch_sizes)?;
            return Ok(());
        }
        let texts: Vec<&str> = long.iter().map(|c| c.text.as_str()).collect();
        super::bench_flops::report(analyzer, &texts)?;
    }
    let mut samples = opts.samples.clone();
    if !samples.contains(&INTERACTIVE_SAMPLES) {
        samples.push(INTERACTIVE_SAMPLES);
    }
    println!(
        "\n{:<10} {:>7} {:>6} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8}  utterance",
        "group", "samples", "words", "distinct", "seconds", "CPU s", "MPNet", "model", "engine"
    );
    for (group, list) in [("≥10 words", &long), ("median", &typical)] {
        for &n in &samples {
            let (mut totals, mut cpus) = (Vec::new(), Vec::new());
            for c in list.iter() {
                let cpu = cpu_seconds();
                let (e, t) = explain(analyzer, &dialogues, c, n, 0)?;
                let cpu = cpu_seconds() - cpu;
                cpus.push(cpu);
                println!(
                    "{group:<10} {n:>7} {:>6} {:>8} {:>9.2} {cpu:>8.2} {:>8.2} {:>8.2} {:>8.3}  d{} u{} “{}”",
                    c.words,
                    e.fit.evaluated,
                    t.total,
                    t.encode,
                    t.model,
                    t.engine(),
                    c.dialogue,
                    c.index + 1,
                    c.text
                );
                totals.push(t.total);
            }
            let mean = totals.iter().sum::<f64>() / totals.len().max(1) as f64;
            let cpu = cpus.iter().sum::<f64>() / cpus.len().max(1) as f64;
            let vs = if group.starts_with('≥') && n == 5000 {
                format!(
                    "  (reference {REFERENCE_SECONDS:.0} s: {:.1}× by wall clock, {:.1}× by CPU time)",
                    REFERENCE_SECONDS / mean,
                    REFERENCE_SECONDS / cpu
                )
            } else {
                String::new()
            };
            println!(
                "{group:<10} {n:>7}  mean {mean:.2} s ({cpu:.2} CPU s) per explanation over {} utterances{vs}",
                totals.len()
            );
        }
    }
    Ok(())
}

fn explain(
    analyzer: &Analyzer,
    dialogues: &[Vec<UtteranceInput>],
    c: &Case,
    samples: usize,
    seed: u64,
) -> Result<(WordExplanation, Timing)> {
    analyzer.explain_words_of(
        &dialogues[c.dialogue],
        (&c.preceding, &c.text),
        c.index,
        None,
        samples,
        seed,
        &CancelToken::default(),
    )
}

/// The engine alone at 5000 samples (sampling, perturbed strings, de-duplication,
/// distances, feature selection and ridge) with a trivial classifier, and its steps;
/// medians of 5 runs, in CPU time (wall time on the shared cores is mostly waiting).
fn engine_only(text: &str) {
    let cfg = LimeConfig::text();
    let features = Words::new(text);
    let mut steps = [Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..5 {
        let start = cpu_seconds();
        let trivial = |b: &[String]| Ok::<_, BoxError>(b.iter().map(|s| vec![s.len() as f64 / 100.0]).collect());
        let _ = explain_text(text, &Labels::Given(vec![0]), &cfg, trivial);
        steps[0].push(cpu_seconds() - start);
        let t = cpu_seconds();
        let data = sample_text_masks(features.num_words(), cfg.num_samples, &mut rng_from_seed(0));
        steps[1].push(cpu_seconds() - t);
        let t = cpu_seconds();
        let strings: Vec<String> = data.iter().map(|m| features.perturb(m)).collect();
        steps[2].push(cpu_seconds() - t);
        let t = cpu_seconds();
        let trivial = |b: &[String]| Ok::<_, BoxError>(b.iter().map(|s| vec![s.len() as f64 / 100.0]).collect());
        let (probs, _) = evaluate_distinct(&strings, |i| strings[i].clone(), trivial, cfg.batch_size).expect("trivial");
        steps[3].push(cpu_seconds() - t);
        let t = cpu_seconds();
        let distances: Vec<f64> = cosine_distances(&data).into_iter().map(|d| d * 100.0).collect();
        steps[4].push(cpu_seconds() - t);
        let t = cpu_seconds();
        let _ = engine::explain(&data, &probs, &distances, 0, &cfg);
        steps[5].push(cpu_seconds() - t);
    }
    let [total, sample, perturb, distinct, distance, fit] = steps.map(|v| median(v) * 1e3);
    println!(
        "engine alone (trivial classifier, 5000 samples, {} words): {total:.1} ms of CPU ({:.0}× less than the reference's {:.0} ms)",
        features.num_words(),
        REFERENCE_ENGINE_SECONDS * 1e3 / total,
        REFERENCE_ENGINE_SECONDS * 1e3
    );
    println!(
        "  sampling {sample:.1} ms, perturbed strings {perturb:.1} ms, de-duplication {distinct:.1} ms, distances {distance:.1} ms, selection + ridge {fit:.1} ms"
    );
}

/// MPNet milliseconds per transcript, per batch size, on 512 of the distinct perturbed
/// transcripts of `text` at 5000 samples (spread over them, so lengths are representative):
/// sorted by token count and padded per batch, handed over all at once or in the
/// explainer's groups of 128.
fn batch_sweep(analyzer: &mut Analyzer, text: &str, sizes: &[usize]) -> Result<()> {
    let mut distinct: Vec<String> = Vec::new();
    let record = |b: &[String]| {
        distinct.extend(b.iter().cloned());
        Ok::<_, BoxError>(b.iter().map(|_| vec![0.5]).collect())
    };
    explain_text(text, &Labels::Given(vec![0]), &LimeConfig::text(), record)?;
    let total = distinct.len();
    let subset = spread(distinct, 512);
    let refs: Vec<&str> = subset.iter().map(String::as_str).collect();
    println!(
        "\nMPNet on {} of the {total} distinct transcripts of “{text}” (ms per transcript):",
        refs.len()
    );
    println!("{:>6} {:>12} {:>14}", "batch", "all at once", "groups of 128");
    let saved = analyzer.encoders.text.batch_size;
    let per = |t: Instant| t.elapsed().as_secs_f64() * 1e3 / refs.len() as f64;
    for &size in sizes {
        analyzer.encoders.text.batch_size = size.max(1);
        let start = Instant::now();
        analyzer.encoders.text.encode(&refs)?;
        let all = per(start);
        let start = Instant::now();
        for chunk in refs.chunks(128) {
            analyzer.encoders.text.encode(chunk)?;
        }
        println!("{size:>6} {all:>12.1} {:>14.1}", per(start));
    }
    analyzer.encoders.text.batch_size = saved;
    Ok(())
}

/// Top-5 words (as a set, by |weight|) of two seeds, over `opts.utterances` MELD dev
/// utterances spread over the split, for each sample count.
fn stability(analyzer: &Analyzer, dialogues: &[Vec<UtteranceInput>], cases: Vec<Case>, opts: &Options) -> Result<()> {
    let chosen = spread(cases.into_iter().filter(|c| c.words > 0).collect(), opts.utterances);
    let top5 = |e: &WordExplanation| e.top.iter().take(5).map(|(w, _)| w.clone()).collect::<BTreeSet<_>>();
    println!(
        "stability: top-5 words (as a set, by |weight|) of seeds 0 and 1, {} utterances",
        chosen.len()
    );
    println!(
        "{:>7} {:>10} {:>12} {:>14} {:>10} {:>12} {:>12}",
        "samples", "same top-5", "(> 5 words)", "median seconds", "median CPU", "median words", "max seconds"
    );
    for &n in &opts.samples {
        let (mut same, mut same_long, mut long) = (0, 0, 0);
        let (mut seconds, mut cpus) = (Vec::new(), Vec::new());
        for c in &chosen {
            let cpu = cpu_seconds();
            let (a, ta) = explain(analyzer, dialogues, c, n, 0)?;
            let mid = cpu_seconds();
            let (b, tb) = explain(analyzer, dialogues, c, n, 1)?;
            cpus.extend([mid - cpu, cpu_seconds() - mid]);
            seconds.extend([ta.total, tb.total]);
            let agree = top5(&a) == top5(&b);
            eprintln!(
                "  {n} samples, {} words, {}: {:.2} + {:.2} s",
                c.words,
                if agree { "same top-5" } else { "different top-5" },
                ta.total,
                tb.total
            );
            same += usize::from(agree);
            if c.words > 5 {
                long += 1;
                same_long += usize::from(agree);
            }
        }
        let pct = |k: usize, of: usize| 100.0 * k as f64 / of.max(1) as f64;
        let max = seconds.iter().copied().fold(0.0, f64::max);
        println!(
            "{n:>7} {:>9.1}% {:>11.1}% {:>14.2} {:>10.2} {:>12} {:>12.2}",
            pct(same, chosen.len()),
            pct(same_long, long),
            median(seconds),
            median(cpus),
            median(chosen.iter().map(|c| c.words as f64).collect()),
            max
        );
    }
    Ok(())
}
