//! `amuse eval`: a checkpoint's scores on a labelled split (MELD, RAVDESS, IEMOCAP).

use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;
use tch::Device;

use crate::manifest::ModelStore;
use crate::model::amuse::{self, Modality};
use crate::model::checkpoint;
use crate::train;
use crate::train::corpora::{self, Dataset, Encoders, Sources, Split};
use crate::train::iemocap_video::Faces;

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[arg(long, value_enum, default_value_t = Dataset::Meld)]
    pub data: Dataset,
    /// The split (dev, or valid for FER+; test splits are held out of this project).
    #[arg(long, value_enum, default_value_t = Split::Dev)]
    pub split: Split,
    /// Mask out modalities at inference (comma-separated: text,audio,visual).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub without: Vec<Modality>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The IEMOCAP_full_release folder (with --data iemocap).
    #[arg(long)]
    pub iemocap: Option<PathBuf>,
    /// Faces from IEMOCAP's dialogue videos, for a checkpoint that reads faces: which side
    /// of the frame the actor who wore the markers sits on (as in training), or off.
    #[arg(long, value_enum, default_value_t = Faces::default())]
    pub iemocap_faces: Faces,
    /// A MELD.Raw folder (with --data meld-raw).
    #[arg(long)]
    pub meld_raw: Option<PathBuf>,
    /// A FER+ folder (with --data ferplus): one holding FER2013Train/ and FER2013Valid/, or a
    /// split folder with label.csv and its PNGs (default: `<data>/ferplus`).
    #[arg(long)]
    pub ferplus: Option<PathBuf>,
    /// With --data ferplus: the expression encoder to evaluate (`face_expression_ferplus`,
    /// the shipped one; `face_expression`, the PyEmotion FER2013 baseline).
    #[arg(long, default_value = crate::features::expression::SHIPPED)]
    pub expression: String,
    /// With --data ferplus: give the encoder the PNG as it is, or the pipeline's MTCNN crop of it.
    #[arg(long, value_enum, default_value_t = FaceCrop::Given)]
    pub crop: FaceCrop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FaceCrop {
    /// FER+'s own tight crop.
    Given,
    /// Detected by MTCNN in a frame around the face and cropped at its box, as in a video.
    Mtcnn,
}

pub fn eval(args: &EvalArgs, device: Device) -> Result<()> {
    let store = ModelStore::open_default()?;
    let dir = checkpoint::default_dir();
    if args.data == Dataset::Ferplus {
        eval_expression(args, &store, device)?;
        let info = checkpoint::read_info(&dir)?;
        if !info.reads(Modality::Visual) {
            println!(
                "the checkpoint {} does not read faces (modalities: {}), so it has no visual head to evaluate",
                dir.display(),
                amuse::join(&info.modalities, ", ")
            );
            return Ok(());
        }
        println!("the checkpoint {} on the same faces (visual only):", dir.display());
    }
    let loaded = checkpoint::load(&dir, device)?;
    let enc = Encoders::load(&store, loaded.info.config.audio_source, loaded.text_adapter.as_ref())?;
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
    // Modalities the checkpoint was not trained on are masked out, as in the viewer.
    let keep: Vec<Modality> = loaded
        .info
        .modalities
        .iter()
        .filter(|m| !args.without.contains(m))
        .cloned()
        .collect();
    if keep.is_empty() {
        bail!(
            "--without {} masks every modality the checkpoint reads ({}): nothing would be left to \
             predict from",
            amuse::join(&args.without, ","),
            amuse::join(&loaded.info.modalities, ", ")
        );
    }
    let sources = Sources {
        iemocap: args.iemocap.clone(),
        // Faces are extracted only for a checkpoint that reads them.
        iemocap_faces: keep.contains(&Modality::Visual).then_some(args.iemocap_faces),
        ferplus: args.ferplus.clone(),
        meld_raw: args.meld_raw.clone(),
        ..Sources::default()
    };
    let mut corpus = corpora::load(&store, &enc, args.data, args.split, &sources)?;
    corpus.dialogues = corpus.only(&keep);
    let report = if six {
        train::evaluate_named(&loaded.model, &corpus, device, &crate::train::iemocap::CLASSES)
    } else {
        train::evaluate(&loaded.model, &corpus, device)
    };
    let (raw, calibrated) = train::calibrate::measure(&loaded.model, &loaded.info.calibration, &corpus, device);
    let heads: Vec<(String, crate::metrics::Report)> = Modality::ALL
        .iter()
        .filter_map(|m| {
            train::evaluate_head(&loaded.model, &corpus, device, m.index()).map(|r| (m.name().to_owned(), r))
        })
        .collect();
    if args.json {
        let out = serde_json::json!({
            "fused": report,
            "calibration": { "raw": raw, "calibrated": calibrated },
            "heads": heads.iter().map(|(n, r)| (n.clone(), serde_json::to_value(r).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{} ({}):\n{}", corpus.name, dir.display(), report.table());
        println!(
            "calibration (expected calibration error, {} bins): {:.4} raw, {:.4} with the checkpoint's temperatures \
             (a perfectly calibrated model would show {:.4} on {} utterances, by chance)",
            train::calibrate::BINS,
            raw.ece,
            calibrated.ece,
            calibrated.floor.unwrap_or(f64::NAN),
            calibrated.n
        );
        for (name, r) in &heads {
            println!(
                "{name} Central head alone: accuracy {:.4}, weighted F1 {:.4} ({} utterances)",
                r.accuracy, r.weighted_f1, r.n
            );
        }
    }
    Ok(())
}

/// The face path alone on FER+: the expression encoder's own reading.
fn eval_expression(args: &EvalArgs, store: &ModelStore, device: Device) -> Result<()> {
    use crate::train::ferplus;
    let root = args.ferplus.clone().unwrap_or_else(train::data::data_dir);
    let split = ferplus::read(&ferplus::split_dir(&root, args.split.name())?)?;
    let encoder = crate::features::expression::ExpressionEncoder::load(store, &args.expression, device)?;
    let detector = match args.crop {
        FaceCrop::Given => None,
        FaceCrop::Mtcnn => Some(crate::media::faces::mtcnn::Mtcnn::load(store, device)?),
    };
    let crop = detector.as_ref().map_or(ferplus::Crop::Given, ferplus::Crop::Mtcnn);
    let result = ferplus::evaluate(&encoder, &split, &crop)?;
    if args.json {
        let out = serde_json::json!({ "encoder": args.expression, "split": split.dir, "crop": format!("{:?}", args.crop),
            "ties": split.ties, "other": split.other, "result": result });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "FER+ {} ({}), expression encoder `{}`, {:?} crop: {} faces with a majority in MELD's classes \
         ({} ties and {} contempt/unknown/not-a-face left out)",
        args.split,
        split.dir.display(),
        args.expression,
        args.crop,
        result.faces,
        split.ties,
        split.other
    );
    if result.undetected > 0 {
        println!("MTCNN found no face in {} of them (left out)", result.undetected);
    }
    if !result.unreadable.is_empty() {
        println!(
            "{} images could not be read (left out), e.g. {}",
            result.unreadable.len(),
            result.unreadable[0]
        );
    }
    println!("{}", result.report.table());
    Ok(())
}
