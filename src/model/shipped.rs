//! `models/manifest.json`: what the project ships of its own, the trained AMuSE checkpoints
//! with their text adapters (file, sha256, size, what each was trained on).
//!
//! The loader does not need this file (a checkpoint's `config.json` names its adapter and
//! its sha256); people do: it is the one place that says which checkpoint is the default and
//! what it is. Since nothing at run time reads it, nothing would notice it going stale when a
//! checkpoint is retrained, so [`stale`] compares it with the folders (used by
//! `amuse doctor` and by a unit test on the committed files), and [`refresh`] rewrites it
//! from them (`cargo run --example models_manifest` after shipping a new checkpoint).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::checkpoint;
use crate::manifest::sha256_file;

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelsManifest {
    pub about: String,
    pub pretrained_manifest: String,
    pub checkpoints: BTreeMap<String, Shipped>,
    pub checkpoints_default: String,
    /// Encoders this project trained itself (files relative to `models/`), in the format of
    /// the pretrained manifest's entries; [`crate::manifest::ModelStore`] loads them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub encoders: BTreeMap<String, serde_json::Value>,
}

/// One shipped checkpoint folder, `<models>/<name>/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipped {
    pub file: String,
    pub config: String,
    pub sha256: String,
    pub bytes: u64,
    pub modalities: Vec<String>,
    pub trained_on: String,
    /// Written by hand (the data's licences); kept as is by [`refresh`].
    pub licence: String,
    pub card: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_adapter: Option<ShippedAdapter>,
}

/// The text adapter a shipped checkpoint was trained with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippedAdapter {
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
    pub trained_on: String,
}

/// Read `<models>/manifest.json`.
pub fn read(models: &Path) -> Result<ModelsManifest> {
    let path = models.join("manifest.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a valid models manifest", path.display()))
}

fn file_facts(path: &Path) -> Result<(String, u64)> {
    let sha = sha256_file(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok((sha, std::fs::metadata(path)?.len()))
}

/// What the folder `<models>/<name>/` holds now, described as the manifest describes it
/// (`licence` and `card` are taken from `previous`).
pub fn describe(models: &Path, name: &str, previous: &Shipped) -> Result<Shipped> {
    let dir = models.join(name);
    let info = checkpoint::read_info(&dir)?;
    let (sha256, bytes) = file_facts(&dir.join("amuse.safetensors"))?;
    let text_adapter = match &info.text_adapter {
        None => None,
        Some(a) => {
            let (sha256, bytes) = file_facts(&dir.join(&a.file))?;
            let trained_on = a.about.get("trained_on").and_then(|t| t.as_str()).unwrap_or_default();
            Some(ShippedAdapter {
                file: format!("{name}/{}", a.file),
                sha256,
                bytes,
                trained_on: trained_on.to_owned(),
            })
        }
    };
    Ok(Shipped {
        file: format!("{name}/amuse.safetensors"),
        config: format!("{name}/config.json"),
        sha256,
        bytes,
        modalities: info.modalities.iter().map(|m| m.name().to_owned()).collect(),
        trained_on: info.trained_on,
        licence: previous.licence.clone(),
        card: previous.card.clone(),
        text_adapter,
    })
}

/// Where the manifest no longer describes the folders, one line each (empty: up to date).
pub fn stale(models: &Path) -> Result<Vec<String>> {
    let manifest = read(models)?;
    let mut problems = Vec::new();
    if !manifest.checkpoints.contains_key(&manifest.checkpoints_default) {
        problems.push(format!(
            "the default `{}` is not among its checkpoints",
            manifest.checkpoints_default
        ));
    }
    for (name, listed) in &manifest.checkpoints {
        let now = match describe(models, name, listed) {
            Ok(now) => now,
            Err(e) => {
                problems.push(format!("`{name}`: {e:#}"));
                continue;
            }
        };
        for field in differing_fields(listed, &now) {
            problems.push(format!("`{name}`: {field} differs from the folder"));
        }
    }
    for (name, entry) in &manifest.encoders {
        let file = entry["file"].as_str().unwrap_or_default();
        match file_facts(&models.join(file)) {
            Ok((sha, bytes)) => {
                if entry["sha256"].as_str() != Some(sha.as_str()) {
                    problems.push(format!("encoder `{name}`: sha256 differs from {file}"));
                }
                if entry["bytes"].as_u64() != Some(bytes) {
                    problems.push(format!("encoder `{name}`: bytes differ from {file}"));
                }
            }
            Err(e) => problems.push(format!("encoder `{name}`: {e:#}")),
        }
    }
    Ok(problems)
}

/// The (dotted) names of the fields in which two descriptions differ.
fn differing_fields(a: &Shipped, b: &Shipped) -> Vec<String> {
    fn walk(prefix: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
        match (a, b) {
            (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
                let keys: std::collections::BTreeSet<_> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let null = serde_json::Value::Null;
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&name, x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null), out);
                }
            }
            _ if a != b => out.push(prefix.to_owned()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let to_value = |s: &Shipped| serde_json::to_value(s).unwrap_or_default();
    walk("", &to_value(a), &to_value(b), &mut out);
    out
}

/// The manifest with every checkpoint re-described from its folder.
pub fn refresh(models: &Path) -> Result<ModelsManifest> {
    let mut manifest = read(models)?;
    for (name, listed) in manifest.checkpoints.iter_mut() {
        *listed = describe(models, name, listed)?;
    }
    for entry in manifest.encoders.values_mut() {
        let file = entry["file"].as_str().unwrap_or_default().to_owned();
        let (sha, bytes) = file_facts(&models.join(&file))?;
        entry["sha256"] = sha.into();
        entry["bytes"] = bytes.into();
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_manifest_describes_the_committed_checkpoints() {
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let problems = stale(&models).unwrap();
        assert!(
            problems.is_empty(),
            "models/manifest.json is stale (run `cargo run --example models_manifest`):\n{}",
            problems.join("\n")
        );
        assert_eq!(read(&models).unwrap().checkpoints_default, "amuse");
    }

    #[test]
    fn a_retrained_checkpoint_makes_the_manifest_stale_until_refreshed() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let tmp = tempfile::tempdir().unwrap();
        let models = tmp.path();
        std::fs::copy(src.join("manifest.json"), models.join("manifest.json")).unwrap();
        for name in ["amuse", "amuse-text"] {
            std::fs::create_dir(models.join(name)).unwrap();
            for f in ["amuse.safetensors", "config.json", "text_adapter.safetensors"] {
                std::fs::copy(src.join(name).join(f), models.join(name).join(f)).unwrap();
            }
        }
        std::fs::create_dir(models.join("face_expression")).unwrap();
        let encoder = models.join("face_expression/face_expression.pt");
        std::fs::copy(src.join("face_expression/face_expression.pt"), &encoder).unwrap();
        assert!(stale(models).unwrap().is_empty());

        // A retrained expression encoder: stale until refreshed.
        let mut bytes = std::fs::read(&encoder).unwrap();
        bytes.push(0);
        std::fs::write(&encoder, &bytes).unwrap();
        assert_eq!(
            stale(models).unwrap(),
            [
                "encoder `face_expression_ferplus`: sha256 differs from face_expression/face_expression.pt",
                "encoder `face_expression_ferplus`: bytes differ from face_expression/face_expression.pt"
            ]
        );
        let refreshed = refresh(models).unwrap();
        std::fs::write(
            models.join("manifest.json"),
            serde_json::to_string_pretty(&refreshed).unwrap(),
        )
        .unwrap();
        assert!(stale(models).unwrap().is_empty());

        // "Retrain" amuse-text: other weights and another description.
        let weights = models.join("amuse-text/amuse.safetensors");
        let mut bytes = std::fs::read(&weights).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&weights, bytes).unwrap();
        let config = models.join("amuse-text/config.json");
        let mut info: serde_json::Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
        info["trained_on"] = "MELD train; seed 9".into();
        std::fs::write(&config, info.to_string()).unwrap();

        let problems = stale(models).unwrap();
        assert_eq!(
            problems,
            [
                "`amuse-text`: sha256 differs from the folder",
                "`amuse-text`: trained_on differs from the folder"
            ]
        );
        let refreshed = refresh(models).unwrap();
        assert_eq!(refreshed.checkpoints["amuse-text"].trained_on, "MELD train; seed 9");
        assert_eq!(
            refreshed.checkpoints["amuse-text"].licence,
            read(models).unwrap().checkpoints["amuse-text"].licence
        );
        std::fs::write(
            models.join("manifest.json"),
            serde_json::to_string_pretty(&refreshed).unwrap(),
        )
        .unwrap();
        assert!(stale(models).unwrap().is_empty());

        std::fs::remove_file(models.join("amuse/text_adapter.safetensors")).unwrap();
        let problems = stale(models).unwrap();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("`amuse`: cannot read"), "{problems:?}");
    }
}
