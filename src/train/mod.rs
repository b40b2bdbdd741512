//! Training and evaluation of the AMuSE model on real corpora (Section III-E), from the
//! CLI: `amuse train`, `amuse eval`.

pub mod af_learning;
pub mod augment;
pub mod calibrate;
pub mod corpora;
pub mod data;
pub mod emodb;
pub mod extend;
pub mod ferplus;
pub mod iemocap;
pub mod iemocap_video;
pub mod meld_raw;
pub mod pairs;
pub mod plan;
pub mod pool;
pub mod text_adapter;

use anyhow::Result;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use crate::metrics::{self, Report};
use crate::model::amuse::Amuse;
use crate::model::batch::{Batch, UtteranceInput};
use crate::model::config::FusionMode;
use data::Corpus;

/// Optimiser and schedule settings (authors: Adam, lr 5e-4, weight decay 2e-4, batch 8).
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub epochs: usize,
    /// Dialogues per batch.
    pub batch: usize,
    pub lr: f64,
    pub weight_decay: f64,
    pub seed: u64,
    /// The Eq. 6 update, used when the model's fusion is `FusionMode::Guided`.
    pub af: af_learning::AfOptions,
    /// Epoch selection: `None` keeps the best mean dev weighted F1; `Some(f)` the best on
    /// the first dev set among epochs where every other dev set reaches `f` (see [`score`]).
    pub dev_floor: Option<f64>,
    /// Elements kept at their starting values (`amuse train --extend`, see [`extend`]).
    pub frozen: Option<std::rc::Rc<extend::Frozen>>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 15,
            batch: 8,
            lr: 5e-4,
            weight_decay: 2e-4,
            seed: 7,
            af: af_learning::AfOptions::default(),
            dev_floor: None,
            frozen: None,
        }
    }
}

/// The selection score of an epoch from its per-dev-set weighted F1 (`each`, in the order
/// of the dev sets). Without a floor, their mean. With one, `1 + first` when every other
/// set reaches the floor, else the mean: any epoch that keeps the floor beats any that
/// does not (weighted F1 ≤ 1), and among those the first set (MELD) decides.
pub fn score(each: &[f64], floor: Option<f64>) -> f64 {
    let mean = each.iter().sum::<f64>() / each.len().max(1) as f64;
    match (floor, each.split_first()) {
        (Some(f), Some((first, rest))) if rest.iter().all(|&x| x >= f) => 1.0 + first,
        _ => mean,
    }
}

/// One line of the training history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EpochLog {
    pub epoch: usize,
    pub loss: f64,
    pub focal: f64,
    pub nce: f64,
    pub classification: f64,
    pub seconds: f64,
    pub dev_weighted_f1: Option<f64>,
    /// Weighted F1 on each dev set, in order.
    pub dev_each: Vec<f64>,
    /// The Eq. 6 update after this epoch (Guided fusion only).
    pub af: Option<af_learning::AfStep>,
}

impl EpochLog {
    /// The training log's line for this epoch.
    pub fn line(&self) -> String {
        let mut line = format!(
            "epoch {:>3}  loss {:.4} (focal {:.4}, nce {:.4}, cls {:.4})  dev w-F1 {} ({})  {:.1}s",
            self.epoch,
            self.loss,
            self.focal,
            self.nce,
            self.classification,
            self.dev_weighted_f1.map_or("-".into(), |f| format!("{f:.4}")),
            self.dev_each
                .iter()
                .map(|f| format!("{f:.4}"))
                .collect::<Vec<_>>()
                .join(" / "),
            self.seconds
        );
        if let Some(af) = &self.af {
            line.push_str(&format!(
                "\n          Eq. 6: {} of {} pool utterances informative; α {:?}",
                af.informative, af.examined, af.alpha
            ));
        }
        line
    }
}

pub(crate) fn dims(model: &Amuse) -> [i64; 4] {
    let c = &model.config;
    [c.text_dim, c.audio_dim, c.face_dim, c.back_dim]
}

/// Train on the union of `corpora` (batches never mix corpora, so dialogue structure is
/// kept), evaluating on every `dev` corpus after each epoch; keeps in `vs` the weights of
/// the epoch with the best selection [`score`]. With `FusionMode::Guided`, α is set after
/// each epoch by Eq. 6 from `pool`, a validation pool held aside from the training data.
pub fn fit(
    model: &Amuse,
    vs: &mut nn::VarStore,
    corpora: &[&Corpus],
    pool: &[&Corpus],
    dev: &[&Corpus],
    opts: &TrainOptions,
    on_epoch: &mut dyn FnMut(&EpochLog),
) -> Result<Vec<EpochLog>> {
    tch::manual_seed(opts.seed as i64);
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut opt = nn::AdamW {
        wd: opts.weight_decay,
        ..Default::default()
    }
    .build(vs, opts.lr)?;
    let mut batches: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut history = Vec::new();
    let mut best: Option<(f64, Vec<(String, Tensor)>)> = None;
    for epoch in 1..=opts.epochs {
        let started = std::time::Instant::now();
        batches.clear();
        for (ci, c) in corpora.iter().enumerate() {
            let mut idx: Vec<usize> = (0..c.dialogues.len()).collect();
            idx.shuffle(&mut rng);
            batches.extend(idx.chunks(opts.batch.max(1)).map(|ch| (ci, ch.to_vec())));
        }
        batches.shuffle(&mut rng);
        let (mut sum, mut sf, mut sn, mut sc) = (0.0, 0.0, 0.0, 0.0);
        for (ci, idx) in &batches {
            let ds: Vec<&[UtteranceInput]> = idx.iter().map(|&i| corpora[*ci].dialogues[i].as_slice()).collect();
            let b = Batch::new(&ds, dims(model), vs.device());
            let out = model.forward(&b, true);
            let l = model.losses(&b, &out);
            opt.backward_step(&l.total);
            model.fusion.project();
            if let Some(frozen) = &opts.frozen {
                frozen.restore();
            }
            sum += l.total.double_value(&[]);
            sf += l.focal;
            sn += l.nce;
            sc += l.classification;
        }
        let nb = batches.len().max(1) as f64;
        let af = (model.config.fusion == FusionMode::Guided && !pool.is_empty())
            .then(|| af_learning::update(model, pool, &opts.af, &mut rng, vs.device()));
        let dev_each: Vec<f64> = dev
            .iter()
            .map(|d| evaluate(model, d, vs.device()).weighted_f1)
            .collect();
        let dev_f1 = (!dev.is_empty()).then(|| dev_each.iter().sum::<f64>() / dev.len() as f64);
        if !dev_each.is_empty() {
            let f1 = score(&dev_each, opts.dev_floor);
            if best.as_ref().is_none_or(|(b, _)| f1 > *b) {
                best = Some((
                    f1,
                    vs.variables()
                        .into_iter()
                        .map(|(k, v)| (k, v.detach().copy()))
                        .collect(),
                ));
            }
        }
        let log = EpochLog {
            epoch,
            loss: sum / nb,
            focal: sf / nb,
            nce: sn / nb,
            classification: sc / nb,
            seconds: started.elapsed().as_secs_f64(),
            dev_weighted_f1: dev_f1,
            dev_each,
            af,
        };
        on_epoch(&log);
        history.push(log);
    }
    if let Some((_, weights)) = best {
        tch::no_grad(|| {
            let vars = vs.variables();
            for (k, v) in weights {
                if let Some(t) = vars.get(&k) {
                    t.shallow_clone().copy_(&v);
                }
            }
        });
    }
    Ok(history)
}

/// Class probabilities for every utterance of a corpus, in corpus order: `(truth, probs)`.
pub fn predict(model: &Amuse, corpus: &Corpus, device: Device) -> Vec<(Option<usize>, Vec<f64>)> {
    let mut out = Vec::with_capacity(corpus.utterances());
    tch::no_grad(|| {
        for chunk in corpus.dialogues.chunks(16) {
            let ds: Vec<&[UtteranceInput]> = chunk.iter().map(Vec::as_slice).collect();
            let b = Batch::new(&ds, dims(model), device);
            let probs = model
                .forward(&b, false)
                .logits
                .softmax(-1, Kind::Float)
                .to_device(Device::Cpu);
            let rows: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(probs).unwrap_or_default();
            for (u, p) in chunk.iter().flatten().zip(rows) {
                out.push((u.label.map(|l| l as usize), p.into_iter().map(f64::from).collect()));
            }
        }
    });
    out
}

/// Metrics of the model on a labelled corpus.
pub fn evaluate(model: &Amuse, corpus: &Corpus, device: Device) -> Report {
    let names: Vec<&str> = crate::emotion::Emotion::ALL.iter().map(|e| e.name()).collect();
    evaluate_named(model, corpus, device, &names)
}

/// [`evaluate`] for a model whose classes are `classes` (e.g. IEMOCAP's six).
pub fn evaluate_named(model: &Amuse, corpus: &Corpus, device: Device, classes: &[&str]) -> Report {
    let pairs: Vec<(usize, usize)> = predict(model, corpus, device)
        .into_iter()
        .filter_map(|(t, p)| t.map(|t| (t, crate::metrics::argmax(&p))))
        .collect();
    metrics::evaluate_named(&pairs, classes)
}

/// Metrics of modality `m`'s Central head alone (over the utterances where `m` is present).
pub fn evaluate_head(model: &Amuse, corpus: &Corpus, device: Device, m: usize) -> Option<Report> {
    let pairs: Vec<(usize, usize)> = calibrate::outputs(model, corpus, device)
        .into_iter()
        .filter_map(|r| r.heads[m].as_ref().map(|h| (r.truth, crate::metrics::argmax(h))))
        .collect();
    (!pairs.is_empty()).then(|| metrics::evaluate(&pairs))
}

/// Seconds per call of `f`, for benchmarks.
pub fn time_it<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = std::time::Instant::now();
    let out = f();
    (out, t.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::score;

    #[test]
    fn the_floor_ranks_epochs_that_keep_it_first_then_by_the_first_dev_set() {
        assert!((score(&[0.6, 0.7], None) - 0.65).abs() < 1e-12);
        // Keeps the floor: ranked by MELD alone, above any epoch that misses it.
        let keeps = score(&[0.60, 0.66], Some(0.65));
        let higher_meld_keeps = score(&[0.61, 0.65], Some(0.65));
        let misses = score(&[0.62, 0.80], Some(0.65 + 0.2));
        assert!(
            higher_meld_keeps > keeps && keeps > misses,
            "{higher_meld_keeps} {keeps} {misses}"
        );
        assert!(
            (misses - 0.71).abs() < 1e-12,
            "missing the floor falls back to the mean"
        );
    }
}
