//! From a dialogue (transcript + video) to per-utterance features, with progress and
//! cancellation: the library call behind `amuse features`, the viewer's worker and training.
//!
//! Every modality is optional per utterance: a text-only transcript, a silent video or a
//! faceless clip still yields what can be had, and the model works on the subset (masks).

use std::path::{Path, PathBuf};

use anyhow::Result;
use tch::{Device, Tensor};

use super::adapter::TextAdapter;
use super::audio::{SoundEncoder, SpeechEncoder, SOUND_RATE};
use super::text::{TextEncoder, TextFeatures};
use super::visual::{VisualEncoder, VisualFeatures};
use super::voice::VoiceEncoder;
use crate::manifest::ModelStore;
use crate::media::decode::{self, MediaError};
use crate::media::faces::split::Pick;
use crate::media::keyframes;
use crate::media::transcript::Dialogue;
use crate::progress::{CancelToken, Progress, Stage};

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
    /// Load every encoder; `text_adapter` is the checkpoint's (see
    /// [`crate::model::checkpoint::Loaded::text_adapter`]), merged into MPNet.
    pub fn load(store: &ModelStore, device: Device, text_adapter: Option<&TextAdapter>) -> Result<Self> {
        Ok(Self {
            text: TextEncoder::load_adapted(store, device, text_adapter)?,
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
    /// Also run the aisfx sound encoder (44.1 kHz decode + `[b, 512]` blocks): only
    /// checkpoints trained with `--audio aisfx` read it, and on the demo it was 8 % of the
    /// extraction, so the pipeline skips it otherwise ([`ExtractOptions::for_audio`]).
    pub sound: bool,
    /// Decode the audio and run the speech and voice encoders (off when only the frames
    /// are wanted: IEMOCAP's faces, whose audio comes from each speaker's own microphone).
    pub audio: bool,
    /// Where each speaker sits, as a horizontal span of the frame (fractions of its width):
    /// an utterance of a speaker listed here takes the face on that side ([`Pick::Side`]),
    /// before `speaker_pick`.
    pub speaker_sides: Vec<(String, [f32; 2])>,
}

impl ExtractOptions {
    /// The default options for a checkpoint whose audio branch reads `source`.
    pub fn for_audio(source: crate::model::config::AudioSource) -> Self {
        Self {
            sound: source == crate::model::config::AudioSource::Aisfx,
            ..Self::default()
        }
    }

    /// How the face of `speaker`'s utterance is chosen.
    pub fn pick_for(&self, speaker: Option<&str>) -> Pick {
        let side = self
            .speaker_sides
            .iter()
            .find(|(s, _)| Some(s.as_str()) == speaker)
            .map(|&(_, side)| Pick::Side(side));
        side.unwrap_or(Pick::point(self.speaker_pick))
    }
}

impl Default for ExtractOptions {
    fn default() -> Self {
        Self {
            keyframes: keyframes::DEFAULT_PER_UTTERANCE,
            frame_side: 640,
            speaker_pick: None,
            sound: false,
            audio: true,
            speaker_sides: Vec::new(),
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

/// One utterance's decoded media: mono audio at 16 kHz and at the sound encoder's rate,
/// and its keyframes. Dropped as soon as the utterance is encoded.
struct Decoded {
    /// 16 kHz, and 44.1 kHz when the sound encoder runs.
    audio: Option<(Vec<f32>, Option<Vec<f32>>)>,
    frames: Option<Vec<decode::Frame>>,
}

/// Which "stream missing" notes were already given (once per dialogue).
#[derive(Default)]
struct Warned {
    audio: bool,
    video: bool,
}

/// Decode what one utterance needs from its media file (its clip, else the video).
fn decode_utterance(
    src: &Path,
    u: &crate::media::transcript::Utterance,
    iframes: &[f64],
    opts: &ExtractOptions,
    notes: &mut Notes,
    warned: &mut Warned,
) -> Result<Decoded> {
    let end = if u.end.is_finite() {
        u.end
    } else {
        decode::probe(src)?.duration
    };
    let audio = match opts.audio.then(|| decode::audio(src, u.start, end, 16_000)) {
        None => None,
        Some(Ok(a)) if !a.is_empty() => {
            let sound = opts
                .sound
                .then(|| decode::audio(src, u.start, end, SOUND_RATE))
                .transpose()?;
            Some((a, sound))
        }
        Some(Ok(_)) => None,
        Some(Err(e @ MediaError::NoAudio(_))) => {
            if !std::mem::replace(&mut warned.audio, true) {
                notes.push(e.to_string());
            }
            None
        }
        Some(Err(e)) => return Err(e.into()),
    };
    let times = keyframes::choose(
        u.start,
        end,
        if u.clip.is_some() { &[] } else { iframes },
        opts.keyframes,
    );
    let frames = match decode::frames_at(src, &times, opts.frame_side) {
        Ok(f) => Some(f),
        Err(e @ MediaError::NoVideo(_)) => {
            if !std::mem::replace(&mut warned.video, true) {
                notes.push(e.to_string());
            }
            None
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Decoded { audio, frames })
}

/// Extract features for every utterance of `dialogue`, reporting progress and stopping
/// promptly when `cancel` is set.
///
/// Utterances are decoded and encoded one at a time, so memory does not grow with the
/// length of the video: only one utterance's samples and keyframes are held at once (a
/// 30-minute dialogue would otherwise keep every decoded span and frame until the end).
/// Text is encoded first, batched over the dialogue as before.
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
    cancel.check()?;
    let report =
        |progress: &mut dyn FnMut(Progress), stage: Stage, done: usize| progress(Progress { stage, done, total: n });
    report(progress, Stage::Encoders, 0);
    let texts: Vec<&str> = dialogue.utterances.iter().map(|u| u.text.as_str()).collect();
    let text = crate::profile::time("MPNet (text)", || enc.text.encode_dialogue(&texts))?;
    let mut warned = Warned::default();
    let mut out = Vec::with_capacity(n);
    for (i, (u, t)) in dialogue.utterances.iter().zip(text).enumerate() {
        cancel.check()?;
        report(progress, Stage::Decode, i);
        let media = match source(video, u.clip.as_ref()) {
            Some(src) => crate::profile::time("decode (FFmpeg)", || {
                decode_utterance(src, u, &iframes, opts, &mut notes, &mut warned)
            })?,
            None => Decoded {
                audio: None,
                frames: None,
            },
        };
        cancel.check()?;
        report(progress, Stage::Faces, i);
        let visual = match &media.frames {
            Some(f) if !f.is_empty() => Some(enc.visual.encode(f, opts.pick_for(u.speaker.as_deref()))?),
            _ => None,
        };
        report(progress, Stage::Encoders, i);
        let (speech, sound, voice, secs) = match &media.audio {
            Some((a16, a44)) => (
                Some(crate::profile::time("Whisper encoder", || enc.speech.encode(a16))?),
                a44.as_ref()
                    .map(|a44| crate::profile::time("aisfx (sound)", || enc.sound.encode(a44)))
                    .transpose()?,
                Some(crate::profile::time("voice (Resemblyzer)", || enc.voice.encode(a16))?),
                a16.len() as f64 / 16_000.0,
            ),
            None => (None, None, None, 0.0),
        };
        drop(media);
        crate::heap::release_free_memory();
        tracing::debug!(
            utterance = i,
            resident_mb = crate::heap::resident_bytes().unwrap_or(0) / 1_000_000
        );
        out.push(UtteranceFeatures {
            text: t,
            speech,
            sound,
            voice,
            visual,
            audio_seconds: secs,
        });
    }
    for stage in [Stage::Decode, Stage::Faces, Stage::Encoders] {
        report(progress, stage, n);
    }
    let faceless = out
        .iter()
        .filter_map(|f| f.visual.as_ref())
        .filter(|v| v.keyframes.iter().all(|k| k.faces.is_empty()))
        .count();
    if faceless > 0 {
        notes.push(format!(
            "{faceless} of {n} utterances show no face: their face cue is missing"
        ));
    }
    Ok((out, notes))
}
