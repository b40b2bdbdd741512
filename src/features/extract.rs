//! From a dialogue (transcript + video) to per-utterance features, with progress and
//! cancellation: the library call behind `amuse features`, the viewer's worker and training.
//!
//! Every modality is optional per utterance: a text-only transcript, a silent video or a
//! faceless clip still yields what can be had, and the model works on the subset (masks).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Result};
use tch::{Device, Tensor};

use super::audio::{SoundEncoder, SpeechEncoder, SOUND_RATE};
use super::text::{TextEncoder, TextFeatures};
use super::visual::{VisualEncoder, VisualFeatures};
use super::voice::VoiceEncoder;
use crate::manifest::ModelStore;
use crate::media::decode::{self, MediaError};
use crate::media::keyframes;
use crate::media::transcript::Dialogue;

/// The stages a user sees progress for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Decode,
    Faces,
    Encoders,
    Model,
    Explain,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Decode => "decode",
            Stage::Faces => "faces",
            Stage::Encoders => "encoders",
            Stage::Model => "model",
            Stage::Explain => "explanations",
        }
    }
}

/// Progress report: `done` of `total` units of `stage`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub stage: Stage,
    pub done: usize,
    pub total: usize,
}

/// Shared cancellation flag; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Clear the flag before starting new work.
    pub fn reset(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    /// `Err(Cancelled)` once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            bail!(Cancelled);
        }
        Ok(())
    }
}

/// The analysis was cancelled by the user.
#[derive(Debug, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// All encoders, loaded once.
pub struct Encoders {
    pub text: TextEncoder,
    pub speech: SpeechEncoder,
    pub sound: SoundEncoder,
    pub voice: VoiceEncoder,
    pub visual: VisualEncoder,
    pub device: Device,
}

impl Encoders {
    pub fn load(store: &ModelStore, device: Device) -> Result<Self> {
        Ok(Self {
            text: TextEncoder::load(store, device)?,
            speech: SpeechEncoder::load(store, device)?,
            sound: SoundEncoder::load(store, device)?,
            voice: VoiceEncoder::load(store, device)?,
            visual: VisualEncoder::load(store, device)?,
            device,
        })
    }
}

/// Options of the extraction.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Keyframes per utterance (paper: FFmpeg keyframes; default 4).
    pub keyframes: usize,
    /// Longest side of decoded frames.
    pub frame_side: u32,
    /// A point on the speaker's face (else the largest face is the speaker's).
    pub speaker_pick: Option<[f32; 2]>,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        Self {
            keyframes: keyframes::DEFAULT_PER_UTTERANCE,
            frame_side: 640,
            speaker_pick: None,
        }
    }
}

/// Features of one utterance. Missing modalities are `None`.
#[derive(Debug)]
pub struct UtteranceFeatures {
    pub text: TextFeatures,
    /// Whisper frames `[e, 384]`.
    pub speech: Option<Tensor>,
    /// aisfx blocks `[b, 512]`.
    pub sound: Option<Tensor>,
    /// Voice vector `[256]`.
    pub voice: Option<Tensor>,
    pub visual: Option<VisualFeatures>,
    /// Seconds of audio actually decoded.
    pub audio_seconds: f64,
}

/// What the extraction noticed that the user should know (no audio track, no faces…).
pub type Notes = Vec<String>;

/// The media file an utterance's audio/frames come from: its own clip (MELD.Raw) or the video.
fn source<'a>(video: Option<&'a Path>, clip: Option<&'a PathBuf>) -> Option<&'a Path> {
    clip.map(PathBuf::as_path).or(video)
}

/// Extract features for every utterance of `dialogue`, reporting progress and stopping
/// promptly when `cancel` is set.
pub fn extract(
    enc: &Encoders,
    video: Option<&Path>,
    dialogue: &Dialogue,
    opts: &ExtractOptions,
    progress: &mut dyn FnMut(Progress),
    cancel: &CancelToken,
) -> Result<(Vec<UtteranceFeatures>, Notes)> {
    let n = dialogue.utterances.len();
    let mut notes = Notes::new();
    let iframes = match video {
        Some(v) => match decode::keyframe_times(v) {
            Ok(t) => t,
            Err(MediaError::NoVideo(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        },
        None => Vec::new(),
    };

    // Audio and frames per utterance.
    let mut audio16: Vec<Option<Vec<f32>>> = Vec::with_capacity(n);
    let mut audio44: Vec<Option<Vec<f32>>> = Vec::with_capacity(n);
    let mut frames: Vec<Option<Vec<image::RgbImage>>> = Vec::with_capacity(n);
    let (mut warned_audio, mut warned_video) = (false, false);
    for (i, u) in dialogue.utterances.iter().enumerate() {
        cancel.check()?;
        progress(Progress {
            stage: Stage::Decode,
            done: i,
            total: n,
        });
        let Some(src) = source(video, u.clip.as_ref()) else {
            audio16.push(None);
            audio44.push(None);
            frames.push(None);
            continue;
        };
        let end = if u.end.is_finite() {
            u.end
        } else {
            decode::probe(src)?.duration
        };
        match decode::audio(src, u.start, end, 16_000) {
            Ok(a) if !a.is_empty() => {
                audio44.push(Some(decode::audio(src, u.start, end, SOUND_RATE)?));
                audio16.push(Some(a));
            }
            Ok(_) => {
                audio16.push(None);
                audio44.push(None);
            }
            Err(e @ MediaError::NoAudio(_)) => {
                if !warned_audio {
                    notes.push(e.to_string());
                    warned_audio = true;
                }
                audio16.push(None);
                audio44.push(None);
            }
            Err(e) => return Err(e.into()),
        }
        let times = keyframes::choose(
            u.start,
            end,
            if u.clip.is_some() { &[] } else { &iframes },
            opts.keyframes,
        );
        match decode::frames_at(src, &times, opts.frame_side) {
            Ok(f) => frames.push(Some(f.into_iter().map(|f| f.image).collect())),
            Err(e @ MediaError::NoVideo(_)) => {
                if !warned_video {
                    notes.push(e.to_string());
                    warned_video = true;
                }
                frames.push(None);
            }
            Err(e) => return Err(e.into()),
        }
    }
    progress(Progress {
        stage: Stage::Decode,
        done: n,
        total: n,
    });

    // Faces and visual encoders, utterance by utterance.
    let mut visual: Vec<Option<VisualFeatures>> = Vec::with_capacity(n);
    for (i, f) in frames.iter().enumerate() {
        cancel.check()?;
        progress(Progress {
            stage: Stage::Faces,
            done: i,
            total: n,
        });
        visual.push(match f {
            Some(f) if !f.is_empty() => Some(enc.visual.encode(f, opts.speaker_pick)?),
            _ => None,
        });
    }
    progress(Progress {
        stage: Stage::Faces,
        done: n,
        total: n,
    });
    let faceless = visual
        .iter()
        .flatten()
        .filter(|v| v.keyframes.iter().all(|k| k.faces.is_empty()))
        .count();
    if faceless > 0 {
        notes.push(format!(
            "{faceless} of {n} utterances show no face: their face cue is missing"
        ));
    }

    // Text (batched over the dialogue), then audio encoders.
    let texts: Vec<&str> = dialogue.utterances.iter().map(|u| u.text.as_str()).collect();
    progress(Progress {
        stage: Stage::Encoders,
        done: 0,
        total: n,
    });
    let text = enc.text.encode(&texts)?;
    let mut out = Vec::with_capacity(n);
    for (i, (t, v)) in text.into_iter().zip(visual).enumerate() {
        cancel.check()?;
        progress(Progress {
            stage: Stage::Encoders,
            done: i,
            total: n,
        });
        let (speech, sound, voice, secs) = match (&audio16[i], &audio44[i]) {
            (Some(a16), Some(a44)) => (
                Some(enc.speech.encode(a16)?),
                Some(enc.sound.encode(a44)?),
                Some(enc.voice.encode(a16)?),
                a16.len() as f64 / 16_000.0,
            ),
            _ => (None, None, None, 0.0),
        };
        out.push(UtteranceFeatures {
            text: t,
            speech,
            sound,
            voice,
            visual: v,
            audio_seconds: secs,
        });
    }
    progress(Progress {
        stage: Stage::Encoders,
        done: n,
        total: n,
    });
    Ok((out, notes))
}
