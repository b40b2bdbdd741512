//! Automatic transcription for videos without a transcript: Whisper tiny.en (real
//! weights, greedy decoding with timestamps) over the stretches of speech the voice
//! activity detector finds, then utterances and speakers from voice embeddings.
//!
//! The result is an ordinary [`Dialogue`] marked `transcribed`, so the rest of the tool
//! (features, model, explanations, viewer, SRT export) works on it unchanged.

pub mod seek;
pub mod segment;
pub mod vad;
pub mod wer;
pub mod whisper;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tch::Device;

use crate::features::speakers;
use crate::features::voice::VoiceEncoder;
use crate::manifest::ModelStore;
use crate::media::decode;
use crate::media::transcript::Dialogue;
use crate::progress::{CancelToken, Progress, Stage};
use segment::Piece;
use whisper::Whisper;

/// What the viewer and the CLI say about transcribed text.
pub const MODEL_NAME: &str = "Whisper tiny.en";

/// Settings of a transcription.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub vad: vad::VadOptions,
    /// Pauses at least this long (seconds) separate stretches decoded independently.
    pub split_silence: f64,
    /// Speech padding around each stretch (seconds).
    pub pad: f64,
    /// Voices at least this alike are one speaker.
    pub speaker_threshold: f32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            vad: vad::VadOptions::default(),
            split_silence: 2.0,
            pad: 0.2,
            speaker_threshold: speakers::DEFAULT_THRESHOLD,
        }
    }
}

/// Write `dialogue` as `<video>.srt` beside the video (atomically); an existing file is
/// kept unless `force`. Returns the path written.
pub fn write_srt(video: &Path, dialogue: &Dialogue, force: bool) -> Result<PathBuf> {
    let path = video.with_extension("srt");
    crate::media::transcript::srt::write(&path, dialogue, force).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => anyhow::anyhow!("{e}"),
        _ => anyhow::anyhow!("cannot write {}: {e}", path.display()),
    })?;
    Ok(path)
}

/// Whisper and the voice encoder, loaded once.
pub struct Transcriber {
    pub whisper: Whisper,
    voice: VoiceEncoder,
    pub options: Options,
}

impl Transcriber {
    pub fn load(store: &ModelStore, device: Device) -> Result<Self> {
        Ok(Self {
            whisper: Whisper::load(store, device)?,
            voice: VoiceEncoder::load(store, device)?,
            options: Options::default(),
        })
    }

    /// Transcribe a video's (or audio file's) sound track.
    pub fn transcribe_file(
        &self,
        path: &Path,
        progress: &mut dyn FnMut(Progress),
        cancel: &CancelToken,
    ) -> Result<Dialogue> {
        let audio = decode::audio(path, 0.0, f64::INFINITY, seek::RATE as u32)
            .with_context(|| format!("cannot transcribe {}: its sound could not be read", path.display()))?;
        let dialogue = self.transcribe(&audio, progress, cancel)?;
        if dialogue.utterances.is_empty() {
            anyhow::bail!(
                "{}: {MODEL_NAME} heard no speech in the sound track; add a transcript (.srt/.vtt/.csv) beside the video",
                path.display()
            );
        }
        Ok(dialogue)
    }

    /// Transcribe 16 kHz mono audio into utterances with speakers.
    pub fn transcribe(
        &self,
        audio: &[f32],
        progress: &mut dyn FnMut(Progress),
        cancel: &CancelToken,
    ) -> Result<Dialogue> {
        let o = &self.options;
        let duration = audio.len() as f64 / seek::RATE as f64;
        let regions = vad::detect(audio, seek::RATE as u32, &o.vad);
        let stretches: Vec<(usize, usize)> = vad::stretches(&regions, o.split_silence, o.pad, duration)
            .iter()
            .map(|r| {
                (
                    (r.start * seek::RATE as f64) as usize,
                    ((r.end * seek::RATE as f64) as usize).min(audio.len()),
                )
            })
            .collect();
        let mut report = |done, total| {
            progress(Progress {
                stage: Stage::Transcribe,
                done,
                total,
            })
        };
        let segments = seek::transcribe(&self.whisper, audio, &stretches, &mut report, cancel)?;
        let mut pieces = Vec::with_capacity(segments.len());
        for s in &segments {
            let text = self.whisper.text(&s.tokens)?;
            if !text.is_empty() {
                pieces.push(Piece {
                    start: s.start,
                    end: s.end,
                    text,
                });
            }
        }
        cancel.check()?;
        let pieces = segment::refine(pieces, &regions);
        let pieces = segment::split_turns(&self.voice, audio, pieces, &regions, o.speaker_threshold)?;
        cancel.check()?;
        let utterances = segment::name_speakers(&self.voice, audio, &pieces, &regions, o.speaker_threshold)?;
        let dialogue = Dialogue {
            utterances,
            warnings: Vec::new(),
            transcribed: true,
        };
        Ok(dialogue.normalise(Some(duration)))
    }
}
