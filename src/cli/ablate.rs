//! `amuse ablate`: the *shape* of the paper's ablations (Tables III–V) on the data we have —
//! dev weighted F1 per setting of the fusion coefficients (Test-1 random fixed α, Test-2
//! equal α, Test-3 learned α by back-propagation and by Eq. 6), of the focal loss γ (Eq. 3)
//! and of the number of MAN layers (Eq. 1).
//!
//! Every setting is trained from the same seeds on the same data with the same schedule,
//! so the rows differ only in the studied setting. Short schedules keep this bounded on a
//! CPU; the figures are for comparing rows, not for comparing with the paper's.

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tch::{nn, Device};

use super::train::Fusion;
use crate::manifest::ModelStore;
use crate::model::amuse::Amuse;
use crate::model::config::{AudioSource, Config};
use crate::train::af_learning::hold_out;
use crate::train::corpora::{self, Dataset, Encoders, Sources, Split};
use crate::train::data::Corpus;
use crate::train::pairs::label_pairs;
use crate::train::{self, TrainOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Study {
    /// Table III: how the Adaptive Fusion α are obtained.
    Fusion,
    /// Table IV: the focal loss γ ∈ {0, 0.5, 1, 2, 5}.
    Gamma,
    /// Table V: MAN layers 1–5.
    ManLayers,
}

#[derive(Debug, Args)]
pub struct AblateArgs {
    #[arg(long, value_enum)]
    pub study: Study,
    /// RAVDESS (text + audio; actors 1–16 train, 17–20 dev) or MELD (text + context).
    #[arg(long, value_enum, default_value_t = Dataset::Ravdess)]
    pub data: Dataset,
    #[arg(long, default_value_t = 4)]
    pub epochs: usize,
    /// Seeds (comma-separated); each setting is trained once per seed.
    #[arg(long, value_delimiter = ',', default_value = "7")]
    pub seeds: Vec<u64>,
    #[arg(long, default_value_t = 64)]
    pub hidden: i64,
    /// MAN layers of the settings that do not vary them.
    #[arg(long, default_value_t = 2)]
    pub man_layers: usize,
    #[arg(long, default_value_t = 5e-4)]
    pub lr: f64,
    /// With RAVDESS: also train on label-matched MELD-text × RAVDESS-audio pairs (as the
    /// shipped checkpoint did), so that both modalities can carry the label.
    #[arg(long)]
    pub pairs: bool,
    /// Use only this many training and dev dialogues (seeded choice; for quick checks).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print the table as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One row of the table: a setting and its dev weighted F1 over the seeds.
#[derive(Debug, serde::Serialize)]
pub struct Row {
    pub setting: String,
    /// Dev weighted F1 of the best epoch, per seed.
    pub best: Vec<f64>,
    /// Dev weighted F1 after the last epoch, per seed.
    pub last: Vec<f64>,
    pub seconds: f64,
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len().max(1) as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
    (m, v.sqrt())
}

/// The settings of a study as (label, config change).
type Setting = (String, Box<dyn Fn(&mut Config)>);

fn settings(study: Study) -> Vec<Setting> {
    match study {
        Study::Fusion => [
            ("Test-1 random fixed α", Fusion::Random),
            ("Test-2 equal α", Fusion::Equal),
            ("Test-3 learned α (backprop)", Fusion::Learned),
            ("Test-3 learned α (Eq. 6)", Fusion::Eq6),
        ]
        .into_iter()
        .map(|(name, f)| {
            (
                name.to_owned(),
                Box::new(move |c: &mut Config| c.fusion = f.mode()) as _,
            )
        })
        .collect(),
        Study::Gamma => [0.0, 0.5, 1.0, 2.0, 5.0]
            .into_iter()
            .map(|g| {
                (
                    format!("γ = {g}"),
                    Box::new(move |c: &mut Config| c.training.gamma = g) as _,
                )
            })
            .collect(),
        Study::ManLayers => (1..=5)
            .map(|l| {
                (
                    format!("{l} MAN layers"),
                    Box::new(move |c: &mut Config| c.man_layers = l) as _,
                )
            })
            .collect(),
    }
}

fn limited(mut c: Corpus, limit: Option<usize>) -> Corpus {
    if let Some(n) = limit {
        c.dialogues.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
        c.dialogues.truncate(n);
    }
    c
}

pub fn run(args: &AblateArgs, device: Device) -> Result<()> {
    if args.seeds.is_empty() || args.epochs == 0 {
        bail!("--epochs and --seeds must not be empty");
    }
    if args.study == Study::Fusion && args.data == Dataset::Meld {
        bail!("the fusion study needs two modalities: MELD here is text only; use --data ravdess");
    }
    let store = ModelStore::open_default()?;
    let enc = Encoders::load(&store, AudioSource::Whisper, None)?;
    let none = Sources::default();
    let train_set = limited(corpora::load(&store, &enc, args.data, Split::Train, &none)?, args.limit);
    let dev = limited(corpora::load(&store, &enc, args.data, Split::Dev, &none)?, args.limit);
    // Eq. 6 needs a validation pool held aside from train; every setting trains without it
    // so the rows see the same training data.
    let (train_set, pool) = hold_out(train_set, 0.1, 0);
    let mut train_sets = vec![train_set];
    if args.pairs && args.data == Dataset::Ravdess {
        let meld = corpora::load(&store, &enc, Dataset::Meld, Split::Train, &none)?;
        train_sets.push(label_pairs(&train_sets[0], &meld, 0));
    }
    let refs: Vec<&Corpus> = train_sets.iter().collect();
    let mut rows = Vec::new();
    for (name, apply) in settings(args.study) {
        let started = std::time::Instant::now();
        let (mut best, mut last) = (Vec::new(), Vec::new());
        for &seed in &args.seeds {
            let mut config = Config {
                hidden: args.hidden,
                man_layers: args.man_layers,
                training: crate::model::config::TrainingConfig {
                    seed,
                    ..Default::default()
                },
                ..Config::default()
            };
            apply(&mut config);
            tch::manual_seed(seed as i64);
            let mut vs = nn::VarStore::new(device);
            let model = Amuse::new(&vs.root(), config);
            let opts = TrainOptions {
                epochs: args.epochs,
                lr: args.lr,
                seed,
                ..Default::default()
            };
            let history = train::fit(&model, &mut vs, &refs, &[&pool], &[&dev], &opts, &mut |log| {
                eprintln!(
                    "{name} seed {seed} epoch {}: dev w-F1 {:.4} ({:.1}s)",
                    log.epoch,
                    log.dev_weighted_f1.unwrap_or(f64::NAN),
                    log.seconds
                );
                if let Some(af) = &log.af {
                    eprintln!(
                        "  Eq. 6: {} of {} pool utterances informative; α {:.3?}",
                        af.informative, af.examined, af.alpha
                    );
                }
            })?;
            let f1: Vec<f64> = history.iter().filter_map(|h| h.dev_weighted_f1).collect();
            best.push(f1.iter().copied().fold(f64::NAN, f64::max));
            last.push(f1.last().copied().unwrap_or(f64::NAN));
        }
        rows.push(Row {
            setting: name,
            best,
            last,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    let what = format!(
        "{:?} study on {} → {} ({} train utterances{}), {} epochs, seeds {:?}, width {}",
        args.study,
        refs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(" + "),
        dev.name,
        refs.iter().map(|c| c.utterances()).sum::<usize>(),
        if args.limit.is_some() { ", limited" } else { "" },
        args.epochs,
        args.seeds,
        args.hidden
    );
    if args.json {
        let v = serde_json::json!({ "study": what, "rows": rows });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("{what}");
    println!(
        "{:<30} {:>22} {:>22} {:>9}",
        "setting", "dev w-F1 best epoch", "dev w-F1 last epoch", "seconds"
    );
    for r in &rows {
        let (bm, bs) = mean_sd(&r.best);
        let (lm, ls) = mean_sd(&r.last);
        println!(
            "{:<30} {:>13.4} ± {:.4} {:>13.4} ± {:.4} {:>9.0}",
            r.setting, bm, bs, lm, ls, r.seconds
        );
    }
    Ok(())
}
