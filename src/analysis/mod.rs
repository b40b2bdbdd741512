//! One dialogue, end to end: transcript + video → features (cached) → AMuSE → plain
//! results. The viewer's worker thread and `amuse analyze` both call this.

pub mod explain_audio;
pub mod explain_cache;
pub mod explain_face;
pub mod explain_visual;
pub mod explain_words;
pub mod fit;
mod in_context;
pub mod result;
pub mod voices;

use std::path::Path;

use anyhow::Result;
use tch::{Device, Kind, Tensor};

use crate::features::cache;
use crate::features::extract::{Encoders, ExtractOptions, UtteranceFeatures};
use crate::manifest::ModelStore;
use crate::media::transcript::Dialogue;
use crate::model::amuse::Modality;
use crate::model::batch::{Batch, UtteranceInput};
use crate::model::checkpoint::{self, Loaded};
use crate::model::config::AudioSource;
use crate::progress::{CancelToken, Progress, Stage};
use result::{DialogueResult, Probs, UtteranceResult};

pub(crate) use crate::features::expression::FER_TO_MELD;

/// The dialogue of a video: its transcript (given, or found beside it), repaired and
/// clipped to the video's length. Shared by the viewer's worker and the CLI.
pub fn load_dialogue(video: &Path, transcript_path: Option<&Path>) -> Result<Dialogue> {
    let info = crate::media::decode::probe(video)?;
    let tpath = match transcript_path.map(Path::to_path_buf).or_else(|| crate::media::transcript::find_beside(video)) {
        Some(p) => p,
        None => anyhow::bail!(
            "no transcript beside {} (looked for .csv, .srt, .vtt of the same name): add one next to the video, pass --transcript, or make one with `amuse transcribe <video> --srt`",
            video.display()
        ),
    };
    let mut dialogue = crate::media::transcript::load(&tpath)?.normalise(Some(info.duration));
    if let Some(note) = crate::media::decode::audio_track::choose(video)?.and_then(|c| c.note) {
        dialogue.warnings.push(note);
    }
    if dialogue.utterances.is_empty() {
        anyhow::bail!("{}: no usable utterance in the transcript", tpath.display());
    }
    Ok(dialogue)
}

/// One dialogue analysed: what the viewer shows (`result`) and what explanations need.
pub struct Analysis {
    pub dialogue: Dialogue,
    pub features: Vec<UtteranceFeatures>,
    pub result: DialogueResult,
}

/// Encoders and the trained model, loaded once.
pub struct Analyzer {
    pub store: ModelStore,
    pub encoders: Encoders,
    pub model: Loaded,
    pub device: Device,
    pub options: ExtractOptions,
    pub checkpoint_name: String,
    /// The checkpoint's files' sha256 (keys cached explanations).
    pub checkpoint_sha: String,
    /// Whisper's decoder (with its own encoder and voice encoder), loaded on the first
    /// video without a transcript and kept: loading it took 1–2 s per video.
    transcriber: std::sync::OnceLock<crate::transcribe::Transcriber>,
}

impl Analyzer {
    /// Load everything from `models/` (clear errors when something is missing).
    pub fn load(device: Device) -> Result<Self> {
        let store = ModelStore::open_default()?;
        let dir = checkpoint::default_dir();
        let model = checkpoint::load(&dir, device)?;
        let mut encoders = Encoders::load(&store, device, model.text_adapter.as_ref())?;
        // LIME hands MPNet hundreds of perturbed transcripts sorted by token count: batches
        // of 64 were the fastest of 8/16/32/64 per transcript (`amuse bench lime
        // --batch-sizes`); a dialogue's own utterances are too few for it to matter.
        encoders.text.batch_size = explain_words::MPNET_BATCH;
        let options = ExtractOptions::for_audio(model.info.config.audio_source);
        Ok(Self {
            store,
            encoders,
            model,
            device,
            options,
            checkpoint_name: dir.display().to_string(),
            checkpoint_sha: explain_cache::checkpoint_sha(&dir),
            transcriber: std::sync::OnceLock::new(),
        })
    }

    /// The dialogue of a video: its transcript when there is one (as [`load_dialogue`]),
    /// else transcribed by Whisper (progress in [`Stage::Transcribe`]; marked `transcribed`).
    pub fn dialogue(
        &self,
        video: &Path,
        transcript_path: Option<&Path>,
        progress: &mut dyn FnMut(Progress),
        cancel: &CancelToken,
    ) -> Result<Dialogue> {
        if transcript_path.is_some() || crate::media::transcript::find_beside(video).is_some() {
            return load_dialogue(video, transcript_path);
        }
        let info = crate::media::decode::probe(video)?;
        let transcriber = match self.transcriber.get() {
            Some(t) => t,
            None => {
                let t = crate::transcribe::Transcriber::load(&self.store, self.device)?;
                self.transcriber.get_or_init(|| t)
            }
        };
        let mut dialogue = transcriber
            .transcribe_file(video, progress, cancel)?
            .normalise(Some(info.duration));
        if let Some(note) = crate::media::decode::audio_track::choose(video)?.and_then(|c| c.note) {
            dialogue.warnings.push(note);
        }
        Ok(dialogue)
    }

    /// The whole pipeline on a video, the one entry point of the viewer's worker and of
    /// `amuse analyze`: its dialogue (the transcript given or found beside it, else
    /// transcribed — unless `transcribe` is false, then it is an error), its features (from
    /// the cache when possible) and the model's predictions.
    pub fn run(
        &self,
        video: &Path,
        transcript: Option<&Path>,
        transcribe: bool,
        progress: &mut dyn FnMut(Progress),
        cancel: &CancelToken,
    ) -> Result<Analysis> {
        let dialogue = match transcribe {
            true => self.dialogue(video, transcript, progress, cancel)?,
            false => load_dialogue(video, transcript)?,
        };
        self.run_dialogue(Some(video), dialogue, progress, cancel)
    }

    /// [`Self::run`] on a dialogue already read (a MELD.Raw dialogue, whose utterances have
    /// clips of their own; `video` is `None` then).
    pub fn run_dialogue(
        &self,
        video: Option<&Path>,
        dialogue: Dialogue,
        progress: &mut dyn FnMut(Progress),
        cancel: &CancelToken,
    ) -> Result<Analysis> {
        let (features, notes) = self.features(video, &dialogue, progress, cancel)?;
        cancel.check()?;
        let result = self.results(&dialogue, &features, notes, progress);
        Ok(Analysis {
            dialogue,
            features,
            result,
        })
    }

    /// The dialogue's features: from the cache when possible, else extracted and cached.
    pub fn features(
        &self,
        video: Option<&Path>,
        dialogue: &Dialogue,
        progress: &mut dyn FnMut(Progress),
        cancel: &CancelToken,
    ) -> Result<(Vec<UtteranceFeatures>, Vec<String>)> {
        let (features, notes, outcome) = cache::load_or_extract(
            &self.store,
            &self.encoders,
            video,
            dialogue,
            &self.options,
            &cache::default_dir(),
            progress,
            cancel,
        )?;
        if let cache::Outcome::NotWritten(e) = outcome {
            tracing::warn!("feature cache not written: {e:#}");
        }
        Ok((features, notes))
    }

    /// Run the model on extracted features and package plain results.
    pub fn results(
        &self,
        dialogue: &Dialogue,
        features: &[UtteranceFeatures],
        notes: Vec<String>,
        progress: &mut dyn FnMut(Progress),
    ) -> DialogueResult {
        progress(Progress {
            stage: Stage::Model,
            done: 0,
            total: 1,
        });
        // The inputs carry each utterance's speaker (the transcript's, or found by voice):
        // the same names go to the model's speaker context and to the results.
        let inputs = self.inputs(dialogue, features);
        let (probs, heads) = self.predict_inputs(&inputs);
        progress(Progress {
            stage: Stage::Model,
            done: 1,
            total: 1,
        });
        let mut all_notes = dialogue.warnings.clone();
        all_notes.extend(notes);
        let speakers: Vec<Option<String>> = inputs.iter().map(|u| u.speaker.clone()).collect();
        all_notes.extend(voices::note(dialogue, &speakers));
        let vectors = voices::vectors(features);
        let utterances = dialogue
            .utterances
            .iter()
            .zip(features)
            .enumerate()
            .map(|(i, (u, f))| UtteranceResult {
                start: u.start,
                end: u.end,
                speaker: speakers[i].clone(),
                text: u.text.clone(),
                label: u.label,
                probs: probs[i],
                modality_probs: heads[i],
                keyframe_times: f
                    .visual
                    .as_ref()
                    .map(|v| v.keyframes.iter().map(|k| k.time).collect())
                    .unwrap_or_default(),
                keyframes: f.visual.as_ref().map(|v| v.keyframes.clone()).unwrap_or_default(),
                audio_seconds: f.audio_seconds,
                face_expression: face_expression(f),
                voice: vectors[i].clone(),
            })
            .collect();
        DialogueResult {
            utterances,
            notes: all_notes,
            transcribed: dialogue.transcribed,
            checkpoint: self.checkpoint_name.clone(),
            reads_faces: self.model.info.reads_stream("face"),
        }
    }

    /// Model inputs of a dialogue, keeping only the modalities the checkpoint was trained on.
    pub fn inputs(&self, dialogue: &Dialogue, features: &[UtteranceFeatures]) -> Vec<UtteranceInput> {
        let uses = |m: Modality| self.model.info.reads(m);
        let speakers = voices::names(dialogue, features);
        features
            .iter()
            .zip(speakers)
            .map(|(f, speaker)| {
                let audio = match self.model.info.config.audio_source {
                    AudioSource::Whisper => f.speech.as_ref(),
                    AudioSource::Aisfx => f.sound.as_ref(),
                };
                let info = &self.model.info;
                let (face, back) = match &f.visual {
                    Some(v) => {
                        let rows = v.face_mask.gt(0.5).nonzero().squeeze_dim(1);
                        (
                            info.reads_stream("face").then(|| v.face.index_select(0, &rows)),
                            info.reads_stream("back").then(|| v.back.shallow_clone()),
                        )
                    }
                    None => (None, None),
                };
                UtteranceInput {
                    text: uses(Modality::Text).then(|| f.text.tokens.shallow_clone()),
                    audio: audio.filter(|_| uses(Modality::Audio)).map(Tensor::shallow_clone),
                    face,
                    back,
                    speaker,
                    label: None,
                }
            })
            .collect()
    }

    /// Fused and per-modality probabilities for every utterance of one dialogue.
    pub fn predict(
        &self,
        dialogue: &Dialogue,
        features: &[UtteranceFeatures],
    ) -> (Vec<Probs>, Vec<[Option<Probs>; 3]>) {
        let inputs = self.inputs(dialogue, features);
        self.predict_inputs(&inputs)
    }

    /// As [`Self::predict`], from prepared inputs (LIME perturbs these).
    pub fn predict_inputs(&self, inputs: &[UtteranceInput]) -> (Vec<Probs>, Vec<[Option<Probs>; 3]>) {
        let c = &self.model.info.config;
        tch::no_grad(|| {
            let b = Batch::new(
                &[inputs],
                [c.text_dim, c.audio_dim, c.face_dim, c.back_dim],
                self.device,
            );
            let out = self.model.model.forward(&b, false);
            // Calibrated: the checkpoint's temperatures (per presence pattern and per head).
            let cal = &self.model.info.calibration;
            let fused: Vec<Probs> = rows(&cal.scale_fused(&out.logits, &out.present).softmax(-1, Kind::Float));
            let present: Vec<[f32; 3]> = rows(&out.present);
            let heads: Vec<Vec<Probs>> = (0..3)
                .map(|m| {
                    rows(
                        &cal.scale_head(m, &out.modality_logits.get(m as i64))
                            .softmax(-1, Kind::Float),
                    )
                })
                .collect();
            let per: Vec<[Option<Probs>; 3]> = (0..fused.len())
                .map(|i| std::array::from_fn(|m| (present[i][m] > 0.5).then(|| heads[m][i])))
                .collect();
            (fused, per)
        })
    }
}

fn rows<const N: usize>(t: &Tensor) -> Vec<[f32; N]> {
    let t = t.to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
    let flat: Vec<f32> = t.view([-1]).try_into().unwrap_or_default();
    flat.chunks(N)
        .map(|c| std::array::from_fn(|i| c.get(i).copied().unwrap_or(0.0)))
        .collect()
}

/// Mean expression-CNN probabilities over keyframes with a face, in MELD order.
fn face_expression(f: &UtteranceFeatures) -> Option<Probs> {
    let v = f.visual.as_ref()?;
    let rows = v.face_mask.gt(0.5).nonzero().squeeze_dim(1);
    if rows.size()[0] == 0 {
        return None;
    }
    let scores = v
        .face
        .index_select(0, &rows)
        .narrow(1, 256, 7)
        .mean_dim([0i64].as_slice(), false, Kind::Float);
    let s: Vec<f32> = scores.try_into().ok()?;
    let total: f32 = s.iter().sum::<f32>().max(1e-6);
    let mut out = [0f32; 7];
    for (i, v) in s.iter().enumerate() {
        out[FER_TO_MELD[i].index()] = v / total;
    }
    Some(out)
}
