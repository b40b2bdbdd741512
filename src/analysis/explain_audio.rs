//! LIME over time segments of an utterance's audio (beyond the paper), as plain data for the
//! viewer and the CLI.
//!
//! The utterance's audio is decoded as feature extraction decodes it, cut into
//! [`SEGMENT_SECONDS`] windows ([`crate::lime::audio`] says why), and each distinct
//! pattern of silenced windows is re-encoded by the checkpoint's audio encoder (Whisper-tiny
//! or aisfx) and pushed through the full model with the dialogue unchanged — the same
//! `InContext` classifier the word explanations use, so text, face and the other
//! utterances are reused, not recomputed.

use std::cell::Cell;
use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::fit::Fit;
use super::in_context::{InContext, Timing};
use super::Analyzer;
use crate::emotion::Emotion;
use crate::features::audio::SOUND_RATE;
use crate::features::extract::UtteranceFeatures;
use crate::lime::audio::{explain_audio, AudioSegments, SEGMENT_SECONDS};
use crate::lime::engine::{Labels, LimeConfig};
use crate::media::decode;
use crate::media::transcript::Dialogue;
use crate::model::batch::UtteranceInput;
use crate::model::config::AudioSource;
use crate::progress::{CancelToken, Cancelled};

/// Samples of the viewer's audio explanation (the reference uses 5000): the cost is the
/// distinct silencing patterns, each one audio-encoder pass over the utterance; image-style
/// sampling of d segments gives about 2^d·(1 − e^(−100/2^d)) of them (16 for a 2 s utterance,
/// 50 for 3 s, ~100 for 5 s and longer), so more samples would mostly repeat patterns. The
/// measured cost is in the README.
pub const AUDIO_SAMPLES: usize = 100;

/// One time segment of the utterance and its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentWeight {
    /// Seconds in the video (or the utterance's clip).
    pub start: f64,
    pub end: f64,
    /// Positive supports the explained label, negative detracts; `None` = not selected.
    pub weight: Option<f64>,
}

/// A segment-level explanation of one utterance's audio, ready to draw on a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentExplanation {
    pub utterance: usize,
    /// Every segment in time order.
    pub segments: Vec<SegmentWeight>,
    /// The label explained and the local model's fit; `evaluated` counts distinct
    /// silencing patterns (each one audio-encoder pass).
    #[serde(flatten)]
    pub fit: Fit,
}

impl SegmentExplanation {
    /// Segments with a weight, sorted by |weight| descending.
    pub fn top(&self) -> Vec<&SegmentWeight> {
        let mut v: Vec<&SegmentWeight> = self.segments.iter().filter(|s| s.weight.is_some()).collect();
        v.sort_by(|a, b| b.weight.unwrap_or(0.0).abs().total_cmp(&a.weight.unwrap_or(0.0).abs()));
        v
    }
}

impl Analyzer {
    /// Explain utterance `i`'s predicted label (or `label`) by time segments of its audio,
    /// decoded from `video` (or the utterance's own clip).
    #[allow(clippy::too_many_arguments)]
    pub fn explain_audio(
        &self,
        video: &Path,
        dialogue: &Dialogue,
        features: &[UtteranceFeatures],
        i: usize,
        label: Option<Emotion>,
        samples: usize,
        seed: u64,
        cancel: &CancelToken,
    ) -> Result<(SegmentExplanation, Timing)> {
        let started = Instant::now();
        let u = dialogue
            .utterances
            .get(i)
            .ok_or_else(|| anyhow!("no utterance {}", i + 1))?;
        if !self.model.info.reads(crate::model::amuse::Modality::Audio) {
            bail!("the checkpoint does not use audio, so there is no audio to explain");
        }
        let src = u.clip.as_deref().unwrap_or(video);
        let end = if u.end.is_finite() {
            u.end
        } else {
            decode::probe(src)?.duration
        };
        let source = self.model.info.config.audio_source;
        let rate = match source {
            AudioSource::Whisper => 16_000,
            AudioSource::Aisfx => SOUND_RATE,
        };
        let audio = decode::audio(src, u.start, end, rate)?;
        if audio.is_empty() {
            bail!("utterance {} has no audio to explain", i + 1);
        }
        let inputs = self.inputs(dialogue, features);
        let context = InContext::new(self, &inputs, i)?;
        let label = context.label(label);
        let segments = AudioSegments::new(audio.len(), rate, SEGMENT_SECONDS).map_err(|e| anyhow!("{e}"))?;
        let encode = Cell::new(0.0);
        let classifier = |signals: &[Vec<f32>]| -> Result<Vec<Vec<f64>>> {
            let t = Instant::now();
            let encoded: Vec<Tensor> = signals
                .iter()
                .map(|s| {
                    cancel.check()?;
                    match source {
                        AudioSource::Whisper => self.encoders.speech.encode(s),
                        AudioSource::Aisfx => self.encoders.sound.encode(s),
                    }
                })
                .collect::<Result<_>>()?;
            encode.set(encode.get() + t.elapsed().as_secs_f64());
            let variants = encoded
                .into_iter()
                .map(|a| UtteranceInput {
                    audio: Some(a),
                    ..context.original()
                })
                .collect();
            context.classify(variants)
        };
        let cfg = LimeConfig {
            num_samples: samples.max(2),
            seed,
            batch_size: 16,
            ..LimeConfig::image()
        };
        let result = explain_audio(&audio, &segments, &Labels::Given(vec![label.index()]), &cfg, classifier);
        if cancel.is_cancelled() {
            bail!(Cancelled);
        }
        let result = result.map_err(|e| anyhow!("LIME: {e}"))?;
        let exp = result
            .explanations
            .first()
            .ok_or_else(|| anyhow!("LIME returned no explanation"))?;
        let seconds = started.elapsed().as_secs_f64();
        let segments = (0..segments.count())
            .map(|s| {
                let (a, b) = segments.seconds(s);
                SegmentWeight {
                    start: u.start + a,
                    end: u.start + b,
                    weight: exp.selected_weight(s),
                }
            })
            .collect();
        let timing = Timing {
            encode: encode.get(),
            model: context.model_seconds.get(),
            total: seconds,
        };
        Ok((
            SegmentExplanation {
                utterance: i,
                segments,
                fit: Fit::new(label, exp, cfg.num_samples, result.neighbourhood.evaluated, seconds),
            },
            timing,
        ))
    }
}
