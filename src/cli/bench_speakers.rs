//! `amuse bench speakers`: how well utterances are grouped by voice
//! ([`crate::features::speakers`]) on real speech, and which threshold to ship.
//!
//! RAVDESS actors read the same two sentences in eight emotions, so voices must be told
//! apart across emotions, not by wording. Simulated dialogues draw 2–5 actors and 3–8
//! clips each; the threshold is chosen on actors 1–16 and reported on actors 17–20 (the
//! dev actors of the emotion model), with the adjusted Rand index and how often the
//! number of speakers comes out right.

use std::path::PathBuf;

use anyhow::{bail, Result};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::Device;

use crate::features::speakers;
use crate::features::voice::VoiceEncoder;
use crate::manifest::ModelStore;
use crate::media::decode;

const DIALOGUES: usize = 300;

/// Voice vectors of every clip of `actors`, grouped by actor.
fn voices(encoder: &VoiceEncoder, actors: std::ops::RangeInclusive<u32>) -> Result<Vec<Vec<Vec<f32>>>> {
    let root = crate::train::data::data_dir().join("ravdess16k");
    let mut out = Vec::new();
    for actor in actors {
        let dir = root.join(format!("Actor_{actor:02}"));
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| anyhow::anyhow!("{}: {e} (RAVDESS is expected under ../shared/data)", dir.display()))?
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        let mut v = Vec::with_capacity(files.len());
        for f in files {
            let samples = decode::audio(&f, 0.0, f64::INFINITY, 16_000)?;
            v.push(Vec::<f32>::try_from(encoder.encode(&samples)?)?);
        }
        out.push(v);
    }
    Ok(out)
}

/// A simulated dialogue: clips of 2–5 actors, shuffled (speakers alternate).
fn dialogue(by_actor: &[Vec<Vec<f32>>], rng: &mut ChaCha8Rng) -> (Vec<Vec<f32>>, Vec<usize>) {
    let n = rng.random_range(2..=5usize).min(by_actor.len());
    let mut actors: Vec<usize> = (0..by_actor.len()).collect();
    actors.shuffle(rng);
    let mut items: Vec<(Vec<f32>, usize)> = Vec::new();
    for (label, &a) in actors[..n].iter().enumerate() {
        let k = rng.random_range(3..=8usize).min(by_actor[a].len());
        for v in by_actor[a].choose_multiple(rng, k) {
            items.push((v.clone(), label));
        }
    }
    items.shuffle(rng);
    items.into_iter().unzip()
}

/// Mean ARI and fraction of dialogues with the right number of speakers at `threshold`.
fn score(dialogues: &[(Vec<Vec<f32>>, Vec<usize>)], threshold: f32) -> (f64, f64) {
    let (mut ari, mut right) = (0.0, 0usize);
    for (emb, truth) in dialogues {
        let got = speakers::cluster(emb, threshold);
        ari += speakers::adjusted_rand(&got, truth);
        right += usize::from(got.iter().max() == truth.iter().max());
    }
    let n = dialogues.len().max(1) as f64;
    (ari / n, right as f64 / n)
}

pub fn run(store: &ModelStore, device: Device) -> Result<()> {
    let encoder = VoiceEncoder::load(store, device)?;
    let t0 = std::time::Instant::now();
    let train = voices(&encoder, 1..=16)?;
    let dev = voices(&encoder, 17..=20)?;
    let clips: usize = train.iter().chain(&dev).map(Vec::len).sum();
    if clips == 0 {
        bail!("no RAVDESS clips found");
    }
    println!(
        "voice vectors of {clips} RAVDESS clips in {:.1} s ({:.1} ms per clip)",
        t0.elapsed().as_secs_f64(),
        1000.0 * t0.elapsed().as_secs_f64() / clips as f64
    );
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let train_d: Vec<_> = (0..DIALOGUES).map(|_| dialogue(&train, &mut rng)).collect();
    let dev_d: Vec<_> = (0..DIALOGUES).map(|_| dialogue(&dev, &mut rng)).collect();
    println!("{DIALOGUES} simulated dialogues each (2–5 speakers, 3–8 clips per speaker)");
    println!("threshold  train ARI  train #spk ok   dev ARI  dev #spk ok");
    let mut best = (f64::NEG_INFINITY, 0.0f32);
    for step in 0..=14 {
        let t = 0.50 + 0.025 * step as f32;
        let (ari, ok) = score(&train_d, t);
        let (dari, dok) = score(&dev_d, t);
        println!(
            "{t:9.3}  {ari:9.3}  {:12.1}%  {dari:8.3}  {:10.1}%",
            100.0 * ok,
            100.0 * dok
        );
        if ari > best.0 {
            best = (ari, t);
        }
    }
    let (dari, dok) = score(&dev_d, best.1);
    println!(
        "best threshold on train actors: {:.3} (train ARI {:.3}); dev actors 17–20 at it: ARI {dari:.3}, right speaker count {:.1}%; shipped default {:.3}",
        best.1,
        best.0,
        100.0 * dok,
        speakers::DEFAULT_THRESHOLD
    );
    Ok(())
}
