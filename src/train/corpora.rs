//! Which corpus is which: the datasets `amuse train`, `eval`, `ablate` and `bench train`
//! name, the encoders their features need, and how each split is loaded.
//!
//! Splits are by speaker (or dialogue), never by file: MELD train/dev as released, RAVDESS
//! actors 1–16 / 17–20, EmoDB all speakers but 03 and 16 / those two, FER+ Train / Valid,
//! IEMOCAP Sessions 1–4 (a tenth of their dialogues as dev) / Session 5. Test splits are held
//! out of this project.

use std::path::PathBuf;

use anyhow::{bail, Result};
use tch::Device;

use super::augment::Augment;
use super::data::{self, AudioEncoderRef, Corpus};
use crate::features::adapter::TextAdapter;
use crate::features::audio::{SoundEncoder, SpeechEncoder};
use crate::features::expression::{self, ExpressionEncoder};
use crate::features::text::TextEncoder;
use crate::manifest::ModelStore;
use crate::model::amuse::Modality;
use crate::model::config::AudioSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dataset {
    /// MELD transcripts (text, speakers, dialogue context).
    Meld,
    /// RAVDESS speech, actors 1–16 train / 17–20 dev.
    Ravdess,
    /// IEMOCAP_full_release (give --iemocap PATH): text + audio, and faces from the
    /// dialogue videos when the release has them; six classes; Sessions 1–4 train (a tenth
    /// of the dialogues as dev), Session 5 test.
    Iemocap,
    /// EmoDB acted German speech (`<data>/emodb16k`): audio only; speakers 03 and 16 dev.
    Emodb,
    /// FER+ faces (`<data>/ferplus/FER2013{Train,Valid}`, or --ferplus DIR): faces only, as
    /// one-keyframe visual utterances through the expression encoder.
    Ferplus,
    /// A MELD.Raw folder (give --meld-raw DIR): train/dev clips and CSVs, every modality
    /// through the viewer's pipeline (faces and back frames included).
    MeldRaw,
}

impl Dataset {
    pub fn name(self) -> &'static str {
        match self {
            Self::Meld => "meld",
            Self::Ravdess => "ravdess",
            Self::Iemocap => "iemocap",
            Self::Emodb => "emodb",
            Self::Ferplus => "ferplus",
            Self::MeldRaw => "meld-raw",
        }
    }

    /// The modalities its utterances carry.
    pub fn modalities(self) -> &'static [Modality] {
        use Modality::*;
        match self {
            Self::Meld => &[Text],
            Self::Ravdess => &[Text, Audio],
            Self::Iemocap => &[Text, Audio, Visual],
            Self::Emodb => &[Audio],
            Self::Ferplus => &[Visual],
            Self::MeldRaw => &[Text, Audio, Visual],
        }
    }
}

/// A split of a corpus (test splits are held out of this project).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    Train,
    /// MELD's, RAVDESS's and EmoDB's dev speakers, FER+ Valid.
    #[value(alias = "valid")]
    Dev,
    /// Held out of this project: refused, with a message saying so.
    Test,
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Dev => "dev",
            Split::Test => "test",
        }
    }
}

/// Augmented copies of the acted audio corpora's training clips (see [`super::augment`]).
#[derive(Debug, Clone, Default)]
pub struct AudioAugment {
    pub augment: Augment,
    /// Copies per clip (0: none).
    pub copies: usize,
    pub seed: u64,
}

/// Where the corpora that are not in `<data>` live, and what to add to them.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The IEMOCAP_full_release folder.
    pub iemocap: Option<PathBuf>,
    /// Whether (and how) IEMOCAP's videos give faces (`None`: text and audio only).
    pub iemocap_faces: Option<super::iemocap_video::Faces>,
    /// A FER+ folder (default `<data>/ferplus`).
    pub ferplus: Option<PathBuf>,
    /// A MELD.Raw folder (train/ and dev/ clips with their CSVs).
    pub meld_raw: Option<PathBuf>,
    /// Augmented copies of RAVDESS/EmoDB training clips.
    pub augment: AudioAugment,
}

/// The encoders the corpora's features come from (on the CPU: features are cached).
pub struct Encoders {
    pub text: TextEncoder,
    pub speech: Option<SpeechEncoder>,
    pub sound: Option<SoundEncoder>,
    /// Loaded on first use (only FER+ needs it).
    expression: std::cell::OnceCell<ExpressionEncoder>,
    /// The viewer's whole pipeline, loaded on first use (only MELD.Raw needs it), with the
    /// text adapter at this path merged.
    pipeline: std::cell::OnceCell<crate::features::extract::Encoders>,
    adapter: Option<PathBuf>,
}

impl Encoders {
    pub fn load(store: &ModelStore, audio: AudioSource, text_adapter: Option<&TextAdapter>) -> Result<Self> {
        Ok(Self {
            text: TextEncoder::load_adapted(store, Device::Cpu, text_adapter)?,
            speech: (audio == AudioSource::Whisper)
                .then(|| SpeechEncoder::load(store, Device::Cpu))
                .transpose()?,
            sound: (audio == AudioSource::Aisfx)
                .then(|| SoundEncoder::load(store, Device::Cpu))
                .transpose()?,
            expression: std::cell::OnceCell::new(),
            pipeline: std::cell::OnceCell::new(),
            adapter: text_adapter.map(|a| a.path.clone()),
        })
    }

    pub fn pipeline(&self, store: &ModelStore) -> Result<&crate::features::extract::Encoders> {
        if let Some(e) = self.pipeline.get() {
            return Ok(e);
        }
        let adapter = self.adapter.as_deref().map(TextAdapter::load).transpose()?;
        let e = crate::features::extract::Encoders::load(store, Device::Cpu, adapter.as_ref())?;
        Ok(self.pipeline.get_or_init(|| e))
    }

    pub fn audio(&self) -> Result<AudioEncoderRef<'_>> {
        Ok(match (&self.speech, &self.sound) {
            (Some(s), _) => AudioEncoderRef::Whisper(s),
            (None, Some(s)) => AudioEncoderRef::Aisfx(s),
            _ => bail!("no audio encoder loaded"),
        })
    }

    pub fn expression(&self, store: &ModelStore) -> Result<&ExpressionEncoder> {
        if let Some(e) = self.expression.get() {
            return Ok(e);
        }
        let e = ExpressionEncoder::load(store, expression::SHIPPED, Device::Cpu)?;
        Ok(self.expression.get_or_init(|| e))
    }
}

/// One split of one corpus as model inputs (features cached on disk).
pub fn load(store: &ModelStore, enc: &Encoders, set: Dataset, split: Split, sources: &Sources) -> Result<Corpus> {
    let split = split.name();
    let a = &sources.augment;
    let augment = (split == "train" && a.copies > 0 && !a.augment.is_empty()).then_some(a);
    match set {
        Dataset::Meld => data::meld(store, &enc.text, split),
        Dataset::Iemocap => {
            let Some(root) = sources.iemocap.as_deref() else {
                bail!("--data iemocap needs --iemocap PATH (the IEMOCAP_full_release folder)")
            };
            let dialogues = super::iemocap::split(root, split)?;
            let mut corpus = super::iemocap::corpus(store, &enc.text, &enc.audio()?, &dialogues, split)?;
            if let Some(lead) = sources.iemocap_faces.and_then(|f| f.lead()) {
                if super::iemocap_video::any_video(root, &dialogues) {
                    let pipeline = enc.pipeline(store)?;
                    super::iemocap_video::attach(store, pipeline, root, &dialogues, &mut corpus.dialogues, lead);
                }
            }
            Ok(corpus)
        }
        Dataset::Ravdess => {
            let actors = match split {
                "train" => 1..=16,
                "dev" => 17..=20,
                other => bail!("RAVDESS splits here are train (actors 1–16) and dev (17–20), not {other}"),
            };
            data::ravdess(store, &enc.text, &enc.audio()?, actors, augment)
        }
        Dataset::Emodb => super::emodb::corpus(store, &enc.audio()?, split, augment),
        Dataset::MeldRaw => {
            let Some(root) = sources.meld_raw.as_deref() else {
                bail!("--data meld-raw needs --meld-raw DIR (a MELD.Raw folder with train/ and dev/ clips and CSVs)")
            };
            super::meld_raw::corpus(store, enc.pipeline(store)?, root, split)
        }
        Dataset::Ferplus => {
            let root = sources.ferplus.clone().unwrap_or_else(data::data_dir);
            let dir = super::ferplus::split_dir(&root, split)?;
            super::ferplus::corpus(store, enc.expression(store)?, &super::ferplus::read(&dir)?, split)
        }
    }
}
