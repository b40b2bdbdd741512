//! On-disk feature cache: a second analysis of the same video and transcript costs no
//! encoder time.
//!
//! Key: a hash of the media fingerprint (size + first and last MiB of each file), the
//! transcript's utterances, the extraction options and the checksums of the encoders used
//! (so a re-exported model invalidates old entries). Value: one safetensors file with every
//! tensor plus a JSON sidecar with the rest (faces, notes); the sidecar is written last, so
//! an entry without it is incomplete and ignored. Both are written atomically.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tch::Tensor;

use super::extract::{self, Encoders, ExtractOptions, Notes, UtteranceFeatures};
use super::text::TextFeatures;
use super::visual::{KeyframeFaces, VisualFeatures};
use crate::fsutil::write_atomic_with;
use crate::manifest::ModelStore;
use crate::media::transcript::Dialogue;
use crate::progress::{CancelToken, Progress};

// v4: the pipeline looks for faces of 40 px and more (`MtcnnConfig::pipeline`).
const VERSION: &str = "amuse-features-v4";
/// Encoders whose checksums key the cache.
const ENCODERS: &[&str] = &[
    "text_mpnet",
    "mpnet_tokenizer",
    crate::features::audio::MODEL,
    "sound_aisfx",
    "voice_resemblyzer",
    "mtcnn_pnet",
    "mtcnn_rnet",
    "mtcnn_onet",
    crate::features::expression::SHIPPED,
    "scene_effnet_lite0",
];

#[derive(Serialize, Deserialize)]
struct Sidecar {
    utterances: usize,
    audio_seconds: Vec<f64>,
    keyframes: Vec<Option<Vec<KeyframeFaces>>>,
    notes: Notes,
}

/// The default cache folder: `$AMUSE_CACHE/features`, else by the XDG rules
/// `$XDG_CACHE_HOME/amuse/features` or `~/.cache/amuse/features`; without a home either
/// (a service's environment), a folder in the temporary directory, with a warning once:
/// never the current folder.
pub fn default_dir() -> PathBuf {
    base_dir().join("features")
}

fn base_dir() -> PathBuf {
    let absolute = |v: Option<std::ffi::OsString>| v.map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(dir) = std::env::var_os("AMUSE_CACHE").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = absolute(std::env::var_os("XDG_CACHE_HOME")) {
        return dir.join("amuse");
    }
    if let Some(home) = absolute(std::env::var_os("HOME")) {
        return home.join(".cache/amuse");
    }
    let dir = std::env::temp_dir().join("amuse-cache");
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        eprintln!(
            "warning: neither $AMUSE_CACHE, $XDG_CACHE_HOME nor $HOME is set: caching in {} (set AMUSE_CACHE to keep the cache)",
            dir.display()
        );
    });
    dir
}

fn fingerprint(hasher: &mut Sha256, path: &Path) -> std::io::Result<()> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    hasher.update(len.to_le_bytes());
    let mut buf = vec![0u8; 1 << 20];
    let n = f.read(&mut buf)?;
    hasher.update(&buf[..n]);
    if len > (2 << 20) {
        f.seek(SeekFrom::End(-(1 << 20)))?;
        let n = f.read(&mut buf)?;
        hasher.update(&buf[..n]);
    }
    Ok(())
}

/// The cache key of an extraction.
///
/// `text_adapter` is the sha256 of the adapter merged into MPNet ([`super::adapter`]), if
/// any: the text features depend on it as much as on the encoders' files.
pub fn key(
    store: &ModelStore,
    text_adapter: Option<&str>,
    video: Option<&Path>,
    dialogue: &Dialogue,
    opts: &ExtractOptions,
) -> Result<String> {
    let mut h = Sha256::new();
    h.update(VERSION);
    h.update(format!("adapter:{}|", text_adapter.unwrap_or("none")));
    if let Some(v) = video {
        fingerprint(&mut h, v).with_context(|| format!("reading {}", v.display()))?;
    }
    for u in &dialogue.utterances {
        h.update(serde_json::to_vec(&(u.start, u.end, &u.speaker, &u.text, &u.clip)).unwrap_or_default());
        if let Some(c) = &u.clip {
            fingerprint(&mut h, c).with_context(|| format!("reading {}", c.display()))?;
        }
    }
    h.update(format!(
        "{}|{}|{:?}|{}",
        opts.keyframes, opts.frame_side, opts.speaker_pick, opts.sound
    ));
    // Added to the key only when set, so that earlier entries stay valid.
    if !opts.audio {
        h.update("|no audio");
    }
    if !opts.speaker_sides.is_empty() {
        h.update(format!("|sides {:?}", opts.speaker_sides));
    }
    for name in ENCODERS {
        let sha = store
            .entries()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e.sha256.clone())
            .unwrap_or_default();
        h.update(sha);
    }
    Ok(hex::encode(h.finalize()))
}

/// An entry's two files: its tensors and its JSON sidecar.
fn entry_paths(dir: &Path, key: &str) -> (PathBuf, PathBuf) {
    (dir.join(format!("{key}.safetensors")), dir.join(format!("{key}.json")))
}

/// Load a cached extraction, if complete.
pub fn load(dir: &Path, key: &str) -> Option<(Vec<UtteranceFeatures>, Notes)> {
    let (tensors_path, json_path) = entry_paths(dir, key);
    let sidecar: Sidecar = serde_json::from_slice(&std::fs::read(&json_path).ok()?).ok()?;
    let tensors: BTreeMap<String, Tensor> = Tensor::read_safetensors(&tensors_path).ok()?.into_iter().collect();
    let get = |i: usize, name: &str| tensors.get(&format!("u{i}.{name}")).map(Tensor::shallow_clone);
    let mut out = Vec::with_capacity(sidecar.utterances);
    for i in 0..sidecar.utterances {
        let visual = match (
            get(i, "face"),
            get(i, "face_mask"),
            get(i, "back"),
            sidecar.keyframes.get(i)?.clone(),
        ) {
            (Some(face), Some(face_mask), Some(back), Some(keyframes)) => Some(VisualFeatures {
                face,
                face_mask,
                back,
                keyframes,
            }),
            _ => None,
        };
        out.push(UtteranceFeatures {
            text: TextFeatures {
                tokens: get(i, "text_tokens")?,
                pooled: get(i, "text_pooled")?,
            },
            speech: get(i, "speech"),
            sound: get(i, "sound"),
            voice: get(i, "voice"),
            visual,
            audio_seconds: *sidecar.audio_seconds.get(i)?,
        });
    }
    // A hit: `amuse cache --prune` keeps what is used.
    super::cache_gc::mark_used(&[&tensors_path, &json_path]);
    Some((out, sidecar.notes))
}

/// Store an extraction (atomically; the sidecar last).
pub fn store(dir: &Path, key: &str, features: &[UtteranceFeatures], notes: &Notes) -> Result<()> {
    let mut named: Vec<(String, Tensor)> = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let mut put = |name: &str, t: &Tensor| named.push((format!("u{i}.{name}"), t.shallow_clone()));
        put("text_tokens", &f.text.tokens);
        put("text_pooled", &f.text.pooled);
        for (name, t) in [("speech", &f.speech), ("sound", &f.sound), ("voice", &f.voice)] {
            if let Some(t) = t {
                put(name, t);
            }
        }
        if let Some(v) = &f.visual {
            put("face", &v.face);
            put("face_mask", &v.face_mask);
            put("back", &v.back);
        }
    }
    let sidecar = Sidecar {
        utterances: features.len(),
        audio_seconds: features.iter().map(|f| f.audio_seconds).collect(),
        keyframes: features
            .iter()
            .map(|f| f.visual.as_ref().map(|v| v.keyframes.clone()))
            .collect(),
        notes: notes.clone(),
    };
    let (tensors_path, json_path) = entry_paths(dir, key);
    write_atomic_with(&tensors_path, |tmp| {
        Tensor::write_safetensors(&named, tmp).map_err(std::io::Error::other)
    })
    .with_context(|| {
        format!(
            "writing the feature cache {} (disk full or read-only? use --out DIR)",
            tensors_path.display()
        )
    })?;
    let json = serde_json::to_vec(&sidecar)?;
    crate::fsutil::write_atomic(&json_path, &json).with_context(|| format!("writing {}", json_path.display()))?;
    Ok(())
}

/// Fail early, before a long extraction, when `dir` cannot hold the cache (read-only,
/// not a folder, no space left for even a small file).
pub fn check_writable(dir: &Path) -> Result<()> {
    let probe = dir.join(".amuse-write-check");
    crate::fsutil::write_atomic(&probe, &[0u8; 4096])
        .and_then(|()| std::fs::remove_file(&probe))
        .with_context(|| {
            format!(
                "cannot write the feature cache in {} (read-only, not a folder, or disk full?); choose another folder with --out DIR",
                dir.display()
            )
        })
}

/// Where [`load_or_extract`]'s features came from.
#[derive(Debug)]
pub enum Outcome {
    Hit,
    Written,
    /// Extracted, but the cache could not be written (disk full, read-only): the caller
    /// decides whether that is an error.
    NotWritten(anyhow::Error),
}

/// Features of a dialogue from the cache in `dir`, or extracted and stored there.
#[allow(clippy::too_many_arguments)]
pub fn load_or_extract(
    store: &ModelStore,
    enc: &Encoders,
    video: Option<&Path>,
    dialogue: &Dialogue,
    opts: &ExtractOptions,
    dir: &Path,
    progress: &mut dyn FnMut(Progress),
    cancel: &CancelToken,
) -> Result<(Vec<UtteranceFeatures>, Notes, Outcome)> {
    let key = key(store, enc.text.adapter_sha256.as_deref(), video, dialogue, opts)?;
    if let Some((f, n)) = load(dir, &key) {
        return Ok((f, n, Outcome::Hit));
    }
    let (f, n) = extract::extract(enc, video, dialogue, opts, progress, cancel)?;
    let outcome = match self::store(dir, &key, &f, &n) {
        Ok(()) => Outcome::Written,
        Err(e) => Outcome::NotWritten(e),
    };
    Ok((f, n, outcome))
}
