//! Part of `amuse bench lime`: why the issue's ≥ 10× at 5000 samples cannot be reached by
//! the exact explanation on this CPU, measured rather than argued.
//!
//! The exact explanation must encode every distinct perturbed transcript with MPNet-base,
//! and a ≥ 10-word utterance has thousands of them at 5000 samples. Three figures settle it:
//!
//! 1. the CPU's single-thread sgemm throughput (a `[1024, 768] × [768, 3072]` matmul, the
//!    shape of MPNet's feed-forward layer on a batch of 64 × 16 tokens): the most any dense
//!    encoder can get out of this core;
//! 2. MPNet's FLOPs per transcript of L tokens: 12 layers × (4·768² attention projections +
//!    2·768·3072 feed-forward) = 84.9 M multiply-adds per token, so 2 × 84.9 M FLOPs per
//!    token, plus the attention scores and their weighted sum, 12 × 4·L·768 FLOPs per token;
//!    counted on the transcripts as tokenised, and as padded per batch by the encoder;
//! 3. MPNet's achieved GFLOP/s on a spread of those transcripts.
//!
//! Their quotient is a lower bound on the encoding time even at the sgemm peak, to compare
//! with the reference's 143 s / 10 = 14.3 s.

use std::time::Instant;

use anyhow::Result;
use tch::{Device, Kind, Tensor};

use super::bench_lime::{cpu_seconds, spread};
use crate::analysis::Analyzer;
use crate::lime::engine::{BoxError, Labels, LimeConfig};
use crate::lime::text::explain_text;

/// MPNet-base: hidden size, feed-forward size, layers.
const HIDDEN: f64 = 768.0;
const FFN: f64 = 3072.0;
const LAYERS: f64 = 12.0;
/// The reference's seconds per ≥ 10-word utterance at 5000 samples, over 10.
const TEN_TIMES: f64 = 143.0 / 10.0;
/// Transcripts of one utterance encoded to measure MPNet's achieved rate.
const MEASURED: usize = 256;

/// FLOPs of one MPNet-base forward over `tokens` tokens (special tokens included).
pub fn mpnet_flops(tokens: usize) -> f64 {
    let l = tokens as f64;
    let weights_per_token = LAYERS * (4.0 * HIDDEN * HIDDEN + 2.0 * HIDDEN * FFN);
    l * (2.0 * weights_per_token + LAYERS * 4.0 * l * HIDDEN)
}

/// FLOPs of the transcripts as the encoder runs them: sorted by length, batches of `batch`,
/// each padded to its longest.
fn padded_flops(mut lengths: Vec<usize>, batch: usize) -> f64 {
    lengths.sort_unstable();
    lengths
        .chunks(batch.max(1))
        .map(|c| c.len() as f64 * mpnet_flops(*c.last().unwrap_or(&0)))
        .sum()
}

/// Single-thread sgemm GFLOP/s (median of 5 CPU-timed runs of 4 matmuls).
fn sgemm_gflops() -> f64 {
    let (m, k, n) = (64 * 16, 768, 3072);
    let a = Tensor::randn([m, k], (Kind::Float, Device::Cpu));
    let b = Tensor::randn([k, n], (Kind::Float, Device::Cpu));
    let _ = a.matmul(&b); // warm-up: the first call allocates and picks a kernel
    let mut rates: Vec<f64> = (0..5)
        .map(|_| {
            let t = cpu_seconds();
            for _ in 0..4 {
                let _ = a.matmul(&b);
            }
            4.0 * 2.0 * (m * k * n) as f64 / (cpu_seconds() - t) / 1e9
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

/// The distinct perturbed transcripts of `text` at 5000 samples (seed 0), as LIME asks for
/// them.
fn distinct_transcripts(text: &str) -> Result<Vec<String>> {
    let mut distinct: Vec<String> = Vec::new();
    let record = |b: &[String]| {
        distinct.extend(b.iter().cloned());
        Ok::<_, BoxError>(b.iter().map(|_| vec![0.5]).collect())
    };
    explain_text(text, &Labels::Given(vec![0]), &LimeConfig::text(), record)?;
    Ok(distinct)
}

/// Print the sgemm peak, MPNet's achieved rate and the lower bound for `texts` (the ≥ 10-word
/// utterances of the speed benchmark).
pub fn report(analyzer: &Analyzer, texts: &[&str]) -> Result<()> {
    let Some(first) = texts.first() else { return Ok(()) };
    let peak = sgemm_gflops();
    println!(
        "\nsgemm [1024, 768] × [768, 3072], {} thread(s): {peak:.1} GFLOP/s (CPU time)",
        tch::get_num_threads()
    );
    let text = &analyzer.encoders.text;
    let lengths =
        |ts: &[String]| -> Result<Vec<usize>> { ts.iter().map(|t| Ok(text.tokenizer.encode(t)?.ids.len())).collect() };
    // MPNet's achieved rate on a spread of the first utterance's distinct transcripts.
    let sample = spread(distinct_transcripts(first)?, MEASURED);
    let refs: Vec<&str> = sample.iter().map(String::as_str).collect();
    let (useful, padded) = (
        lengths(&sample)?.into_iter().map(mpnet_flops).sum::<f64>(),
        padded_flops(lengths(&sample)?, text.batch_size),
    );
    let (t, cpu) = (Instant::now(), cpu_seconds());
    text.encode(&refs)?;
    let (wall, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let achieved = useful / cpu / 1e9;
    println!(
        "MPNet on {} distinct transcripts of “{first}”: {:.1} ms each (CPU), {achieved:.1} GFLOP/s on the tokens, {:.1} GFLOP/s counting padding ({:.0} % of sgemm; wall {:.1} s)",
        refs.len(),
        cpu * 1e3 / refs.len() as f64,
        padded / cpu / 1e9,
        100.0 * padded / cpu / 1e9 / peak,
        wall
    );
    println!(
        "{:>8} {:>8} {:>9} {:>12} {:>14} {:>16}  utterance",
        "words", "distinct", "tokens", "GFLOP", "s at sgemm", "s at MPNet rate"
    );
    let mut bounds = Vec::new();
    for t in texts {
        let distinct = distinct_transcripts(t)?;
        let lens = lengths(&distinct)?;
        let gflop = lens.iter().copied().map(mpnet_flops).sum::<f64>() / 1e9;
        let tokens = lens.iter().sum::<usize>() as f64 / lens.len().max(1) as f64;
        let words = crate::lime::text::Words::new(t).num_words();
        println!(
            "{words:>8} {:>8} {tokens:>9.1} {gflop:>12.0} {:>14.1} {:>16.1}  “{t}”",
            distinct.len(),
            gflop / peak,
            gflop / achieved
        );
        bounds.push(gflop / peak);
    }
    let mean = bounds.iter().sum::<f64>() / bounds.len() as f64;
    println!(
        "lower bound at 5000 samples, ≥ 10 words: {mean:.1} s of MPNet alone at the sgemm peak (mean of {}), against {TEN_TIMES:.1} s for 10× the reference: {}",
        bounds.len(),
        if mean > TEN_TIMES {
            format!("{:.1}× more than 10× allows, so exact encoding cannot reach it on this CPU", mean / TEN_TIMES)
        } else {
            "within reach in principle".into()
        }
    );
    Ok(())
}
