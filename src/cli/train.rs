//! `amuse train`: flags into a [`Plan`]; the run itself is `train::plan::run`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use tch::Device;

use crate::model::checkpoint;
use crate::model::config::{AudioSource, Config, FusionMode, TrainingConfig};
use crate::train::augment::{Augment, Transform};
pub use crate::train::corpora::Dataset;
use crate::train::corpora::{AudioAugment, Sources};
use crate::train::iemocap_video::Faces;
use crate::train::plan::Plan;
use crate::train::TrainOptions;

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
    #[arg(long, default_value_t = TrainOptions::default().epochs)]
    pub epochs: usize,
    /// Dialogues per batch.
    #[arg(long, default_value_t = TrainOptions::default().batch)]
    pub batch: usize,
    #[arg(long, default_value_t = TrainOptions::default().lr)]
    pub lr: f64,
    #[arg(long, default_value_t = Config::default().hidden)]
    pub hidden: i64,
    #[arg(long, default_value_t = Config::default().man_layers)]
    pub man_layers: usize,
    #[arg(long, default_value_t = TrainingConfig::default().gamma)]
    pub gamma: f64,
    #[arg(long, default_value_t = Config::default().dropout)]
    pub dropout: f64,
    /// Keep the epoch with the best weighted F1 on the first dev set (MELD) among those
    /// where every other dev set (RAVDESS) reaches this weighted F1; default: the best mean.
    #[arg(long)]
    pub dev_floor: Option<f64>,
    /// Also train on label-matched samples joining the corpora (audio clips with MELD's
    /// words; faces with MELD's words, RAVDESS's and EmoDB's voices; see `train::pairs`).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub pairs: bool,
    /// In the samples joining MELD's words with a voice or a face, how often the voice or
    /// face agrees with the words' label, which is the target (1: label-matched pairs;
    /// see `train::pairs::with_words`).
    #[arg(long, default_value_t = 1.0)]
    pub pair_agreement: f64,
    /// Augmented copies of the RAVDESS/EmoDB training clips, with these transforms
    /// (comma-separated: crop, gain, noise, reverb, band; see `train::augment`).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub augment: Vec<Transform>,
    /// How many augmented copies of each clip (with --augment).
    #[arg(long, default_value_t = 1)]
    pub augment_copies: usize,
    /// The fraction of each training corpus held aside to fit the output temperatures
    /// (calibration; 0: none). The same utterances are held aside at every stage.
    #[arg(long, default_value_t = 0.1)]
    pub calibration_pool: f64,
    /// A FER+ folder (with --data ferplus) (default: `<data>/ferplus`).
    #[arg(long)]
    pub ferplus: Option<PathBuf>,
    /// A MELD.Raw folder (with --data meld-raw): train/ and dev/ with the clips
    /// `dia{D}_utt{U}.mp4` and their CSVs (or the release's train_splits/ + train_sent_emo.csv).
    #[arg(long)]
    pub meld_raw: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Fusion::Learned)]
    pub fusion: Fusion,
    /// ε of Eq. 6 (with --fusion eq6).
    #[arg(long, default_value_t = TrainingConfig::default().af_epsilon)]
    pub af_epsilon: f64,
    /// With --fusion eq6: the fraction of each training corpus held aside as Eq. 6's
    /// validation pool (not trained on; dev and test are never used for it).
    #[arg(long, default_value_t = 0.1)]
    pub af_pool: f64,
    /// Audio features: Whisper encoder frames or aisfx sound blocks.
    #[arg(long, value_enum, default_value_t = Audio::Whisper)]
    pub audio: Audio,
    #[arg(long, default_value_t = TrainingConfig::default().seed)]
    pub seed: u64,
    /// Where to write the checkpoint (default: models/amuse).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The IEMOCAP_full_release folder (with --data iemocap).
    #[arg(long)]
    pub iemocap: Option<PathBuf>,
    /// Faces from IEMOCAP's dialogue videos (`Session<N>/dialog/avi/DivX/<dialog>.avi`, when
    /// the release has them): which side of the frame the actor who wore the markers sits
    /// on, or off for text and audio only (see `train::iemocap_video`).
    #[arg(long, value_enum, default_value_t = Faces::default())]
    pub iemocap_faces: Faces,
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

impl TrainArgs {
    /// The training run these flags ask for.
    pub fn plan(&self) -> Plan {
        let audio = match self.audio {
            Audio::Aisfx => AudioSource::Aisfx,
            Audio::Whisper => AudioSource::Whisper,
        };
        let six = self.data.contains(&Dataset::Iemocap);
        Plan {
            data: self.data.clone(),
            sources: Sources {
                iemocap: self.iemocap.clone(),
                iemocap_faces: Some(self.iemocap_faces),
                ferplus: self.ferplus.clone(),
                meld_raw: self.meld_raw.clone(),
                augment: AudioAugment {
                    augment: Augment::new(self.augment.clone()),
                    copies: if self.augment.is_empty() {
                        0
                    } else {
                        self.augment_copies
                    },
                    seed: self.seed,
                },
            },
            config: Config {
                classes: if six {
                    crate::train::iemocap::CLASSES.len() as i64
                } else {
                    7
                },
                hidden: self.hidden,
                man_layers: self.man_layers,
                dropout: self.dropout,
                fusion: self.fusion.mode(),
                audio_source: audio,
                audio_dim: if audio == AudioSource::Aisfx { 512 } else { 384 },
                training: TrainingConfig {
                    gamma: self.gamma,
                    af_epsilon: self.af_epsilon,
                    seed: self.seed,
                    ..TrainingConfig::default()
                },
                ..Config::default()
            },
            options: TrainOptions {
                epochs: self.epochs,
                batch: self.batch,
                lr: self.lr,
                seed: self.seed,
                dev_floor: self.dev_floor,
                ..Default::default()
            },
            pairs: self.pairs,
            pair_agreement: self.pair_agreement,
            af_pool: self.af_pool,
            calibration_pool: self.calibration_pool,
            text_adapter: self.text_adapter.clone(),
            extend: self.extend.clone(),
            out: self.out.clone().unwrap_or_else(checkpoint::default_dir),
        }
    }
}

pub fn train(args: &TrainArgs, device: Device) -> Result<()> {
    let trained = crate::train::plan::run(&args.plan(), device)?;
    for (name, table) in &trained.tables {
        println!("{name}:\n{table}");
    }
    println!(
        "saved {} ({:.1} s per epoch)",
        args.out.clone().unwrap_or_else(checkpoint::default_dir).display(),
        trained.seconds_per_epoch
    );
    Ok(())
}
