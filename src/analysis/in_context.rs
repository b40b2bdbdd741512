//! One utterance's perturbed inputs pushed through the full model with the rest of the
//! dialogue unchanged — the classifier every model-level LIME explanation (words, audio
//! segments) runs, whatever modality it perturbs.
//!
//! Why a shared piece: the expensive, modality-specific part of a perturbation is its
//! encoder (MPNet for words, Whisper for audio); what follows is the same for all of them.
//! The other utterances' fused descriptors (Eq. 4's per-utterance output, before the dialogue
//! and speaker context of Eq. 5) are computed once; each perturbed variant re-runs only
//! utterance `i`'s unimodal encoders and fusion, then the context classifier over its copy
//! of the dialogue. Time spent in the model is accumulated so benchmarks can split it from
//! encoding and engine overhead.

use std::cell::Cell;
use std::time::Instant;

use anyhow::{anyhow, Result};
use tch::{Kind, Tensor};

use super::Analyzer;
use crate::emotion::Emotion;
use crate::model::batch::{Batch, UtteranceInput};
use crate::model::context::{speaker_sequences, Sequences};

/// Utterance `i` of a dialogue, ready to classify perturbed versions of itself in context.
pub(crate) struct InContext<'a> {
    analyzer: &'a Analyzer,
    inputs: &'a [UtteranceInput],
    i: usize,
    /// `[n, d]` fused descriptors of every utterance, unperturbed.
    base: Tensor,
    names: Vec<Option<String>>,
    /// Seconds spent in the AMuSE model by [`Self::classify`].
    pub model_seconds: Cell<f64>,
}

impl<'a> InContext<'a> {
    pub fn new(analyzer: &'a Analyzer, inputs: &'a [UtteranceInput], i: usize) -> Result<Self> {
        if i >= inputs.len() {
            return Err(anyhow!("no utterance {} (the dialogue has {})", i + 1, inputs.len()));
        }
        let base = tch::no_grad(|| {
            analyzer
                .model
                .model
                .encode(&Batch::new(&[inputs], dims(analyzer), analyzer.device), false)
                .fused
        });
        Ok(Self {
            analyzer,
            inputs,
            i,
            base,
            names: inputs.iter().map(|u| u.speaker.clone()).collect(),
            model_seconds: Cell::new(0.0),
        })
    }

    /// The explained label: `label`, else the model's prediction for the utterance.
    pub fn label(&self, label: Option<Emotion>) -> Emotion {
        label.unwrap_or_else(|| {
            let (probs, _) = self.analyzer.predict_inputs(self.inputs);
            Emotion::from_index(crate::metrics::argmax(&probs[self.i].map(f64::from))).unwrap_or(Emotion::Neutral)
        })
    }

    /// The unperturbed utterance `i` (to replace one modality of in a variant).
    pub fn original(&self) -> UtteranceInput {
        let u = &self.inputs[self.i];
        UtteranceInput {
            text: u.text.as_ref().map(Tensor::shallow_clone),
            audio: u.audio.as_ref().map(Tensor::shallow_clone),
            face: u.face.as_ref().map(Tensor::shallow_clone),
            back: u.back.as_ref().map(Tensor::shallow_clone),
            speaker: u.speaker.clone(),
            label: None,
        }
    }

    /// Calibrated probabilities (rows × 7) of modality `m`'s Central head for each variant of
    /// utterance `i` (a head reads its own utterance only: no context to rebuild).
    pub fn classify_head(&self, variants: Vec<UtteranceInput>, m: usize) -> Result<Vec<Vec<f64>>> {
        let started = Instant::now();
        let wrapped: Vec<[UtteranceInput; 1]> = variants.into_iter().map(|v| [v]).collect();
        let refs: Vec<&[UtteranceInput]> = wrapped.iter().map(|v| v.as_slice()).collect();
        let probs = tch::no_grad(|| {
            let encoded = self
                .analyzer
                .model
                .model
                .encode(&Batch::new(&refs, dims(self.analyzer), self.analyzer.device), false);
            let cal = &self.analyzer.model.info.calibration;
            cal.scale_head(m, &encoded.modality_logits.get(m as i64))
                .softmax(-1, Kind::Float)
        });
        let rows: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(probs.to_device(tch::Device::Cpu))
            .map_err(|e| anyhow!("reading the model's probabilities: {e}"))?;
        self.model_seconds
            .set(self.model_seconds.get() + started.elapsed().as_secs_f64());
        Ok(rows
            .into_iter()
            .map(|r| r.into_iter().map(f64::from).collect())
            .collect())
    }

    /// Fused probabilities (rows × 7) of utterance `i` when it is replaced by each variant in
    /// turn, the other utterances as they are.
    pub fn classify(&self, variants: Vec<UtteranceInput>) -> Result<Vec<Vec<f64>>> {
        let started = Instant::now();
        let n = self.inputs.len() as i64;
        let b = variants.len() as i64;
        let device = self.analyzer.device;
        let wrapped: Vec<[UtteranceInput; 1]> = variants.into_iter().map(|v| [v]).collect();
        let refs: Vec<&[UtteranceInput]> = wrapped.iter().map(|v| v.as_slice()).collect();
        let probs = tch::no_grad(|| {
            let model = &self.analyzer.model.model;
            let encoded = model.encode(&Batch::new(&refs, dims(self.analyzer), device), false);
            let own = encoded.fused;
            let rows = Tensor::arange(b, (Kind::Int64, device)) * n + self.i as i64;
            let all = self.base.repeat([b, 1]).index_copy(0, &rows, &own);
            let dialogues = Sequences((0..b).map(|k| (k * n..(k + 1) * n).collect()).collect());
            let speakers = Sequences((0..b).flat_map(|k| speaker_sequences(&self.names, k * n)).collect());
            let logits = model.classify(&all, &dialogues, &speakers).index_select(0, &rows);
            // The probability the viewer shows: calibrated like the prediction explained.
            self.analyzer
                .model
                .info
                .calibration
                .scale_fused(&logits, &encoded.present)
                .softmax(-1, Kind::Float)
        });
        let rows: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(probs.to_device(tch::Device::Cpu))
            .map_err(|e| anyhow!("reading the model's probabilities: {e}"))?;
        self.model_seconds
            .set(self.model_seconds.get() + started.elapsed().as_secs_f64());
        Ok(rows
            .into_iter()
            .map(|r| r.into_iter().map(f64::from).collect())
            .collect())
    }
}

/// Feature sizes of the checkpoint's four modalities, as [`Batch::new`] wants them.
fn dims(a: &Analyzer) -> [i64; 4] {
    let c = &a.model.info.config;
    [c.text_dim, c.audio_dim, c.face_dim, c.back_dim]
}

/// Where the time of one explanation went (seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    /// Re-encoding perturbed inputs (MPNet for words, Whisper for audio).
    pub encode: f64,
    /// The AMuSE model on the perturbed variants (in context).
    pub model: f64,
    /// Everything: sampling, distances, ridge fits and the two above.
    pub total: f64,
}

impl Timing {
    /// Engine overhead: sampling, building perturbations, distances, ridge, selection.
    pub fn engine(&self) -> f64 {
        (self.total - self.encode - self.model).max(0.0)
    }
}
