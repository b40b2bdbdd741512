//! One training run, from corpora to a saved checkpoint (`amuse train`): which corpora, the
//! label-matched samples that join them, the pools held aside (Eq. 6's and calibration's),
//! freezing for `--extend`, the calibration fitted at the end, and what the checkpoint
//! records about all of it. The CLI only turns flags into a [`Plan`].

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use tch::{nn, Device};

use super::corpora::{self, Dataset, Encoders, Sources, Split};
use super::data::Corpus;
use super::{calibrate, extend, pairs, pool, TrainOptions};
use crate::features::adapter::TextAdapter;
use crate::manifest::ModelStore;
use crate::model::amuse::{self, Amuse, Modality};
use crate::model::checkpoint::{self, AdapterRef, CheckpointInfo};
use crate::model::config::Config;

/// The calibration pools' draw: fixed, so that every stage of a checkpoint's recipe (text,
/// then audio, then visual) holds aside the same utterances, whatever its training seed.
pub const CALIBRATION_SEED: u64 = 0xCA11;

/// Everything a training run needs to know.
#[derive(Debug, Clone)]
pub struct Plan {
    pub data: Vec<Dataset>,
    pub sources: Sources,
    /// The model to build (ignored with `extend`: the checkpoint's own is used).
    pub config: Config,
    pub options: TrainOptions,
    /// Add samples joining the corpora's modalities ([`pairs::of`]).
    pub pairs: bool,
    /// In those joining words with a voice or a face, how often the voice or face agrees
    /// with the words' label (1: always; see [`pairs::with_words`]).
    pub pair_agreement: f64,
    /// With `FusionMode::Guided`: the fraction of each training corpus held aside for Eq. 6.
    pub af_pool: f64,
    /// The fraction of each training corpus held aside to fit the temperatures (0: none).
    pub calibration_pool: f64,
    pub text_adapter: Option<PathBuf>,
    /// Start from this checkpoint and add the modalities of `data` (see [`extend`]).
    pub extend: Option<PathBuf>,
    pub out: PathBuf,
}

/// What a run produced.
pub struct Trained {
    pub info: CheckpointInfo,
    pub seconds_per_epoch: f64,
    /// Each dev set's metrics table.
    pub tables: Vec<(String, String)>,
}

/// The modalities a checkpoint trained on `data` (and extending `base`) reads, in model
/// order: the base's, and those of `data` its training utterances actually `carried` (an
/// IEMOCAP copy without its videos teaches no faces).
fn modalities(data: &[Dataset], base: &[Modality], carried: &[Modality]) -> Vec<Modality> {
    Modality::ALL
        .iter()
        .filter(|m| base.contains(m) || (carried.contains(m) && data.iter().any(|d| d.modalities().contains(m))))
        .map(|m| (*m).to_owned())
        .collect()
}

/// The modalities some utterance of `sets` has.
fn carried(sets: &[&Corpus]) -> Vec<Modality> {
    let all = || sets.iter().flat_map(|c| c.dialogues.iter().flatten());
    let has = [
        (Modality::Text, all().any(|u| u.text.is_some())),
        (Modality::Audio, all().any(|u| u.audio.is_some())),
        (Modality::Visual, all().any(|u| u.face.is_some() || u.back.is_some())),
    ];
    has.into_iter().filter(|(_, h)| *h).map(|(m, _)| m).collect()
}

/// Run `plan` and save the checkpoint it trains.
pub fn run(plan: &Plan, device: Device) -> Result<Trained> {
    let store = ModelStore::open_default()?;
    let six = plan.data.contains(&Dataset::Iemocap);
    if six && plan.data.len() > 1 {
        bail!("IEMOCAP's six classes cannot be trained together with MELD's/RAVDESS's seven: use --data iemocap alone");
    }
    let mut base = match plan.extend.as_deref() {
        Some(dir) => Some((dir, check_extension(plan, dir, device)?)),
        None => None,
    };
    let (config, adapter) = match base.as_mut() {
        Some((_, b)) => (b.info.config.clone(), b.text_adapter.take()),
        None => (
            plan.config.clone(),
            plan.text_adapter.as_deref().map(TextAdapter::load).transpose()?,
        ),
    };
    let enc = Encoders::load(&store, config.audio_source, adapter.as_ref())?;
    let (mut train_sets, mut dev_sets, mut af_pools, mut cal_pools) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut synthetic_pools: Vec<Corpus> = Vec::new();
    for &set in &plan.data {
        let mut corpus = corpora::load(&store, &enc, set, Split::Train, &plan.sources)?;
        if plan.calibration_pool > 0.0 {
            let (rest, held) = pool::hold_aside(corpus, plan.calibration_pool, CALIBRATION_SEED, "calibration");
            corpus = rest;
            cal_pools.push(held);
        }
        if config.fusion == crate::model::config::FusionMode::Guided {
            let (rest, held) = super::af_learning::hold_out(corpus, plan.af_pool, plan.options.seed);
            corpus = rest;
            af_pools.push(held);
        }
        train_sets.push(corpus);
        dev_sets.push(corpora::load(&store, &enc, set, Split::Dev, &plan.sources)?);
    }
    let base_modalities: Vec<Modality> = base
        .as_ref()
        .map(|(_, b)| b.info.modalities.clone())
        .unwrap_or_default();
    // What the base's predictions depend on is measured on every training corpus (MELD's
    // multi-utterance dialogues reach the context Bi-LSTMs' recurrent weights, one-clip
    // corpora do not), before the corpora that cannot teach anything are dropped; the
    // cross-corpus samples add no kind of input the corpora do not have.
    if let Some((_, b)) = base.as_mut() {
        b.vs.unfreeze(); // loaded for inference
    }
    let frozen = base.as_ref().map(|(dir, b)| {
        // Utterances left with none of the base's modalities (a face alone) say nothing
        // about what the base depends on.
        let sample: Vec<_> = train_sets
            .iter()
            .flat_map(|c| c.only(&b.info.modalities))
            .filter(|d| {
                d.iter()
                    .all(|u| u.text.is_some() || u.audio.is_some() || u.face.is_some() || u.back.is_some())
            })
            .collect();
        let frozen = extend::freeze_dependencies(&b.model, &b.vs, &sample);
        eprintln!(
            "extending {}: {} of {} weights frozen (what its {} predictions depend on)",
            dir.display(),
            frozen.frozen,
            frozen.total,
            amuse::join(&b.info.modalities, "+")
        );
        std::rc::Rc::new(frozen)
    });
    if plan.pairs {
        let joined = pairs::of(&plan.data, &train_sets, plan.pair_agreement, plan.options.seed);
        if cal_pools.len() == plan.data.len() {
            synthetic_pools = pairs::of(&plan.data, &cal_pools, plan.pair_agreement, plan.options.seed + 1);
        }
        train_sets.extend(joined);
    }
    if base.is_some() {
        // Samples with only the base's modalities cannot move a free weight (their gradient
        // there is exactly zero): they would cost time and nothing else.
        train_sets.retain(|c| {
            c.dialogues.iter().flatten().any(|u| {
                let new = |m: Modality| !base_modalities.contains(&m);
                (u.audio.is_some() && new(Modality::Audio))
                    || ((u.face.is_some() || u.back.is_some()) && new(Modality::Visual))
                    || (u.text.is_some() && new(Modality::Text))
            })
        });
    }
    tch::manual_seed(plan.options.seed as i64);
    let (mut vs, model, frozen, base_info) = match base {
        None => {
            let vs = nn::VarStore::new(device);
            let model = Amuse::new(&vs.root(), config.clone());
            (vs, model, None, None)
        }
        Some((_, b)) => {
            let checkpoint::Loaded { vs, model, info, .. } = b;
            (vs, model, frozen, Some(info))
        }
    };
    let opts = TrainOptions {
        frozen,
        ..plan.options.clone()
    };
    let refs: Vec<&Corpus> = train_sets.iter().collect();
    eprintln!(
        "training on {} ({} utterances)",
        refs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(" + "),
        refs.iter().map(|c| c.utterances()).sum::<usize>()
    );
    let dev_refs: Vec<&Corpus> = dev_sets.iter().collect();
    let pool_refs: Vec<&Corpus> = af_pools.iter().collect();
    let history = super::fit(&model, &mut vs, &refs, &pool_refs, &dev_refs, &opts, &mut |log| {
        eprintln!("{}", log.line())
    })?;

    let (real_refs, synthetic_refs): (Vec<&Corpus>, Vec<&Corpus>) =
        (cal_pools.iter().collect(), synthetic_pools.iter().collect());
    let mut fitted = calibrate::fit(&model, &real_refs, &synthetic_refs, device);
    // An extension calibrates what it adds: the patterns with a new modality and the new
    // modalities' heads. The base's predictions did not change, nor do their temperatures
    // (the base's training data, unlike this run's pools, was not held aside from it).
    let calibration = match &base_info {
        Some(b) => {
            let new = |m: &str| !b.modalities.iter().any(|have| have.name() == m);
            fitted.fused.retain(|pattern, _| pattern.split('+').any(new));
            fitted.heads.retain(|m, _| new(m));
            b.calibration.clone().merged_with(&fitted)
        }
        None => fitted,
    };
    let mut scores = serde_json::Map::new();
    let mut report = serde_json::Map::new();
    let mut tables = Vec::new();
    for d in dev_sets.iter().chain(&cal_pools).chain(&synthetic_pools) {
        let (before, after) = calibrate::measure(&model, &calibration, d, device);
        report.insert(d.name.clone(), serde_json::json!({ "before": before, "after": after }));
    }
    for d in &dev_sets {
        let r = super::evaluate(&model, d, device);
        tables.push((d.name.clone(), r.table()));
        scores.insert(d.name.clone(), serde_json::to_value(&r)?);
    }
    let calibration = crate::model::calibration::Calibration {
        report: serde_json::Value::Object(report),
        ..calibration
    };
    let info = CheckpointInfo {
        trained_on: trained_on(plan, &refs, &dev_sets, base_info.as_ref(), config.dropout),
        dev_scores: serde_json::Value::Object(scores),
        modalities: modalities(&plan.data, &base_modalities, &carried(&refs)),
        // Extending keeps the checkpoint's adapter, and what its folder says about it.
        text_adapter: base_info.as_ref().and_then(|b| b.text_adapter.clone()).or_else(|| {
            adapter.as_ref().map(|a| AdapterRef {
                file: crate::features::adapter::FILE.into(),
                sha256: a.sha256.clone(),
                about: super::text_adapter::about(&a.path),
            })
        }),
        visual_streams: match &base_info {
            Some(b) if b.reads(Modality::Visual) => b.visual_streams.clone(),
            _ => visual_streams(&refs),
        },
        calibration,
        config,
    };
    if let Some(a) = &adapter {
        let dest = plan.out.join(crate::features::adapter::FILE);
        if a.path.canonicalize().ok() != dest.canonicalize().ok() {
            std::fs::create_dir_all(&plan.out).with_context(|| format!("creating {}", plan.out.display()))?;
            crate::fsutil::write_atomic(&dest, &std::fs::read(&a.path)?)?;
        }
    }
    checkpoint::save(&plan.out, &vs, &info)?;
    let seconds_per_epoch = history.iter().map(|h| h.seconds).sum::<f64>() / history.len().max(1) as f64;
    Ok(Trained {
        info,
        seconds_per_epoch,
        tables,
    })
}

/// The visual streams the training data has (both when it has no visual data: nothing is
/// masked in a checkpoint that does not read faces anyway).
fn visual_streams(sets: &[&Corpus]) -> Vec<String> {
    let all = || sets.iter().flat_map(|c| c.dialogues.iter().flatten());
    let (face, back) = (all().any(|u| u.face.is_some()), all().any(|u| u.back.is_some()));
    if !face && !back {
        return vec!["face".into(), "back".into()];
    }
    [("face", face), ("back", back)]
        .into_iter()
        .filter(|(_, has)| *has)
        .map(|(s, _)| s.to_owned())
        .collect()
}

/// Load the checkpoint an extension starts from, refusing one that `plan` adds nothing to.
fn check_extension(plan: &Plan, dir: &std::path::Path, device: Device) -> Result<checkpoint::Loaded> {
    if plan.text_adapter.is_some() {
        bail!("--extend trains with the extended checkpoint's own text adapter: drop --text-adapter");
    }
    let info = checkpoint::read_info(dir)?;
    let adds: Vec<Modality> = plan
        .data
        .iter()
        .flat_map(|d| d.modalities().iter().copied())
        .filter(|m| !info.reads(*m))
        .collect();
    if adds.is_empty() {
        bail!(
            "--extend adds the modalities of --data (audio: ravdess, emodb, iemocap; visual: ferplus, meld-raw) to a \
             checkpoint without them; {} already uses {}",
            dir.display(),
            amuse::join(&info.modalities, " + ")
        );
    }
    let classes = if plan.data.contains(&Dataset::Iemocap) {
        super::iemocap::CLASSES.len() as i64
    } else {
        7
    };
    if info.config.classes != classes {
        bail!(
            "--extend: the checkpoint predicts {} classes but --data is labelled with {classes}",
            info.config.classes
        );
    }
    checkpoint::load(dir, device)
}

/// The checkpoint's `trained_on`: the base's recipe, then this run's corpora and settings.
fn trained_on(plan: &Plan, refs: &[&Corpus], dev: &[Corpus], base: Option<&CheckpointInfo>, dropout: f64) -> String {
    let o = &plan.options;
    format!(
        "{}{}; {} epochs, batch {}, lr {}, dropout {}, seed {}{}; {}",
        base.map_or(String::new(), |b| format!(
            "{} — then extended (only weights its {} predictions do not depend on) on ",
            b.trained_on,
            amuse::join(&b.modalities, "+")
        )),
        refs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(" + "),
        o.epochs,
        o.batch,
        o.lr,
        dropout,
        o.seed,
        if plan.calibration_pool > 0.0 {
            format!(
                "; {:.0} % of each training corpus held aside for calibration",
                plan.calibration_pool * 100.0
            )
        } else {
            String::new()
        },
        selection(dev, o.dev_floor)
    )
}

/// How the kept epoch was chosen, for `trained_on`.
fn selection(dev: &[Corpus], floor: Option<f64>) -> String {
    let names: Vec<&str> = dev.iter().map(|d| d.name.as_str()).collect();
    match (floor, names.split_first()) {
        (Some(f), Some((first, rest))) if !rest.is_empty() => format!(
            "best epoch by {first} weighted F1 among those with {} weighted F1 ≥ {f}",
            rest.join(", ")
        ),
        _ => format!("best epoch by mean dev weighted F1 of {}", names.join(" + ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_reads_its_bases_modalities_and_its_datas() {
        use Modality::*;
        let all = Modality::ALL;
        assert_eq!(modalities(&[Dataset::Meld], &[], &all), [Text]);
        assert_eq!(modalities(&[Dataset::Meld, Dataset::Emodb], &[], &all), [Text, Audio]);
        assert_eq!(
            modalities(&[Dataset::Ferplus], &[Text, Audio], &[Visual]),
            [Text, Audio, Visual]
        );
        // IEMOCAP reads faces only when its videos gave some.
        assert_eq!(modalities(&[Dataset::Iemocap], &[], &all), [Text, Audio, Visual]);
        assert_eq!(modalities(&[Dataset::Iemocap], &[], &[Text, Audio]), [Text, Audio]);
    }
}
