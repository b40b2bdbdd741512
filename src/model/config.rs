//! Hyper-parameters of the AMuSE model, with the paper's / authors' defaults.

use serde::{Deserialize, Serialize};

/// How the Adaptive Fusion coefficients α are obtained (Table III's tests).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum FusionMode {
    /// Test-1: α drawn uniformly once (seeded) and kept fixed.
    RandomFixed,
    /// Test-2: every α = 0.5.
    Equal,
    /// Test-3: α learned by back-propagation with the rest of the model, kept in [0, 1]
    /// (projected gradient).
    Learned,
    /// Test-3 as the paper's AF learning (III-E2, Eq. 6): α is frozen for the optimiser and
    /// set between epochs from the Central heads' loss gradients on informative samples of
    /// a validation pool held aside from the training split (`train::af_learning`).
    Guided,
}

/// Which audio encoder feeds the audio modality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AudioSource {
    /// Whisper-tiny encoder frames `[e, 384]`.
    Whisper,
    /// aisfx sound-CNN blocks `[b, 512]`.
    Aisfx,
}

/// The model's architecture (what [`crate::model::amuse::Amuse::new`] builds and a
/// checkpoint's weights must match), with the training and loss settings it was trained
/// with beside it ([`TrainingConfig`]; flattened into `config.json`). The defaults are the
/// shipped checkpoints' (`amuse train`'s flags default to them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub classes: i64,
    /// Input sizes: text token states, audio frames, face features, back-frame features.
    pub text_dim: i64,
    pub audio_dim: i64,
    pub face_dim: i64,
    pub back_dim: i64,
    pub audio_source: AudioSource,
    /// Prepend the mean token state to the text sequence (the sentence vector).
    #[serde(default)]
    pub text_mean_first: bool,
    /// Width of unimodal descriptors and of the MAN (authors: 256 output; shipped: 128).
    pub hidden: i64,
    /// Self-attention layers M of each unimodal encoder.
    pub sa_layers: usize,
    /// MAN layers (h dense layers of each Central network; Table V; shipped: 2).
    pub man_layers: usize,
    pub heads: i64,
    pub dropout: f64,
    /// Hidden size of each direction of the context Bi-LSTMs.
    pub context_hidden: i64,
    pub fusion: FusionMode,
    #[serde(flatten)]
    pub training: TrainingConfig,
}

/// How the model is trained: the losses (Eq. 3–5) and their weights, modality dropout, Eq. 6's
/// ε and the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingConfig {
    /// ε of Eq. 6 (used with `FusionMode::Guided`).
    pub af_epsilon: f64,
    /// Focal loss γ (Table IV; authors: 1).
    pub gamma: f64,
    pub focal_weight: f64,
    pub nce_weight: f64,
    pub nce_temperature: f64,
    /// Negatives per positive in the NCE (uniformly sampled from the batch).
    pub nce_negatives: i64,
    /// Weight of the utterance-level classification loss (context classifier).
    pub cls_weight: f64,
    /// Probability of dropping each available modality of an utterance in training.
    pub modality_dropout: f64,
    pub seed: u64,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            af_epsilon: 1.0,
            gamma: 1.0,
            focal_weight: 1.0,
            nce_weight: 0.5,
            nce_temperature: 0.07,
            nce_negatives: 16,
            cls_weight: 1.0,
            modality_dropout: 0.2,
            seed: 7,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            classes: 7,
            text_dim: 768,
            audio_dim: 384,
            face_dim: 263,
            back_dim: 1280,
            audio_source: AudioSource::Whisper,
            text_mean_first: true,
            hidden: 128,
            sa_layers: 1,
            man_layers: 2,
            heads: 8,
            dropout: 0.4,
            context_hidden: 128,
            fusion: FusionMode::Learned,
            training: TrainingConfig::default(),
        }
    }
}
