//! Word explanations kept on disk beside the feature cache (`$AMUSE_CACHE/explanations/`),
//! so that reopening a video, clicking an utterance the viewer explained in the background,
//! or `amuse analyze --explain` again is instant.
//!
//! An explanation depends on the checkpoint (weights, temperatures, text adapter), on the
//! whole dialogue (LIME classifies the utterance in its context: the other utterances'
//! features enter), on the utterance and on LIME's samples and seed. The key hashes the
//! checkpoint's files, the feature cache's key of the dialogue (video identity, transcript,
//! encoders, options) and `(utterance, samples, seed)`. Entries are written atomically; an
//! unreadable entry is recomputed, never an error.

use std::path::{Path, PathBuf};

use anyhow::Result;
use sha2::{Digest, Sha256};

use super::explain_words::WordExplanation;
use super::Analyzer;
use crate::features::extract::UtteranceFeatures;
use crate::media::transcript::Dialogue;
use crate::progress::CancelToken;

const VERSION: &str = "amuse-word-explanation-v1";

/// The folder: `explanations/` beside the feature cache.
pub fn default_dir() -> PathBuf {
    crate::features::cache::default_dir().with_file_name("explanations")
}

/// The sha256 of a checkpoint folder's weights, configuration and text adapter.
pub fn checkpoint_sha(dir: &Path) -> String {
    let mut h = Sha256::new();
    for name in ["amuse.safetensors", "config.json", crate::features::adapter::FILE] {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            h.update(name);
            h.update(Sha256::digest(&bytes));
        }
    }
    hex::encode(h.finalize())
}

impl Analyzer {
    /// The cache key of utterance `i`'s word explanation in `dialogue` of `video`.
    pub fn word_explanation_key(
        &self,
        video: Option<&Path>,
        dialogue: &Dialogue,
        i: usize,
        samples: usize,
        seed: u64,
    ) -> Result<String> {
        let features = crate::features::cache::key(
            &self.store,
            self.encoders.text.adapter_sha256.as_deref(),
            video,
            dialogue,
            &self.options,
        )?;
        let mut h = Sha256::new();
        h.update(VERSION);
        h.update(&self.checkpoint_sha);
        h.update(features);
        h.update(format!("|{i}|{samples}|{seed}"));
        Ok(hex::encode(h.finalize()))
    }

    /// [`Self::explain_words`] through the disk cache in `dir`: `(explanation, true)` when it
    /// was there. A failure to write the cache is not an error (the explanation stands).
    #[allow(clippy::too_many_arguments)]
    pub fn explain_words_cached(
        &self,
        dir: &Path,
        video: Option<&Path>,
        dialogue: &Dialogue,
        features: &[UtteranceFeatures],
        i: usize,
        samples: usize,
        seed: u64,
        cancel: &CancelToken,
    ) -> Result<(WordExplanation, bool)> {
        let key = self.word_explanation_key(video, dialogue, i, samples, seed)?;
        let path = dir.join(format!("{}.json", &key[..32]));
        if let Some(e) = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<WordExplanation>(&b).ok())
            .filter(|e| e.utterance == i)
        {
            crate::features::cache_gc::mark_used(&[&path]);
            return Ok((e, true));
        }
        let e = self.explain_words(dialogue, features, i, None, samples, seed, cancel)?;
        if let Ok(bytes) = serde_json::to_vec(&e) {
            if let Err(err) = std::fs::create_dir_all(dir).and_then(|()| crate::fsutil::write_atomic(&path, &bytes)) {
                tracing::warn!("could not cache the explanation in {}: {err}", dir.display());
            }
        }
        Ok((e, false))
    }
}
