//! Saving and loading a trained AMuSE model: `<dir>/amuse.safetensors` (weights, f32) and
//! `<dir>/config.json` (the [`Config`] it was built with, plus what it was trained on).
//! Loading checks that every weight exists with the right shape, so a checkpoint from
//! another configuration is refused with a clear message instead of a LibTorch error.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Tensor};

use super::amuse::{Amuse, Modality};
use super::calibration::Calibration;
use super::config::Config;
use crate::features::adapter::TextAdapter;

/// What `config.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointInfo {
    pub config: Config,
    /// Free text: data, epochs, dev scores.
    #[serde(default)]
    pub trained_on: String,
    #[serde(default)]
    pub dev_scores: serde_json::Value,
    /// Modalities the checkpoint was trained to use (others are masked out at inference).
    #[serde(default = "all_modalities")]
    pub modalities: Vec<Modality>,
    /// The text adapter the checkpoint was trained with (file in the checkpoint folder and
    /// its sha256): its text features came from MPNet with this adapter merged, so the
    /// same adapter must be merged at inference ([`crate::features::adapter`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_adapter: Option<AdapterRef>,
    /// The visual branch's streams it learned from (`face`, `back`): a stream never seen in
    /// training is masked at inference (FER+ has faces without their surroundings, so a
    /// checkpoint extended with FER+ reads faces and ignores back frames).
    #[serde(default = "both_streams")]
    pub visual_streams: Vec<String>,
    /// Temperatures of the outputs ([`super::calibration`]); empty: uncalibrated.
    #[serde(default, skip_serializing_if = "Calibration::is_empty")]
    pub calibration: Calibration,
}

/// Which text adapter a checkpoint needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterRef {
    /// File name, relative to the checkpoint folder.
    pub file: String,
    pub sha256: String,
    /// How it was trained and its dev scores (free form, from `amuse adapt-text`).
    #[serde(default)]
    pub about: serde_json::Value,
}

fn both_streams() -> Vec<String> {
    vec!["face".into(), "back".into()]
}

impl CheckpointInfo {
    /// Whether the visual branch reads `stream` (`face` or `back`).
    pub fn reads_stream(&self, stream: &str) -> bool {
        self.reads(Modality::Visual) && self.visual_streams.iter().any(|s| s == stream)
    }

    /// Whether the checkpoint reads modality `m`.
    pub fn reads(&self, m: Modality) -> bool {
        self.modalities.contains(&m)
    }
}

fn all_modalities() -> Vec<Modality> {
    Modality::ALL.to_vec()
}

/// The checkpoint to use: `--checkpoint`, else `$AMUSE_CHECKPOINT`, else `amuse/` in the
/// models folder (see [`crate::paths`]).
pub fn default_dir() -> PathBuf {
    crate::paths::get().checkpoint.clone()
}

/// A loaded model with its variables.
pub struct Loaded {
    pub vs: nn::VarStore,
    pub model: Amuse,
    pub info: CheckpointInfo,
    /// The text adapter named by `info.text_adapter`, checked against its sha256.
    pub text_adapter: Option<TextAdapter>,
}

pub fn save(dir: &Path, vs: &nn::VarStore, info: &CheckpointInfo) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let weights = dir.join("amuse.safetensors");
    crate::fsutil::write_atomic_with(&weights, |tmp| vs.save(tmp).map_err(std::io::Error::other))
        .with_context(|| format!("writing {}", weights.display()))?;
    crate::fsutil::write_atomic(&dir.join("config.json"), serde_json::to_string_pretty(info)?.as_bytes())?;
    Ok(())
}

/// A checkpoint's `config.json`, without its weights.
pub fn read_info(dir: &Path) -> Result<CheckpointInfo> {
    let cfg_path = dir.join("config.json");
    let text = std::fs::read_to_string(&cfg_path)
        .with_context(|| format!("no AMuSE checkpoint at {} (config.json missing); train one with `amuse train` or restore models/amuse from git", dir.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a valid checkpoint config", cfg_path.display()))
}

/// The text adapter `info` names, checked against its sha256 (`None` when it names none).
/// Cheap: it reads the adapter (about a megabyte), not the model's weights.
pub fn text_adapter(dir: &Path, info: &CheckpointInfo) -> Result<Option<TextAdapter>> {
    let Some(r) = &info.text_adapter else {
        return Ok(None);
    };
    let adapter = TextAdapter::load(&dir.join(&r.file))?;
    if adapter.sha256 != r.sha256 {
        bail!(
            "text adapter {} does not match checkpoint {} (sha256 {}, expected {}); restore the folder from git or retrain",
            adapter.path.display(),
            dir.display(),
            adapter.sha256,
            r.sha256
        );
    }
    Ok(Some(adapter))
}

pub fn load(dir: &Path, device: Device) -> Result<Loaded> {
    let info = read_info(dir)?;
    let mut vs = nn::VarStore::new(device);
    let model = Amuse::new(&vs.root(), info.config.clone());
    let weights = dir.join("amuse.safetensors");
    let stored: std::collections::HashMap<String, Tensor> = Tensor::read_safetensors(&weights)
        .with_context(|| {
            format!(
                "cannot read {} (missing or corrupt); restore it from git or retrain",
                weights.display()
            )
        })?
        .into_iter()
        .collect();
    for (name, var) in vs.variables() {
        match stored.get(&name) {
            None => bail!("checkpoint {} was made with another model configuration: weight `{name}` is missing", weights.display()),
            Some(t) if t.size() != var.size() => bail!(
                "checkpoint {} was made with another model configuration: `{name}` has shape {:?}, this build expects {:?}",
                weights.display(),
                t.size(),
                var.size()
            ),
            Some(_) => {}
        }
    }
    vs.load(&weights)
        .with_context(|| format!("loading {}", weights.display()))?;
    vs.freeze();
    let text_adapter = text_adapter(dir, &info)?;
    Ok(Loaded {
        vs,
        model,
        info,
        text_adapter,
    })
}
