//! `amuse train` and `amuse eval` on the real corpora (MELD transcripts, RAVDESS speech).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use tch::{nn, Device};

use crate::features::adapter::TextAdapter;
use crate::features::audio::{SoundEncoder, SpeechEncoder};
use crate::features::text::TextEncoder;
use crate::manifest::ModelStore;
use crate::model::amuse::Amuse;
use crate::model::checkpoint::{self, AdapterRef, CheckpointInfo};
use crate::model::config::{AudioSource, Config, FusionMode};
use crate::train::data::{self, AudioEncoderRef, Corpus};
use crate::train::{self, extend, TrainOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dataset {
    /// MELD transcripts (text, speakers, dialogue context).
    Meld,
    /// RAVDESS speech, actors 1–16 train / 17–20 dev.
    Ravdess,
    /// IEMOCAP_full_release (give --iemocap PATH): text + audio, six classes; Sessions 1–4
    /// train (a tenth of the dialogues as dev), Session 5 test.
    Iemocap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Fusion {
    /// Test-3: α learned by back-propagation.
    Learned,
    /// Test-3 by the paper's AF learning (Eq. 6) on a pool held aside from train.
    Eq6,
    /// Test-2: every α = 0.5.
    Equal,
    /// Test-1: α random (seeded), fixed.
    Random,
}

impl Fusion {
    pub fn mode(self) -> FusionMode {
        match self {
            Fusion::Learned => FusionMode::Learned,
            Fusion::Eq6 => FusionMode::Guided,
            Fusion::Equal => FusionMode::Equal,
            Fusion::Random => FusionMode::RandomFixed,
        }
    }
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Corpora to train on (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "meld,ravdess")]
    pub data: Vec<Dataset>,
    #[arg(long, default_value_t = 15)]
    pub epochs: usize,
    /// Dialogues per batch.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[arg(long, default_value_t = 5e-4)]
    pub lr: f64,
    #[arg(long, default_value_t = 128)]
    pub hidden: i64,
    #[arg(long, default_value_t = 2)]
    pub man_layers: usize,
    #[arg(long, default_value_t = 1.0)]
    pub gamma: f64,
    #[arg(long, default_value_t = 0.4)]
    pub dropout: f64,
    /// Keep the epoch with the best weighted F1 on the first dev set (MELD) among those
    /// where every other dev set (RAVDESS) reaches this weighted F1; default: the best mean.
    #[arg(long)]
    pub dev_floor: Option<f64>,
    /// Also train on label-matched MELD-text × RAVDESS-audio pairs (see `data::label_pairs`).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub pairs: bool,
    #[arg(long, value_enum, default_value_t = Fusion::Learned)]
    pub fusion: Fusion,
    /// ε of Eq. 6 (with --fusion eq6).
    #[arg(long, default_value_t = 1.0)]
    pub af_epsilon: f64,
    /// With --fusion eq6: the fraction of each training corpus held aside as Eq. 6's
    /// validation pool (not trained on; dev and test are never used for it).
    #[arg(long, default_value_t = 0.1)]
    pub af_pool: f64,
    /// Audio features: Whisper encoder frames or aisfx sound blocks.
    #[arg(long, value_enum, default_value_t = Audio::Whisper)]
    pub audio: Audio,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Where to write the checkpoint (default: models/amuse).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The IEMOCAP_full_release folder (with --data iemocap).
    #[arg(long)]
    pub iemocap: Option<PathBuf>,
    /// A text adapter from `amuse adapt-text` (its `text_adapter.safetensors`): the text
    /// features are computed with it merged into MPNet, and it is copied into the
    /// checkpoint, which then needs it. `models/amuse` was trained with one.
    #[arg(long)]
    pub text_adapter: Option<PathBuf>,
    /// Start from this checkpoint (its configuration, weights and text adapter) and add the
    /// modalities of --data, learning only the weights its predictions from its own
    /// modalities do not depend on: those predictions stay exactly as they were
    /// (see `train::extend`).
    #[arg(long)]
    pub extend: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Audio {
    Whisper,
    Aisfx,
}

pub(crate) struct Encs {
    text: TextEncoder,
    speech: Option<SpeechEncoder>,
    sound: Option<SoundEncoder>,
}

fn audio_ref(enc: &Encs) -> Result<AudioEncoderRef<'_>> {
    Ok(match (&enc.speech, &enc.sound) {
        (Some(s), _) => AudioEncoderRef::Whisper(s),
        (None, Some(s)) => AudioEncoderRef::Aisfx(s),
        _ => bail!("no audio encoder loaded"),
    })
}

pub(crate) fn load_corpus(
    store: &ModelStore,
    enc: &Encs,
    set: Dataset,
    split: &str,
    iemocap: Option<&std::path::Path>,
) -> Result<Corpus> {
    match set {
        Dataset::Meld => data::meld(store, &enc.text, split),
        Dataset::Iemocap => {
            let Some(root) = iemocap else {
                bail!("--data iemocap needs --iemocap PATH (the IEMOCAP_full_release folder)")
            };
            crate::train::iemocap::corpus(store, &enc.text, &audio_ref(enc)?, root, split)
        }
        Dataset::Ravdess => {
            let actors = match split {
                "train" => 1..=16,
                "dev" => 17..=20,
                other => bail!("RAVDESS splits here are train (actors 1–16) and dev (17–20), not {other}"),
            };
            data::ravdess(store, &enc.text, &audio_ref(enc)?, actors)
        }
    }
}

pub(crate) fn encoders(store: &ModelStore, audio: AudioSource, text_adapter: Option<&TextAdapter>) -> Result<Encs> {
    Ok(Encs {
        text: TextEncoder::load_adapted(store, Device::Cpu, text_adapter)?,
        speech: (audio == AudioSource::Whisper)
            .then(|| SpeechEncoder::load(store, Device::Cpu))
            .transpose()?,
        sound: (audio == AudioSource::Aisfx)
            .then(|| SoundEncoder::load(store, Device::Cpu))
            .transpose()?,
    })
}

pub fn train(args: &TrainArgs, device: Device) -> Result<()> {
    let store = ModelStore::open_default()?;
    let audio = if args.audio == Audio::Aisfx {
        AudioSource::Aisfx
    } else {
        AudioSource::Whisper
    };
    let iemocap = args.data.contains(&Dataset::Iemocap);
    if iemocap && args.data.len() > 1 {
        bail!("IEMOCAP's six classes cannot be trained together with MELD's/RAVDESS's seven: use --data iemocap alone");
    }
    let config = Config {
        classes: if iemocap {
            crate::train::iemocap::CLASSES.len() as i64
        } else {
            7
        },
        hidden: args.hidden,
        man_layers: args.man_layers,
        gamma: args.gamma,
        dropout: args.dropout,
        fusion: args.fusion.mode(),
        af_epsilon: args.af_epsilon,
        audio_source: audio,
        audio_dim: if audio == AudioSource::Aisfx { 512 } else { 384 },
        seed: args.seed,
        ..Config::default()
    };
    let (config, adapter, base) = match args.extend.as_deref() {
        Some(dir) => {
            let checkpoint::Loaded {
                vs,
                model,
                info,
                text_adapter,
            } = checkpoint::load(dir, device)?;
            if args.text_adapter.is_some() {
                bail!("--extend trains with the extended checkpoint's own text adapter: drop --text-adapter");
            }
            let adds_audio = args.data.iter().any(|d| *d != Dataset::Meld);
            if !adds_audio || info.modalities.iter().any(|m| m == "audio") {
                bail!(
                    "--extend adds the audio of --data (ravdess, iemocap) to a checkpoint without it; {} uses {}",
                    dir.display(),
                    info.modalities.join(" + ")
                );
            }
            if info.config.classes != config.classes {
                bail!(
                    "--extend: the checkpoint predicts {} classes but --data is labelled with {}",
                    info.config.classes,
                    config.classes
                );
            }
            (info.config.clone(), text_adapter, Some((dir, vs, model, info)))
        }
        None => (
            config,
            args.text_adapter.as_deref().map(TextAdapter::load).transpose()?,
            None,
        ),
    };
    let enc = encoders(&store, config.audio_source, adapter.as_ref())?;
    let mut train_sets = Vec::new();
    let mut dev_sets = Vec::new();
    let mut pool = Vec::new();
    for &set in &args.data {
        let corpus = load_corpus(&store, &enc, set, "train", args.iemocap.as_deref())?;
        if args.fusion == Fusion::Eq6 {
            let (rest, held) = crate::train::af_learning::hold_out(corpus, args.af_pool, args.seed);
            train_sets.push(rest);
            pool.push(held);
        } else {
            train_sets.push(corpus);
        }
        dev_sets.push(load_corpus(&store, &enc, set, "dev", args.iemocap.as_deref())?);
    }
    if args.pairs && args.data.contains(&Dataset::Meld) && args.data.contains(&Dataset::Ravdess) {
        let meld = args.data.iter().position(|d| *d == Dataset::Meld).expect("checked");
        let rav = args.data.iter().position(|d| *d == Dataset::Ravdess).expect("checked");
        let pairs = data::label_pairs(&train_sets[rav], &train_sets[meld], args.seed);
        train_sets.push(pairs);
    }
    tch::manual_seed(args.seed as i64);
    let (mut vs, model, frozen, extended) = match base {
        None => {
            let vs = nn::VarStore::new(device);
            let model = Amuse::new(&vs.root(), config.clone());
            (vs, model, None, None)
        }
        Some((dir, mut vs, model, info)) => {
            vs.unfreeze(); // loaded for inference
            let sample: Vec<_> = train_sets.iter().flat_map(|c| c.only(&info.modalities)).collect();
            let frozen = extend::freeze_dependencies(&model, &vs, &sample);
            eprintln!(
                "extending {}: {} of {} weights frozen (what its {} predictions depend on)",
                dir.display(),
                frozen.frozen,
                frozen.total,
                info.modalities.join("+")
            );
            (vs, model, Some(std::rc::Rc::new(frozen)), Some(info))
        }
    };
    let opts = TrainOptions {
        epochs: args.epochs,
        batch: args.batch,
        lr: args.lr,
        seed: args.seed,
        dev_floor: args.dev_floor,
        frozen,
        ..Default::default()
    };
    let refs: Vec<&Corpus> = train_sets.iter().collect();
    eprintln!(
        "training on {} ({} utterances)",
        refs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(" + "),
        refs.iter().map(|c| c.utterances()).sum::<usize>()
    );
    let dev_refs: Vec<&Corpus> = dev_sets.iter().collect();
    let pool_refs: Vec<&Corpus> = pool.iter().collect();
    let history = train::fit(&model, &mut vs, &refs, &pool_refs, &dev_refs, &opts, &mut |log| {
        eprintln!(
            "epoch {:>3}  loss {:.4} (focal {:.4}, nce {:.4}, cls {:.4})  dev w-F1 {} ({})  {:.1}s",
            log.epoch,
            log.loss,
            log.focal,
            log.nce,
            log.classification,
            log.dev_weighted_f1.map_or("-".into(), |f| format!("{f:.4}")),
            log.dev_each
                .iter()
                .map(|f| format!("{f:.4}"))
                .collect::<Vec<_>>()
                .join(" / "),
            log.seconds
        );
        if let Some(af) = &log.af {
            eprintln!(
                "          Eq. 6: {} of {} pool utterances informative; α {:?}",
                af.informative, af.examined, af.alpha
            );
        }
    })?;
    let mut scores = serde_json::Map::new();
    for d in &dev_sets {
        let r = train::evaluate(&model, d, device);
        println!("{}:\n{}", d.name, r.table());
        scores.insert(d.name.clone(), serde_json::to_value(&r)?);
    }
    let dropout = config.dropout;
    let info = CheckpointInfo {
        config,
        trained_on: format!(
            "{}{}; {} epochs, batch {}, lr {}, dropout {}, seed {}; {}",
            extended.as_ref().map_or(String::new(), |b| format!(
                "{} — then extended (only weights its {} predictions do not depend on) on ",
                b.trained_on,
                b.modalities.join("+")
            )),
            refs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(" + "),
            args.epochs,
            args.batch,
            args.lr,
            dropout,
            args.seed,
            selection(&dev_sets, args.dev_floor)
        ),
        dev_scores: serde_json::Value::Object(scores),
        modalities: if args.data.contains(&Dataset::Ravdess) || iemocap {
            vec!["text".into(), "audio".into()]
        } else {
            extended
                .as_ref()
                .map_or_else(|| vec!["text".into()], |b| b.modalities.clone())
        },
        // Extending keeps the checkpoint's adapter, and what its folder says about it.
        text_adapter: extended.as_ref().and_then(|b| b.text_adapter.clone()).or_else(|| {
            adapter.as_ref().map(|a| AdapterRef {
                file: crate::features::adapter::FILE.into(),
                sha256: a.sha256.clone(),
                about: crate::train::text_adapter::about(&a.path),
            })
        }),
    };
    let out = args.out.clone().unwrap_or_else(checkpoint::default_dir);
    if let Some(a) = &adapter {
        let dest = out.join(crate::features::adapter::FILE);
        if a.path.canonicalize().ok() != dest.canonicalize().ok() {
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            crate::fsutil::write_atomic(&dest, &std::fs::read(&a.path)?)?;
        }
    }
    checkpoint::save(&out, &vs, &info)?;
    let secs: f64 = history.iter().map(|h| h.seconds).sum::<f64>() / history.len().max(1) as f64;
    println!("saved {} ({:.1} s per epoch)", out.display(), secs);
    Ok(())
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
