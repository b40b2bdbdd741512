//! `amuse bench train`: seconds per training epoch on MELD train from cached encoder
//! features (the training-speed figure), with the shipped checkpoint's settings.
//!
//! The first run computes and caches the MPNet token states of MELD train (minutes); the
//! figure printed is the training alone, features already in memory.

use anyhow::Result;
use tch::{nn, Device};

use crate::manifest::ModelStore;
use crate::model::amuse::Amuse;
use crate::model::config::{AudioSource, Config};
use crate::train::corpora::{self, Dataset, Encoders, Sources, Split};
use crate::train::{self, TrainOptions};

pub fn run(epochs: usize, device: Device) -> Result<()> {
    let store = ModelStore::open_default()?;
    let enc = Encoders::load(&store, AudioSource::Whisper, None)?;
    let (corpus, load) =
        train::time_it(|| corpora::load(&store, &enc, Dataset::Meld, Split::Train, &Sources::default()));
    let corpus = corpus?;
    println!(
        "{}: {} dialogues, {} utterances (features loaded in {load:.1} s)",
        corpus.name,
        corpus.dialogues.len(),
        corpus.utterances()
    );
    // The shipped checkpoint's width and depth (`amuse train` defaults).
    let config = Config {
        hidden: 128,
        man_layers: 2,
        ..Config::default()
    };
    tch::manual_seed(7);
    let mut vs = nn::VarStore::new(device);
    let model = Amuse::new(&vs.root(), config);
    let opts = TrainOptions {
        epochs: epochs.max(1),
        ..Default::default()
    };
    let threads = tch::get_num_threads();
    let history = train::fit(&model, &mut vs, &[&corpus], &[], &[], &opts, &mut |log| {
        println!(
            "epoch {}: {:.1} s ({:.0} utterances/s, {threads} thread(s), device {device:?})",
            log.epoch,
            log.seconds,
            corpus.utterances() as f64 / log.seconds
        );
    })?;
    let mean = history.iter().map(|h| h.seconds).sum::<f64>() / history.len().max(1) as f64;
    println!("mean: {mean:.1} s per epoch on MELD train");
    Ok(())
}
