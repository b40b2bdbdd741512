//! `amuse adapt-text`: fine-tune the text encoder's top layers for emotion on MELD train
//! (low-rank adapters, see `train::text_adapter`), select the epoch on MELD dev, and write
//! `text_adapter.safetensors` + `text_adapter.json` for `amuse train --text-adapter`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use tch::Device;

use crate::manifest::ModelStore;
use crate::train::text_adapter::{self, AdaptOptions};

#[derive(Debug, Args)]
pub struct AdaptTextArgs {
    /// Folder to write the adapter into.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    /// Utterances per step.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Only the first N utterances of MELD train and dev (quick runs).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Decay the learning rate linearly to zero (`--decay false`: constant).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub decay: bool,
    /// Put the N preceding utterances of the dialogue before each one in MPNet's input.
    #[arg(long, default_value_t = 0)]
    pub context: usize,
}

pub fn run(args: &AdaptTextArgs, device: Device) -> Result<()> {
    let store = ModelStore::open_default()?;
    let opts = AdaptOptions {
        epochs: args.epochs,
        batch: args.batch,
        lr: args.lr,
        seed: args.seed,
        limit: args.limit,
        decay: args.decay,
        context: args.context,
        ..Default::default()
    };
    let train = text_adapter::meld_split(&store, "train", opts.limit, opts.context)?;
    let dev = text_adapter::meld_split(&store, "dev", opts.limit, opts.context)?;
    let geo = text_adapter::geometry(&store)?;
    eprintln!(
        "adapting MPNet's layers {}–11 on {} MELD train utterances ({} dev)",
        geo.first_layer,
        train.labels.len(),
        dev.labels.len()
    );
    let (factors, history) = text_adapter::adapt(&store, &train, &dev, &opts, device, &mut |log| {
        eprintln!(
            "epoch {:>2}  loss {:.4}  train acc {:.4}  dev acc {:.4}  dev w-F1 {:.4}  {:.0}s",
            log.epoch, log.loss, log.train_accuracy, log.dev.accuracy, log.dev.weighted_f1, log.seconds
        );
    })?;
    let best = history
        .iter()
        .max_by(|a, b| a.dev.weighted_f1.total_cmp(&b.dev.weighted_f1))
        .expect("at least one epoch");
    println!(
        "MELD dev, utterance level ({} preceding utterances in MPNet's input, no context model), epoch {}:\n{}",
        opts.context,
        best.epoch,
        best.dev.table()
    );
    let about = serde_json::json!({
        "trained_on": format!(
            "MELD train ({} utterances), words only; {} epochs, batch {}, lr {}{}, AdamW wd {}, seed {}; \
             best epoch by MELD dev weighted F1",
            train.labels.len(), opts.epochs, opts.batch, opts.lr,
            if opts.decay { " decaying linearly to 0" } else { "" }, opts.weight_decay, opts.seed
        ),
        "adapted_layers": format!("{}–11", geo.first_layer),
        "context_utterances": opts.context,
        "best_epoch": best.epoch,
        "dev_utterance_level": { "accuracy": best.dev.accuracy, "weighted_f1": best.dev.weighted_f1 },
        "seconds_per_epoch": history.iter().map(|h| h.seconds).sum::<f64>() / history.len() as f64,
        "history": history.iter().map(|h| serde_json::json!({
            "epoch": h.epoch, "loss": h.loss, "train_accuracy": h.train_accuracy,
            "dev_weighted_f1": h.dev.weighted_f1, "seconds": h.seconds,
        })).collect::<Vec<_>>(),
    });
    text_adapter::save(&args.out, &store, opts.context, &factors, &about)?;
    println!("saved {}", args.out.join(crate::features::adapter::FILE).display());
    Ok(())
}
