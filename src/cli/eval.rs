//! `amuse eval`: a checkpoint's scores on a labelled split (MELD, RAVDESS, IEMOCAP).

use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;
use tch::Device;

use super::train::{encoders, load_corpus, Dataset};
use crate::manifest::ModelStore;
use crate::model::amuse::MODALITIES;
use crate::model::checkpoint;
use crate::train;

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[arg(long, value_enum, default_value_t = Dataset::Meld)]
    pub data: Dataset,
    /// Split: train or dev (MELD test is held out).
    #[arg(long, default_value = "dev")]
    pub split: String,
    /// Mask out modalities at inference (comma-separated: text,audio,visual).
    #[arg(long, value_delimiter = ',')]
    pub without: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The IEMOCAP_full_release folder (with --data iemocap).
    #[arg(long)]
    pub iemocap: Option<PathBuf>,
}

pub fn eval(args: &EvalArgs, device: Device) -> Result<()> {
    let store = ModelStore::open_default()?;
    let dir = checkpoint::default_dir();
    let loaded = checkpoint::load(&dir, device)?;
    let enc = encoders(&store, loaded.info.config.audio_source, loaded.text_adapter.as_ref())?;
    let six = loaded.info.config.classes == crate::train::iemocap::CLASSES.len() as i64;
    if six != (args.data == Dataset::Iemocap) {
        bail!(
            "the checkpoint {} predicts {} classes but {:?} is labelled with {}: evaluate an IEMOCAP \
             checkpoint (amuse train --data iemocap --out DIR) on IEMOCAP, with --checkpoint DIR",
            dir.display(),
            loaded.info.config.classes,
            args.data,
            if args.data == Dataset::Iemocap { 6 } else { 7 }
        );
    }
    if let Some(other) = args.without.iter().find(|m| !MODALITIES.contains(&m.as_str())) {
        bail!("unknown modality {other} (text, audio, visual)");
    }
    let mut corpus = load_corpus(&store, &enc, args.data, &args.split, args.iemocap.as_deref())?;
    // Modalities the checkpoint was not trained on are masked out, as in the viewer.
    let keep: Vec<String> = loaded
        .info
        .modalities
        .iter()
        .filter(|m| !args.without.contains(m))
        .cloned()
        .collect();
    corpus.dialogues = corpus.only(&keep);
    let report = if six {
        train::evaluate_named(&loaded.model, &corpus, device, &crate::train::iemocap::CLASSES)
    } else {
        train::evaluate(&loaded.model, &corpus, device)
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{} ({}):\n{}", corpus.name, dir.display(), report.table());
    }
    Ok(())
}
