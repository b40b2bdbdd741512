//! A low-rank adapter of the text encoder's top layers, fine-tuned for emotion on MELD
//! train (`amuse adapt-text`, `crate::train::text_adapter`).
//!
//! Why: all-mpnet-base-v2 is trained for sentence *similarity*; frozen, its states carry
//! the words' emotion only weakly, and fine-tuning all 110 M weights costs ~45 min of CPU
//! per MELD epoch here. LoRA (`W + s·B·A`, rank 8) on q, k, v, o and both feed-forward
//! matrices of the top layers trains in minutes from cached lower-layer states and is
//! small enough to ship inside a checkpoint (~2.6 MB for six layers), while the 438 MB base stays the
//! registry's export.
//!
//! The file (`text_adapter.safetensors`) names each factor after the base weight it adapts
//! in `text_mpnet.pt` (`model.encoder.layer.9.attention.attn.q.weight.lora_a`, `…lora_b`)
//! and holds the scale `s` as a scalar `scale` (and, when it was trained on utterances in
//! their dialogue, the number of preceding utterances as a scalar `context`, see
//! [`crate::features::text::TextEncoder::encode_dialogue`]), so applying it needs nothing else: the
//! weights are merged once at load ([`TextAdapter::merge_into`]), and the encoder then runs
//! at exactly the base model's cost.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use tch::{Kind, Tensor};

/// Name of the adapter file inside a checkpoint folder.
pub const FILE: &str = "text_adapter.safetensors";

/// One adapted weight: `weight += scale · b · a`.
#[derive(Debug)]
pub struct Factor {
    /// The base weight's parameter name in `text_mpnet.pt`.
    pub weight: String,
    /// `[r, in]`.
    pub a: Tensor,
    /// `[out, r]`.
    pub b: Tensor,
}

/// A loaded adapter.
#[derive(Debug)]
pub struct TextAdapter {
    pub path: PathBuf,
    /// sha256 of the file: part of every feature cache key computed with it.
    pub sha256: String,
    pub scale: f64,
    /// Preceding utterances the encoder reads before each one (0: each alone). Inside the
    /// file, so the sha256 — and every feature cache key — changes with it.
    pub context: usize,
    pub factors: Vec<Factor>,
}

impl TextAdapter {
    /// Read an adapter file; a clear error when it is missing or malformed.
    pub fn load(path: &Path) -> Result<Self> {
        let sha256 = crate::manifest::sha256_file(path).with_context(|| {
            format!(
                "text adapter {} is missing: the checkpoint was trained on adapted MPNet states \
                 and needs it (restore the checkpoint folder, or retrain with `amuse adapt-text`)",
                path.display()
            )
        })?;
        let tensors: BTreeMap<String, Tensor> = Tensor::read_safetensors(path)
            .with_context(|| format!("text adapter {} is not a readable safetensors file", path.display()))?
            .into_iter()
            .collect();
        Self::from_tensors(path, sha256, tensors)
    }

    fn from_tensors(path: &Path, sha256: String, mut tensors: BTreeMap<String, Tensor>) -> Result<Self> {
        let Some(scale) = tensors.remove("scale") else {
            bail!("text adapter {} has no `scale`", path.display())
        };
        let scale = scale.to_kind(Kind::Double).double_value(&[]);
        let context = match tensors.remove("context") {
            Some(c) => match usize::try_from(c.to_kind(Kind::Int64).int64_value(&[])) {
                Ok(c) if c <= 16 => c,
                _ => bail!("text adapter {}: context {c} is not 0…16", path.display()),
            },
            None => 0,
        };
        let mut factors = Vec::new();
        let names: Vec<String> = tensors.keys().filter(|k| k.ends_with(".lora_a")).cloned().collect();
        for a_name in names {
            let weight = a_name.trim_end_matches(".lora_a").to_owned();
            let (Some(a), Some(b)) = (tensors.remove(&a_name), tensors.remove(&format!("{weight}.lora_b"))) else {
                bail!("text adapter {}: {weight} lacks its lora_b", path.display())
            };
            if a.dim() != 2 || b.dim() != 2 || a.size()[0] != b.size()[1] {
                bail!(
                    "text adapter {}: {weight} has factors {:?} and {:?}",
                    path.display(),
                    a.size(),
                    b.size()
                );
            }
            factors.push(Factor {
                weight,
                a: a.to_kind(Kind::Float),
                b: b.to_kind(Kind::Float),
            });
        }
        if factors.is_empty() || !tensors.is_empty() {
            bail!(
                "text adapter {}: {} factors, unexpected entries {:?}",
                path.display(),
                factors.len(),
                tensors.keys().collect::<Vec<_>>()
            );
        }
        Ok(Self {
            path: path.to_path_buf(),
            sha256,
            scale,
            context,
            factors,
        })
    }

    /// Write `factors`, `scale` and `context` as an adapter file (atomically); an adapter
    /// without context is written as before it had one.
    pub fn save(path: &Path, scale: f64, context: usize, factors: &[Factor]) -> Result<()> {
        let mut named: Vec<(String, Tensor)> = vec![("scale".into(), Tensor::from(scale as f32))];
        if context > 0 {
            named.push(("context".into(), Tensor::from(context as i64)));
        }
        for f in factors {
            named.push((format!("{}.lora_a", f.weight), f.a.to_kind(Kind::Float).contiguous()));
            named.push((format!("{}.lora_b", f.weight), f.b.to_kind(Kind::Float).contiguous()));
        }
        crate::fsutil::write_atomic_with(path, |tmp| {
            Tensor::write_safetensors(&named, tmp).map_err(std::io::Error::other)
        })
        .with_context(|| format!("writing {}", path.display()))
    }

    /// Add `scale · b · a` to each adapted weight among `params` (a module's parameters,
    /// changed in place). Every factor must find its weight with the matching shape.
    pub fn merge_into(&self, params: &[(String, Tensor)]) -> Result<()> {
        for f in &self.factors {
            let Some((_, w)) = params.iter().find(|(n, _)| *n == f.weight) else {
                bail!(
                    "text adapter {} adapts `{}`, which text_mpnet.pt does not have (an adapter for another encoder?)",
                    self.path.display(),
                    f.weight
                )
            };
            let delta = f.b.matmul(&f.a).to_device(w.device()) * self.scale;
            if delta.size() != w.size() {
                bail!(
                    "text adapter {}: {} is {:?}, the delta {:?}",
                    self.path.display(),
                    f.weight,
                    w.size(),
                    delta.size()
                );
            }
            let mut w = w.shallow_clone();
            let _ = tch::no_grad(|| w.f_add_(&delta)).with_context(|| format!("merging {}", f.weight))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_merge_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let a = Tensor::from_slice(&[1.0f32, 2.0, 0.0, 1.0]).view([2, 2]);
        let b = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 3.0]).view([2, 2]);
        let factor = Factor {
            weight: "l.weight".into(),
            a,
            b,
        };
        TextAdapter::save(&path, 0.5, 2, &[factor]).unwrap();
        let adapter = TextAdapter::load(&path).unwrap();
        assert_eq!(adapter.factors.len(), 1);
        assert_eq!(adapter.context, 2);
        let w = Tensor::ones([2, 2], (Kind::Float, tch::Device::Cpu));
        adapter.merge_into(&[("l.weight".into(), w.shallow_clone())]).unwrap();
        // b·a = [[1, 2], [0, 3]]; · 0.5 + 1
        let got: Vec<f32> = Vec::try_from(w.view([-1])).unwrap();
        assert_eq!(got, vec![1.5, 2.0, 1.0, 2.5]);
        let err = adapter.merge_into(&[("other.weight".into(), w)]).unwrap_err();
        assert!(err.to_string().contains("does not have"), "{err}");
    }

    #[test]
    fn missing_file_says_what_to_do() {
        let err = TextAdapter::load(Path::new("/nonexistent/text_adapter.safetensors")).unwrap_err();
        assert!(format!("{err:#}").contains("amuse adapt-text"), "{err:#}");
    }
}
