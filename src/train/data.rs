//! Training corpora from the real data beside the project (`../shared/data`):
//! MELD transcripts (text + dialogue/speaker structure + labels) and RAVDESS speech
//! (audio + the neutral statement text + labels), turned into model inputs.
//!
//! Encoder features are computed once per corpus and cached on disk (`$AMUSE_CACHE/corpus`),
//! keyed by the source files' content and the encoders' checksums.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use tch::{Kind, Tensor};

use super::corpora::AudioAugment;
use crate::emotion::Emotion;
use crate::features::audio::{SoundEncoder, SpeechEncoder};
use crate::features::text::{dialogue_contexts, TextEncoder};
use crate::manifest::ModelStore;
use crate::media::decode;
use crate::media::transcript::{csv, text as transcript_text};
use crate::model::amuse::Modality;
use crate::model::batch::UtteranceInput;

/// A corpus: dialogues of utterances with their features and labels.
#[derive(Debug, Default)]
pub struct Corpus {
    pub name: String,
    pub dialogues: Vec<Vec<UtteranceInput>>,
    /// Augmented copies per original dialogue: the first `len / (copies + 1)` dialogues are
    /// the originals, then each copy of all of them in the same order (see
    /// `clip_features`), so that a held-aside pool never has a copy left in training.
    pub copies: usize,
}

impl Corpus {
    pub fn utterances(&self) -> usize {
        self.dialogues.iter().map(Vec::len).sum()
    }

    /// Every `k`-th dialogue from the `r`-th (tensors shared), as a corpus of its own.
    pub fn every(&self, k: usize, r: usize) -> Corpus {
        Corpus {
            name: self.name.clone(),
            dialogues: self
                .dialogues
                .iter()
                .skip(r)
                .step_by(k.max(1))
                .map(|d| d.iter().map(|u| u.only(|_| true)).collect())
                .collect(),
            copies: 0,
        }
    }

    /// The dialogues with only the modalities in `keep`, tensors shared.
    pub fn only(&self, keep: &[Modality]) -> Vec<Vec<UtteranceInput>> {
        self.dialogues
            .iter()
            .map(|d| d.iter().map(|u| u.only(|m| keep.contains(&m))).collect())
            .collect()
    }
}

/// The shared data folder: `$AMUSE_DATA`, else `../shared/data` beside the source tree.
pub fn data_dir() -> PathBuf {
    std::env::var_os("AMUSE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

/// Where encoded training corpora are cached: `corpus/` beside the feature cache.
pub fn corpus_dir() -> PathBuf {
    crate::features::cache::default_dir().with_file_name("corpus")
}

fn corpus_cache(name: &str, key: &str) -> PathBuf {
    corpus_dir().join(format!("{name}-{}.safetensors", &key[..16]))
}

pub(crate) fn bar(len: usize, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len as u64);
    pb.set_style(
        ProgressStyle::with_template("{msg:>14} [{bar:30}] {pos}/{len} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

/// Load (or compute and cache) per-utterance tensors `u{i}` for `n` items.
pub(crate) fn cached(
    name: &str,
    key: &str,
    n: usize,
    compute: impl FnOnce() -> Result<Vec<Tensor>>,
) -> Result<Vec<Tensor>> {
    let path = corpus_cache(name, key);
    if let Ok(list) = Tensor::read_safetensors(&path) {
        let mut map: std::collections::HashMap<String, Tensor> = list.into_iter().collect();
        let got: Option<Vec<Tensor>> = (0..n).map(|i| map.remove(&format!("u{i}"))).collect();
        if let Some(v) = got {
            crate::features::cache_gc::mark_used(&[&path]);
            return Ok(v.into_iter().map(|t| t.to_kind(Kind::Float)).collect());
        }
    }
    let tensors = compute()?;
    let named: Vec<(String, Tensor)> = tensors
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("u{i}"), t.to_kind(Kind::Half)))
        .collect();
    crate::fsutil::write_atomic_with(&path, |tmp| {
        Tensor::write_safetensors(&named, tmp).map_err(std::io::Error::other)
    })
    .with_context(|| format!("writing {}", path.display()))?;
    Ok(tensors)
}

/// MELD split (`train`, `dev`) from `<data>/meld/<split>_sent_emo.csv`: text token states,
/// speakers and labels; no audio/video (MELD's media is not available here).
pub fn meld(store: &ModelStore, text: &TextEncoder, split: &str) -> Result<Corpus> {
    let (raw, groups) = meld_source(split)?;
    let dialogue_texts: Vec<Vec<&str>> = groups
        .iter()
        .map(|(_, d)| d.utterances.iter().map(|u| u.text.as_str()).collect())
        .collect();
    let key = hex::encode(
        Sha256::new()
            .chain_update(&raw)
            .chain_update(text_key(store, text))
            .finalize(),
    );
    let n = dialogue_texts.iter().map(Vec::len).sum();
    let states = cached(&format!("meld-{split}-text"), &key, n, || {
        encode_dialogues(text, &dialogue_texts)
    })?;
    let mut states = states.into_iter();
    let dialogues = groups
        .iter()
        .map(|(_, d)| {
            d.utterances
                .iter()
                .map(|u| UtteranceInput {
                    text: states.next(),
                    audio: None,
                    face: None,
                    back: None,
                    speaker: u.speaker.clone(),
                    label: u.label.map(|e| e.index() as i64),
                })
                .collect()
        })
        .collect();
    Ok(Corpus {
        name: format!("MELD {split}"),
        dialogues,
        copies: 0,
    })
}

/// Token states of every utterance of `dialogues` (in order), each encoded after the
/// preceding utterances its encoder reads ([`TextEncoder::encode_dialogue`]), in chunks
/// with a progress bar.
pub(crate) fn encode_dialogues(text: &TextEncoder, dialogues: &[Vec<&str>]) -> Result<Vec<Tensor>> {
    let items: Vec<(String, &str)> = dialogues
        .iter()
        .flat_map(|d| dialogue_contexts(d, text.context).into_iter().zip(d.iter().copied()))
        .collect();
    let pb = bar(items.len(), "MPNet");
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(256) {
        let refs: Vec<(&str, &str)> = chunk.iter().map(|(c, t)| (c.as_str(), *t)).collect();
        out.extend(text.encode_after(&refs)?.into_iter().map(|f| f.tokens));
        pb.inc(chunk.len() as u64);
    }
    pb.finish_and_clear();
    Ok(out)
}

/// A MELD split's dialogues, each with its MELD dialogue id.
pub(crate) type MeldDialogues = Vec<(String, crate::media::transcript::Dialogue)>;

/// A MELD split's CSV: its bytes (for cache keys) and its dialogues in file order.
pub(crate) fn meld_source(split: &str) -> Result<(Vec<u8>, MeldDialogues)> {
    if split == "test" {
        bail!("the MELD test split is held out for independent evaluation; use train or dev");
    }
    let path = data_dir().join(format!("meld/{split}_sent_emo.csv"));
    let raw = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let (content, _) = transcript_text::decode(&raw);
    let groups = csv::parse(&content).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((raw, groups))
}

/// What text features depend on: MPNet's and its tokenizer's files, and the adapter merged
/// into MPNet (if any).
pub(crate) fn text_key(store: &ModelStore, text: &TextEncoder) -> String {
    store_key(store, &["text_mpnet", "mpnet_tokenizer"]) + text.adapter_sha256.as_deref().unwrap_or("")
}

pub(crate) fn store_key(store: &ModelStore, names: &[&str]) -> String {
    names
        .iter()
        .map(|n| {
            store
                .entries()
                .find(|(k, _)| k == n)
                .map(|(_, e)| e.sha256.clone())
                .unwrap_or_default()
        })
        .collect()
}

/// RAVDESS emotion code (`EE` of `03-01-EE-…`) mapped to MELD's classes.
pub fn ravdess_label(code: u32) -> Option<Emotion> {
    Some(match code {
        1 | 2 => Emotion::Neutral,
        3 => Emotion::Joy,
        4 => Emotion::Sadness,
        5 => Emotion::Anger,
        6 => Emotion::Fear,
        7 => Emotion::Disgust,
        8 => Emotion::Surprise,
        _ => return None,
    })
}

/// RAVDESS actors `actors` (e.g. 1..=16 for training, 17..=20 for dev): each clip is a
/// one-utterance dialogue with the (emotionally neutral) statement as text, its audio, and
/// the emotion the actor portrayed; with `augment`, augmented copies of every clip follow.
pub fn ravdess(
    store: &ModelStore,
    text: &TextEncoder,
    speech: &AudioEncoderRef<'_>,
    actors: std::ops::RangeInclusive<u32>,
    augment: Option<&AudioAugment>,
) -> Result<Corpus> {
    let root = data_dir().join("ravdess16k");
    let mut files: Vec<(PathBuf, u32, u32, u32)> = Vec::new(); // path, emotion, statement, actor
    for actor in actors.clone() {
        let dir = root.join(format!("Actor_{actor:02}"));
        let entries = std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
        for e in entries.flatten() {
            let p = e.path();
            let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or("").to_owned();
            let parts: Vec<u32> = name.split('-').filter_map(|x| x.parse().ok()).collect();
            if parts.len() == 7 {
                files.push((p, parts[2], parts[4], parts[6]));
            }
        }
    }
    files.sort();
    if files.is_empty() {
        bail!("no RAVDESS files found under {}", root.display());
    }
    let statements = ["Kids are talking by the door", "Dogs are sitting by the door"];
    let text_states: Vec<Tensor> = text.encode(&statements)?.into_iter().map(|f| f.tokens).collect();
    let paths: Vec<PathBuf> = files.iter().map(|f| f.0.clone()).collect();
    let name = format!("ravdess-{}-{}", actors.start(), actors.end());
    let clips = clip_features(store, speech, &name, &paths, augment)?;
    let dialogues = clips
        .into_iter()
        .map(|(i, a)| {
            let (_, emotion, statement, actor) = &files[i];
            vec![UtteranceInput {
                text: Some(text_states[(*statement as usize).clamp(1, 2) - 1].shallow_clone()),
                audio: Some(a),
                face: None,
                back: None,
                speaker: Some(format!("actor{actor}")),
                label: ravdess_label(*emotion).map(|e| e.index() as i64),
            }]
        })
        .collect();
    Ok(Corpus {
        copies: augment.map_or(0, |a| a.copies),
        name: format!(
            "RAVDESS actors {}–{}{}",
            actors.start(),
            actors.end(),
            augment.map(augmented_suffix).unwrap_or_default()
        ),
        dialogues,
    })
}

/// ` + 2 augmented copies (crop+noise)`, for corpus names.
pub(crate) fn augmented_suffix(a: &AudioAugment) -> String {
    format!(
        " + {} augmented cop{} ({})",
        a.copies,
        if a.copies == 1 { "y" } else { "ies" },
        a.augment.label()
    )
}

/// Audio features of acted clips (one file = one utterance), cached: `(index into paths,
/// features)` for every clip, then for each augmented copy (see [`super::augment`]) every
/// clip again. A copy is keyed by the transforms, the copy number and the seed, so the same
/// command gives the same copies (and reuses their cached features).
pub(crate) fn clip_features(
    store: &ModelStore,
    speech: &AudioEncoderRef<'_>,
    name: &str,
    paths: &[PathBuf],
    augment: Option<&AudioAugment>,
) -> Result<Vec<(usize, Tensor)>> {
    let mut hasher = Sha256::new();
    for p in paths {
        hasher.update(
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        hasher.update(std::fs::metadata(p).map(|m| m.len()).unwrap_or(0).to_le_bytes());
    }
    hasher.update(store_key(store, &[speech.model_name()]));
    let key = hex::encode(hasher.finalize());
    let encode_all = |what: &str, f: &dyn Fn(usize, &Path) -> Result<Tensor>| -> Result<Vec<Tensor>> {
        let pb = bar(paths.len(), what);
        let mut out = Vec::with_capacity(paths.len());
        for (i, p) in paths.iter().enumerate() {
            out.push(f(i, p)?);
            pb.inc(1);
        }
        pb.finish_and_clear();
        Ok(out)
    };
    let originals = cached(&format!("{name}-{}", speech.model_name()), &key, paths.len(), || {
        encode_all(speech.model_name(), &|_, p| speech.encode_file(p))
    })?;
    let mut out: Vec<(usize, Tensor)> = originals.into_iter().enumerate().collect();
    let Some(a) = augment.filter(|a| a.copies > 0 && !a.augment.is_empty()) else {
        return Ok(out);
    };
    for copy in 0..a.copies {
        let copy_key = hex::encode(
            Sha256::new()
                .chain_update(&key)
                .chain_update(format!("{}|{copy}|{}", a.augment.label(), a.seed))
                .finalize(),
        );
        let label = format!("{name}-{}-{}-{copy}", speech.model_name(), a.augment.label());
        let copies = cached(&label, &copy_key, paths.len(), || {
            encode_all(&format!("copy {}", copy + 1), &|i, p| {
                let seed = a
                    .seed
                    .wrapping_mul(1_000_003)
                    .wrapping_add((copy * paths.len() + i) as u64);
                speech.encode_augmented(p, &a.augment, seed)
            })
        })?;
        out.extend(copies.into_iter().enumerate());
    }
    Ok(out)
}

/// The audio encoder used for a corpus, by reference.
pub enum AudioEncoderRef<'a> {
    Whisper(&'a SpeechEncoder),
    Aisfx(&'a SoundEncoder),
}

impl AudioEncoderRef<'_> {
    pub fn model_name(&self) -> &'static str {
        match self {
            AudioEncoderRef::Whisper(_) => crate::features::audio::MODEL,
            AudioEncoderRef::Aisfx(_) => "sound_aisfx",
        }
    }

    /// Features of an augmented copy of a clip (16 kHz transforms; Whisper only).
    pub(crate) fn encode_augmented(&self, path: &Path, augment: &super::augment::Augment, seed: u64) -> Result<Tensor> {
        match self {
            AudioEncoderRef::Whisper(e) => {
                e.encode(&augment.apply(&decode::audio(path, 0.0, f64::INFINITY, 16_000)?, seed))
            }
            AudioEncoderRef::Aisfx(_) => bail!("audio augmentation is implemented for the Whisper features only"),
        }
    }

    pub(crate) fn encode_file(&self, path: &Path) -> Result<Tensor> {
        match self {
            AudioEncoderRef::Whisper(e) => e.encode(&decode::audio(path, 0.0, f64::INFINITY, 16_000)?),
            AudioEncoderRef::Aisfx(e) => e.encode(&decode::audio(
                path,
                0.0,
                f64::INFINITY,
                crate::features::audio::SOUND_RATE,
            )?),
        }
    }
}
