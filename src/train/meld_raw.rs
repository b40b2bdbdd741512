//! A user's own MELD.Raw (`amuse train --data meld-raw --meld-raw DIR`): the train and dev
//! clips `dia{D}_utt{U}.mp4` beside the split CSVs, every modality extracted by the viewer's
//! own pipeline (decoding, keyframes, MTCNN faces split into face crops and back frames, all
//! encoders) and kept in the feature cache, so a second run starts at once.
//!
//! MELD's videos are not available on these machines; this is how a user who has them
//! trains the full trimodal model (faces *and* back frames, which FER+ cannot teach). The
//! layouts accepted for a split `s` (train or dev; test is held out):
//! `DIR/s/` holding the clips and one CSV (what `amuse analyze` calls a MELD.Raw folder),
//! or the release's `DIR/s/s_splits*/` clips with `DIR/s_sent_emo.csv`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use tch::Tensor;

use super::data::{bar, Corpus};
use crate::features::cache;
use crate::features::extract::{Encoders, ExtractOptions, UtteranceFeatures};
use crate::features::visual::VisualFeatures;
use crate::manifest::ModelStore;
use crate::media::transcript::{meld_raw, Dialogue};
use crate::model::batch::UtteranceInput;
use crate::progress::CancelToken;

fn has_clips(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| meld_raw::is_clip_name(&e.file_name().to_string_lossy()))
}

/// The clip folder of split `split` under `root` and its CSV (`None`: the folder's own).
pub fn split_dir(root: &Path, split: &str) -> Result<(PathBuf, Option<PathBuf>)> {
    let split = match split {
        "train" => "train",
        "dev" | "valid" => "dev",
        "test" => bail!("the MELD test split is held out for independent evaluation; use train or dev"),
        other => bail!("MELD.Raw splits are train and dev, not {other}"),
    };
    let candidates = [
        root.join(split),
        root.join(split).join(format!("{split}_splits")),
        root.join(split).join(format!("{split}_splits_complete")),
        root.join(format!("{split}_splits")),
        root.join(format!("{split}_splits_complete")),
    ];
    let Some(clips) = candidates.iter().find(|d| has_clips(d)) else {
        bail!(
            "no MELD.Raw {split} clips (dia{{D}}_utt{{U}}.mp4) under {}: expected {}/ with the clips and its CSV",
            root.display(),
            root.join(split).display()
        );
    };
    let csv = [
        root.join(format!("{split}_sent_emo.csv")),
        root.join(split).join(format!("{split}_sent_emo.csv")),
    ]
    .into_iter()
    .find(|p| p.is_file() && p.parent() != Some(clips.as_path()));
    Ok((clips.clone(), csv))
}

/// The model's face and back-frame inputs of one utterance's visual features: the face
/// rows of the keyframes that had the speaker's face (none: no face input), every back frame.
pub fn face_and_back(visual: Option<&VisualFeatures>) -> (Option<Tensor>, Option<Tensor>) {
    match visual {
        Some(v) => {
            let rows = v.face_mask.gt(0.5).nonzero().squeeze_dim(1);
            let face = (rows.size()[0] > 0).then(|| v.face.index_select(0, &rows));
            (face, Some(v.back.shallow_clone()))
        }
        None => (None, None),
    }
}

/// The model inputs of one dialogue's features (every modality; labels from the CSV).
pub fn inputs(dialogue: &Dialogue, features: &[UtteranceFeatures]) -> Vec<UtteranceInput> {
    dialogue
        .utterances
        .iter()
        .zip(features)
        .map(|(u, f)| {
            let (face, back) = face_and_back(f.visual.as_ref());
            UtteranceInput {
                text: Some(f.text.tokens.shallow_clone()),
                audio: f.speech.as_ref().map(Tensor::shallow_clone),
                face,
                back,
                speaker: u.speaker.clone(),
                label: u.label.map(|e| e.index() as i64),
            }
        })
        .collect()
}

/// Split `split` of the MELD.Raw folder `root`, through the full pipeline (cached).
pub fn corpus(store: &ModelStore, enc: &Encoders, root: &Path, split: &str) -> Result<Corpus> {
    let (dir, csv) = split_dir(root, split)?;
    let dialogues = meld_raw::load(&dir, csv.as_deref())?;
    let opts = ExtractOptions::default();
    let cache_dir = cache::default_dir();
    let pb = bar(dialogues.len(), "MELD.Raw");
    let mut out = Vec::with_capacity(dialogues.len());
    for d in &dialogues {
        for w in &d.dialogue.warnings {
            pb.suspend(|| eprintln!("warning: MELD.Raw {split} dia{}: {w}", d.id));
        }
        let (features, notes, _) = cache::load_or_extract(
            store,
            enc,
            None,
            &d.dialogue,
            &opts,
            &cache_dir,
            &mut |_| {},
            &CancelToken::default(),
        )?;
        for n in notes {
            pb.suspend(|| eprintln!("note: MELD.Raw {split} dia{}: {n}", d.id));
        }
        out.push(inputs(&d.dialogue, &features));
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(Corpus {
        name: format!("MELD.Raw {split}"),
        dialogues: out,
        copies: 0,
    })
}
