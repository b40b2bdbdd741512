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

use crate::emotion::Emotion;
use crate::features::audio::{SoundEncoder, SpeechEncoder};
use crate::features::text::{dialogue_contexts, TextEncoder};
use crate::manifest::ModelStore;
use crate::media::decode;
use crate::media::transcript::{csv, text as transcript_text};
use crate::model::batch::UtteranceInput;

/// A corpus: dialogues of utterances with their features and labels.
#[derive(Debug, Default)]
pub struct Corpus {
    pub name: String,
    pub dialogues: Vec<Vec<UtteranceInput>>,
}

impl Corpus {
    pub fn utterances(&self) -> usize {
        self.dialogues.iter().map(Vec::len).sum()
    }

    /// The dialogues with only the modalities in `keep` (names of
    /// [`crate::model::amuse::MODALITIES`]), tensors shared.
    pub fn only(&self, keep: &[String]) -> Vec<Vec<UtteranceInput>> {
        let has = |m: &str| keep.iter().any(|k| k == m);
        self.dialogues
            .iter()
            .map(|d| d.iter().map(|u| u.only(has)).collect())
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
/// the emotion the actor portrayed.
pub fn ravdess(
    store: &ModelStore,
    text: &TextEncoder,
    speech: &AudioEncoderRef<'_>,
    actors: std::ops::RangeInclusive<u32>,
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
    let mut hasher = Sha256::new();
    for (p, ..) in &files {
        hasher.update(
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        hasher.update(std::fs::metadata(p).map(|m| m.len()).unwrap_or(0).to_le_bytes());
    }
    hasher.update(store_key(store, &[speech.model_name()]));
    let key = hex::encode(hasher.finalize());
    let name = format!("ravdess-{}-{}-{}", speech.model_name(), actors.start(), actors.end());
    let audio = cached(&name, &key, files.len(), || {
        let pb = bar(files.len(), speech.model_name());
        let mut out = Vec::with_capacity(files.len());
        for (p, ..) in &files {
            out.push(speech.encode_file(p)?);
            pb.inc(1);
        }
        pb.finish_and_clear();
        Ok(out)
    })?;
    let dialogues = files
        .iter()
        .zip(audio)
        .map(|((_, emotion, statement, actor), a)| {
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
        name: format!("RAVDESS actors {}–{}", actors.start(), actors.end()),
        dialogues,
    })
}

/// The audio encoder used for a corpus, by reference.
pub enum AudioEncoderRef<'a> {
    Whisper(&'a SpeechEncoder),
    Aisfx(&'a SoundEncoder),
}

impl AudioEncoderRef<'_> {
    pub fn model_name(&self) -> &'static str {
        match self {
            AudioEncoderRef::Whisper(_) => "speech_whisper_encoder",
            AudioEncoderRef::Aisfx(_) => "sound_aisfx",
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

/// Cross-corpus pairs: every audio clip of `audio` (e.g. RAVDESS, whose text is emotionally
/// neutral) joined with the text of a random utterance of `text` (e.g. MELD) that has the
/// same label, as one-utterance dialogues.
///
/// Why: no corpus here has real aligned text *and* expressive audio. Trained on MELD (text
/// only) and RAVDESS (audio with neutral text), a model learns that "audio present" means
/// "ignore the words" — and then ignores clearly emotional words whenever a video has sound.
/// These synthetic pairs, where both modalities agree, teach it that both can inform. They
/// are synthetic (the voice did not say those words) and are documented as such.
pub fn label_pairs(audio: &Corpus, text: &Corpus, seed: u64) -> Corpus {
    use rand::seq::IndexedRandom;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut by_label: std::collections::HashMap<i64, Vec<&Tensor>> = std::collections::HashMap::new();
    for u in text.dialogues.iter().flatten() {
        if let (Some(l), Some(t)) = (u.label, &u.text) {
            by_label.entry(l).or_default().push(t);
        }
    }
    let dialogues = audio
        .dialogues
        .iter()
        .flatten()
        .filter_map(|u| {
            let t = by_label.get(&u.label?)?.choose(&mut rng)?;
            Some(vec![UtteranceInput {
                text: Some(t.shallow_clone()),
                audio: u.audio.as_ref().map(Tensor::shallow_clone),
                face: None,
                back: None,
                speaker: u.speaker.clone(),
                label: u.label,
            }])
        })
        .collect();
    Corpus {
        name: format!("{} × {} text (label-matched pairs)", audio.name, text.name),
        dialogues,
    }
}
