//! Fine-tuning the text encoder's top layers for emotion (`amuse adapt-text`): low-rank
//! adapters ([`crate::features::adapter`]) on MPNet's layers 6–11, trained on MELD train
//! utterances with a linear classifier on the mean token state, selected on MELD dev.
//!
//! This is the first stage of a two-stage recipe (as COSMIC and most MELD systems do it):
//! the adapted encoder's token states then feed the AMuSE model (`amuse train
//! --text-adapter`), which adds the modalities, the MAN and the dialogue/speaker context.
//!
//! Cost: the states entering layer 6 do not change while only the top layers train, so
//! they are computed once by `text_mpnet_lower.pt` and cached with the corpus features;
//! each step then runs six of MPNet's twelve layers forward and backward
//! (`text_mpnet_upper.pt`, a TorchScript module whose `lora_a`/`lora_b` parameters are the
//! only ones that learn).

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use tch::nn::{self, Module, OptimizerConfig};
use tch::{CModule, Device, IValue, Kind, Tensor};

use super::data::{bar, cached, meld_source, store_key};
use crate::features::adapter::{Factor, TextAdapter};
use crate::features::text::{dialogue_contexts, run_sorted, DIM};
use crate::features::tokenizer::TextTokenizer;
use crate::manifest::ModelStore;
use crate::metrics::{self, Report};
use crate::torchscript::TorchScript;

/// Settings of `amuse adapt-text`.
#[derive(Debug, Clone)]
pub struct AdaptOptions {
    pub epochs: usize,
    /// Utterances per step.
    pub batch: usize,
    pub lr: f64,
    pub weight_decay: f64,
    /// Dropout on the pooled state before the classifier.
    pub dropout: f64,
    pub seed: u64,
    /// Use only the first N utterances of each split (tests, quick runs).
    pub limit: Option<usize>,
    /// Decay the learning rate linearly to zero over all epochs.
    pub decay: bool,
    /// Preceding utterances of the dialogue put before each utterance in MPNet's input
    /// (0: the utterance alone).
    pub context: usize,
}

impl Default for AdaptOptions {
    fn default() -> Self {
        Self {
            epochs: 3,
            batch: 16,
            lr: 1e-3,
            weight_decay: 0.01,
            dropout: 0.1,
            seed: 7,
            limit: None,
            decay: true,
            context: 0,
        }
    }
}

/// One epoch of the history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdaptLog {
    pub epoch: usize,
    pub loss: f64,
    pub train_accuracy: f64,
    pub dev: Report,
    pub seconds: f64,
}

/// Utterances of a split: the states entering the first adapted layer, and labels.
pub struct Split {
    pub texts: Vec<String>,
    /// Per utterance, the preceding utterances read before it (empty without context).
    pub contexts: Vec<String>,
    pub states: Vec<Tensor>,
    /// Per utterance, the token range `(start, len)` of its own words within `states`
    /// (all tokens without context; the text after the context's tokens with it).
    pub ranges: Vec<(i64, i64)>,
    pub labels: Vec<i64>,
}

/// The adapter's geometry, from the manifest entry of `text_mpnet_upper`.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub first_layer: usize,
    pub scale: f64,
}

pub fn geometry(store: &ModelStore) -> Result<Geometry> {
    let a = store.entry("text_mpnet_upper")?.adapter.clone().unwrap_or_default();
    match (a["first_layer"].as_u64(), a["alpha"].as_f64(), a["rank"].as_f64()) {
        (Some(first), Some(alpha), Some(rank)) if rank > 0.0 => Ok(Geometry {
            first_layer: first as usize,
            scale: alpha / rank,
        }),
        _ => bail!(
            "{} has no adapter description for text_mpnet_upper; {}",
            store.root().join("manifest.json").display(),
            crate::manifest::FIX_HINT
        ),
    }
}

/// MELD `split`'s labelled utterances as lower-layer states (cached on disk), each after
/// its `context` preceding utterances.
pub fn meld_split(store: &ModelStore, split: &str, limit: Option<usize>, context: usize) -> Result<Split> {
    let (raw, groups) = meld_source(split)?;
    let mut texts = Vec::new();
    let mut contexts = Vec::new();
    let mut labels = Vec::new();
    for (_, d) in groups.iter() {
        let all: Vec<&str> = d.utterances.iter().map(|u| u.text.as_str()).collect();
        for (u, c) in d.utterances.iter().zip(dialogue_contexts(&all, context)) {
            if let Some(label) = u.label {
                texts.push(u.text.clone());
                contexts.push(c);
                labels.push(label.index() as i64);
            }
        }
    }
    let n = limit.unwrap_or(usize::MAX).min(texts.len());
    texts.truncate(n);
    contexts.truncate(n);
    labels.truncate(n);
    let tokenizer = TextTokenizer::from_file(&store.require("mpnet_tokenizer")?)?;
    let (encoded, ranges): (Vec<_>, Vec<_>) = contexts
        .iter()
        .zip(&texts)
        .map(|(c, t)| tokenizer.encode_in_context(c, t))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .unzip();
    let mut hasher = Sha256::new()
        .chain_update(&raw)
        .chain_update(n.to_le_bytes())
        .chain_update(store_key(store, &["text_mpnet_lower", "mpnet_tokenizer"]));
    let mut name = format!("meld-{split}-lower");
    if context > 0 {
        hasher.update(context.to_le_bytes());
        name += &format!("-context{context}");
    }
    let key = hex::encode(hasher.finalize());
    let states = cached(&name, &key, n, || {
        let lower = TorchScript::load(store, "text_mpnet_lower", Device::Cpu)?;
        let pb = bar(n, "MPNet lower layers");
        let mut out = Vec::with_capacity(n);
        for chunk in encoded.chunks(256) {
            out.extend(
                run_sorted(&lower, tokenizer.pad_id(), 32, chunk)?
                    .into_iter()
                    .map(|mut o| o.remove(0)),
            );
            pb.inc(chunk.len() as u64);
        }
        pb.finish_and_clear();
        Ok(out)
    })?;
    let ranges = ranges.into_iter().map(|(s, l)| (s as i64, l as i64)).collect();
    Ok(Split {
        texts,
        contexts,
        states,
        ranges,
        labels,
    })
}

/// The top layers with their adapters, and the classifier used while training them.
pub struct Upper {
    module: CModule,
    /// `(parameter name in the upper module, tensor)` of every `lora_a`/`lora_b`.
    lora: Vec<(String, Tensor)>,
    head: nn::Linear,
    dropout: f64,
}

impl Upper {
    /// Load `text_mpnet_upper.pt`; its adapter factors (and a fresh classifier under
    /// `root`) are the only trainable variables.
    pub fn load(store: &ModelStore, root: &nn::Path, dropout: f64) -> Result<Self> {
        let path = store.require("text_mpnet_upper")?;
        let module = CModule::load_on_device(&path, root.device())
            .with_context(|| format!("LibTorch could not load {}", path.display()))?;
        let mut lora = Vec::new();
        for (name, t) in module.named_parameters()? {
            if name.ends_with(".lora_a") || name.ends_with(".lora_b") {
                let t = root.add(&name.replace('.', "_"), t, true);
                lora.push((name, t));
            } else {
                let _ = t.set_requires_grad(false);
            }
        }
        if lora.is_empty() {
            bail!(
                "{} has no adapter parameters; {}",
                path.display(),
                crate::manifest::FIX_HINT
            );
        }
        let head = nn::linear(
            root / "head",
            DIM,
            crate::emotion::Emotion::COUNT as i64,
            Default::default(),
        );
        Ok(Self {
            module,
            lora,
            head,
            dropout,
        })
    }

    /// The adapted top layers' token states `[B, L, 768]` and the padding mask `[B, L]`
    /// for a batch of lower-layer states.
    pub fn token_states(&self, states: &[&Tensor]) -> Result<(Tensor, Tensor)> {
        let device = self.head.ws.device();
        let rows: Vec<Option<&Tensor>> = states.iter().map(|s| Some(*s)).collect();
        let dim = states.first().map_or(768, |s| s.size()[1]);
        let (hidden, lens) = crate::model::batch::pad_sequences(&rows, dim);
        let hidden = hidden.to_device(device);
        let max = hidden.size()[1];
        let mask_rows: Vec<Tensor> = lens
            .iter()
            .map(|&l| {
                Tensor::arange(max, (Kind::Int64, Device::Cpu))
                    .lt(l)
                    .to_kind(Kind::Int64)
            })
            .collect();
        let mask = Tensor::stack(&mask_rows, 0).to_device(device);
        let out = self
            .module
            .forward_is(&[IValue::Tensor(hidden), IValue::Tensor(mask.shallow_clone())])?;
        match out {
            IValue::Tuple(mut items) if !items.is_empty() => match items.remove(0) {
                IValue::Tensor(t) => Ok((t, mask)),
                other => bail!("text_mpnet_upper returned {other:?}"),
            },
            other => bail!("text_mpnet_upper returned {other:?}"),
        }
    }

    /// Logits `[B, 7]` for a batch of lower-layer states (the mean state of each row's
    /// tokens in `ranges`, dropout, a linear classifier).
    pub fn logits(&self, states: &[&Tensor], ranges: &[(i64, i64)], train: bool) -> Result<Tensor> {
        let (token_states, _) = self.token_states(states)?;
        let max = token_states.size()[1];
        let pick: Vec<Tensor> = ranges
            .iter()
            .map(|&(start, len)| {
                let i = Tensor::arange(max, (Kind::Int64, Device::Cpu));
                i.ge(start).logical_and(&i.lt(start + len)).to_kind(Kind::Float)
            })
            .collect();
        let m = Tensor::stack(&pick, 0).to_device(token_states.device()).unsqueeze(-1);
        let mean =
            (token_states * &m).sum_dim_intlist(1, false, Kind::Float) / m.sum_dim_intlist(1, false, Kind::Float);
        Ok(self.head.forward(&mean.dropout(self.dropout, train)))
    }

    /// Fill every `lora_b` with N(0, std²) (they start at zero, where the adapter does
    /// nothing): lets tests check the merge on an adapter that changes the encoder.
    pub fn randomise(&mut self, std: f64) {
        tch::no_grad(|| {
            for (name, t) in &mut self.lora {
                if name.ends_with(".lora_b") {
                    let _ = t.normal_(0.0, std);
                }
            }
        });
    }

    /// The adapter as factors named after `text_mpnet.pt`'s weights (copies).
    pub fn factors(&self, first_layer: usize) -> Result<Vec<Factor>> {
        let mut out = Vec::new();
        for (name, a) in self.lora.iter().filter(|(n, _)| n.ends_with(".lora_a")) {
            let stem = name.trim_end_matches(".lora_a");
            let b_name = format!("{stem}.lora_b");
            let Some((_, b)) = self.lora.iter().find(|(n, _)| *n == b_name) else {
                bail!("text_mpnet_upper lacks {b_name}")
            };
            // `encoder.layer.<i>.<target>` → `model.encoder.layer.<first + i>.<target>.weight`
            let rest = stem
                .strip_prefix("encoder.layer.")
                .with_context(|| format!("unexpected adapter parameter {name}"))?;
            let (i, target) = rest
                .split_once('.')
                .with_context(|| format!("unexpected adapter parameter {name}"))?;
            let i: usize = i
                .parse()
                .with_context(|| format!("unexpected adapter parameter {name}"))?;
            out.push(Factor {
                weight: format!("model.encoder.layer.{}.{target}.weight", first_layer + i),
                a: a.detach().copy().to_device(Device::Cpu),
                b: b.detach().copy().to_device(Device::Cpu),
            });
        }
        Ok(out)
    }

    /// Class predictions for a split, in batches, without gradients.
    pub fn predict(&self, split: &Split) -> Result<Vec<usize>> {
        let mut order: Vec<usize> = (0..split.states.len()).collect();
        order.sort_by_key(|&i| split.states[i].size()[0]);
        let mut out = vec![0usize; order.len()];
        for chunk in order.chunks(32) {
            let refs: Vec<&Tensor> = chunk.iter().map(|&i| &split.states[i]).collect();
            let ranges: Vec<(i64, i64)> = chunk.iter().map(|&i| split.ranges[i]).collect();
            let pred = tch::no_grad(|| self.logits(&refs, &ranges, false))?.argmax(-1, false);
            for (row, &i) in chunk.iter().enumerate() {
                out[i] = pred.int64_value(&[row as i64]) as usize;
            }
        }
        Ok(out)
    }
}

fn report(split: &Split, pred: &[usize]) -> Report {
    let pairs: Vec<(usize, usize)> = split.labels.iter().zip(pred).map(|(&t, &p)| (t as usize, p)).collect();
    metrics::evaluate(&pairs)
}

/// Train the adapter; returns the factors of the epoch with the best dev weighted F1 and
/// the history. `on_epoch` sees each epoch as it ends.
pub fn adapt(
    store: &ModelStore,
    train: &Split,
    dev: &Split,
    opts: &AdaptOptions,
    device: Device,
    on_epoch: &mut dyn FnMut(&AdaptLog),
) -> Result<(Vec<Factor>, Vec<AdaptLog>)> {
    let geo = geometry(store)?;
    tch::manual_seed(opts.seed as i64);
    let vs = nn::VarStore::new(device);
    let upper = Upper::load(store, &vs.root(), opts.dropout)?;
    let mut opt = nn::AdamW {
        wd: opts.weight_decay,
        ..Default::default()
    }
    .build(&vs, opts.lr)?;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut best: Option<(f64, Vec<Factor>)> = None;
    // The learning rate decays linearly to zero over the run: with a constant rate, dev
    // weighted F1 peaked after the first epoch and fell while train accuracy rose.
    let steps_per_epoch = train.states.len().div_ceil(opts.batch.max(1));
    let total_steps = (steps_per_epoch * opts.epochs).max(1) as f64;
    let mut step = 0usize;
    let mut history = Vec::new();
    for epoch in 1..=opts.epochs {
        let t0 = Instant::now();
        // Shuffle, then sort within windows of 8 batches by length: little padding, and
        // batches still differ from epoch to epoch.
        let mut order: Vec<usize> = (0..train.states.len()).collect();
        order.shuffle(&mut rng);
        for w in order.chunks_mut(opts.batch * 8) {
            w.sort_by_key(|&i| train.states[i].size()[0]);
        }
        let mut batches: Vec<&[usize]> = order.chunks(opts.batch.max(1)).collect();
        batches.shuffle(&mut rng);
        let (mut loss_sum, mut correct) = (0.0, 0usize);
        let pb = bar(batches.len(), &format!("adapt {epoch}/{}", opts.epochs));
        for idx in batches {
            let refs: Vec<&Tensor> = idx.iter().map(|&i| &train.states[i]).collect();
            let ranges: Vec<(i64, i64)> = idx.iter().map(|&i| train.ranges[i]).collect();
            let labels =
                Tensor::from_slice(&idx.iter().map(|&i| train.labels[i]).collect::<Vec<_>>()).to_device(device);
            if opts.decay {
                opt.set_lr(opts.lr * (1.0 - step as f64 / total_steps));
            }
            step += 1;
            let logits = upper.logits(&refs, &ranges, true)?;
            let loss = logits.cross_entropy_for_logits(&labels);
            opt.backward_step(&loss);
            loss_sum += loss.double_value(&[]) * idx.len() as f64;
            correct += logits
                .argmax(-1, false)
                .eq_tensor(&labels)
                .sum(Kind::Int64)
                .int64_value(&[]) as usize;
            pb.inc(1);
        }
        pb.finish_and_clear();
        let dev_report = report(dev, &upper.predict(dev)?);
        let log = AdaptLog {
            epoch,
            loss: loss_sum / train.states.len().max(1) as f64,
            train_accuracy: correct as f64 / train.states.len().max(1) as f64,
            dev: dev_report,
            seconds: t0.elapsed().as_secs_f64(),
        };
        on_epoch(&log);
        if best.as_ref().is_none_or(|(f1, _)| log.dev.weighted_f1 > *f1) {
            best = Some((log.dev.weighted_f1, upper.factors(geo.first_layer)?));
        }
        history.push(log);
    }
    let (_, factors) = best.context("no epoch trained (--epochs 0?)")?;
    Ok((factors, history))
}

/// Write `DIR/text_adapter.safetensors` and `DIR/text_adapter.json` (how it was trained).
pub fn save(
    dir: &Path,
    store: &ModelStore,
    context: usize,
    factors: &[Factor],
    about: &serde_json::Value,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let geo = geometry(store)?;
    TextAdapter::save(&dir.join(crate::features::adapter::FILE), geo.scale, context, factors)?;
    crate::fsutil::write_atomic(
        &about_path(&dir.join(crate::features::adapter::FILE)),
        serde_json::to_string_pretty(about)?.as_bytes(),
    )?;
    Ok(())
}

fn about_path(adapter: &Path) -> std::path::PathBuf {
    adapter.with_extension("json")
}

/// What `text_adapter.json` beside an adapter file says (null when there is none).
pub fn about(adapter: &Path) -> serde_json::Value {
    std::fs::read(about_path(adapter))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null)
}
