//! What the viewer knows, independent of how it is drawn: the open file, the analysis and
//! its progress, the selection, filters, overlays, playback. Worker messages are applied
//! here; drawing code only reads this and calls its methods.

use std::collections::HashMap;
use std::path::PathBuf;

use super::pending::{Failure, Pending};
use super::worker::{Command, Envelope, Job, Message, Run, Worker};
use crate::analysis::result::DialogueResult;
use crate::device::DeviceInfo;
use crate::emotion::Emotion;
use crate::features::speakers;
use crate::progress::{Progress, Stage};

/// A decoded keyframe ready to display.
#[derive(Clone)]
pub struct ShownFrame {
    pub time: f64,
    pub image: egui::ColorImage,
}

/// Table filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub speaker: Option<String>,
    pub emotion: Option<Emotion>,
    pub disagreements_only: bool,
    /// "Follow this voice": only utterances whose voice matches this utterance's.
    pub voice_of: Option<usize>,
}

/// Overlays on the keyframe view.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlays {
    pub faces: bool,
    pub landmarks: bool,
    /// The face explanation's regions tinted by their LIME weights.
    pub face_regions: bool,
    /// SLIC superpixels of the background (off by default: computed on demand).
    pub superpixels: bool,
}

impl Default for Overlays {
    fn default() -> Self {
        Self {
            faces: true,
            landmarks: true,
            face_regions: true,
            superpixels: false,
        }
    }
}

/// Severity of a message shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// Everything about the opened video: replaced whole when another is opened, so nothing of
/// the last one (a speaker filter, a followed voice, a selection, an explanation) leaks
/// into the next.
pub struct Document {
    /// The number of this opening of a video; the worker's reports of other runs are dropped.
    pub run: Run,
    pub file: Option<PathBuf>,
    pub result: Option<DialogueResult>,
    pub running: bool,
    /// Progress per stage of the running analysis, and seconds since it started.
    pub progress: HashMap<Stage, (usize, usize)>,
    pub current_stage: Option<Stage>,
    pub elapsed: f64,
    pub analysis_seconds: Option<f64>,
    pub selected: Option<usize>,
    pub filter: Filter,
    /// Whose emotion trajectories are drawn (a speaker; `None`: the whole group).
    pub trajectory_of: Option<String>,
    /// Keyframes of the selected utterance (tag = utterance index).
    pub frames: Vec<ShownFrame>,
    pub(super) frames_tag: Option<u64>,
    /// Bumped whenever `frames` changes (so textures are re-uploaded).
    pub frames_generation: u64,
    /// Index into `frames` being shown.
    pub frame_index: usize,
    /// Playback (see `navigate` and `playback`): the playhead in seconds, whether playing,
    /// a seek for the player to carry out, and whether the centre shows the played video
    /// (else the selected utterance's keyframes).
    pub playhead: f64,
    pub playing: bool,
    pub seek_request: Option<f64>,
    pub video_view: bool,
    /// Word explanations by utterance (asked for on selection, or made in the background).
    pub explanations: HashMap<usize, Pending<crate::analysis::explain_words::WordExplanation>>,
    /// Face explanations by utterance (requested on selection).
    pub faces: HashMap<usize, Pending<Box<crate::app::panels::face::FaceView>>>,
    /// Back-frame explanations by utterance (requested on selection when the checkpoint
    /// reads back frames).
    pub backs: HashMap<usize, Pending<Box<crate::analysis::explain_visual::BackExplanation>>>,
    /// Audio-segment explanations by utterance (requested with a button: slow).
    pub audio_explanations: HashMap<usize, Pending<Box<crate::analysis::explain_audio::SegmentExplanation>>>,
    /// Utterance to select when the running analysis finishes.
    pub pending_select: Option<usize>,
    /// The annotator's corrections of the open dialogue (its sidecar).
    pub annotator: super::annotate::Annotator,
}

impl Document {
    /// A new document: run `run` of `file` (no file: nothing opened yet), whose keyframe
    /// textures start after `frames_generation`.
    pub fn new(run: Run, file: Option<PathBuf>, frames_generation: u64) -> Self {
        Self {
            run,
            running: file.is_some(),
            file,
            result: None,
            progress: HashMap::new(),
            current_stage: None,
            elapsed: 0.0,
            analysis_seconds: None,
            selected: None,
            filter: Filter::default(),
            trajectory_of: None,
            frames: Vec::new(),
            frames_tag: None,
            frames_generation,
            frame_index: 0,
            playhead: 0.0,
            playing: false,
            seek_request: None,
            video_view: false,
            explanations: HashMap::new(),
            faces: HashMap::new(),
            backs: HashMap::new(),
            audio_explanations: HashMap::new(),
            pending_select: None,
            annotator: Default::default(),
        }
    }
}

/// The viewer's state: the opened video ([`Document`]) and what outlives it (the device,
/// the models, recent files, overlay switches, messages, the worker).
pub struct AppState {
    pub doc: Document,
    pub device: Option<DeviceInfo>,
    /// The loaded checkpoint, or why models could not be loaded.
    pub models: Option<Result<crate::analysis::result::CheckpointSummary, String>>,
    /// The checkpoint window (dev scores, temperatures, reliability diagrams) is open.
    pub checkpoint_window: bool,
    pub overlays: Overlays,
    pub messages: Vec<(Level, String)>,
    pub recent: Vec<PathBuf>,
    pub worker: Worker,
}

impl AppState {
    pub fn new(worker: Worker) -> Self {
        Self {
            doc: Document::new(0, None, 0),
            device: None,
            models: None,
            checkpoint_window: false,
            overlays: Overlays::default(),
            messages: Vec::new(),
            recent: Vec::new(),
            worker,
        }
    }

    pub fn message(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        if !self.messages.iter().any(|(_, t)| *t == text) {
            self.messages.push((level, text));
        }
    }

    /// Apply every pending worker message (non-blocking). Returns true if anything changed.
    pub fn poll(&mut self) -> bool {
        let mut changed = false;
        while let Ok(Envelope { run, message }) = self.worker.rx.try_recv() {
            changed = true;
            if run.is_some_and(|r| r != self.doc.run) {
                continue; // about a video closed since, or an earlier opening of this one
            }
            match message {
                Message::Ready { device, checkpoint } => {
                    if let Err(e) = &checkpoint {
                        self.message(Level::Error, format!("models not loaded: {e}"));
                    }
                    self.device = Some(device);
                    self.models = Some(checkpoint);
                }
                Message::Progress {
                    progress: Progress { stage, done, total },
                    elapsed,
                } => {
                    self.doc.progress.insert(stage, (done, total));
                    self.doc.current_stage = Some(stage);
                    self.doc.elapsed = elapsed;
                }
                Message::Done { video, result, seconds } => {
                    self.doc.running = false;
                    self.doc.analysis_seconds = Some(seconds);
                    for n in &result.notes {
                        self.message(Level::Warning, n.clone());
                    }
                    self.doc.result = Some(*result);
                    if let Some(notice) = self.doc.annotator.open(&video) {
                        self.message(Level::Warning, notice);
                    }
                    if self.doc.selected.is_none() {
                        let first = self.doc.pending_select.take().unwrap_or(0);
                        self.select(first);
                        self.explain_selected(crate::analysis::explain_words::INTERACTIVE_SAMPLES);
                    }
                }
                Message::Failed { error } => {
                    self.doc.running = false;
                    self.message(Level::Error, error);
                }
                Message::Cancelled => {
                    self.doc.running = false;
                    self.message(Level::Info, "analysis cancelled");
                }
                // Explanations made in the background arrive for any utterance.
                Message::Explained(e) => {
                    self.doc.explanations.insert(e.utterance, Pending::Ready(*e));
                }
                Message::FaceExplained {
                    utterance,
                    explanation,
                    overlay,
                } => {
                    // Show the keyframe the face was explained on, so its regions are seen.
                    if self.doc.selected == Some(utterance) && !self.doc.video_view {
                        if let Some(k) = self.doc.result.as_ref().and_then(|r| {
                            let times = &r.utterances.get(utterance)?.keyframe_times;
                            times.iter().position(|t| (t - explanation.time).abs() < 1e-3)
                        }) {
                            self.doc.frame_index = k;
                        }
                    }
                    let view = crate::app::panels::face::FaceView::new(*explanation, overlay);
                    self.doc.faces.insert(utterance, Pending::Ready(Box::new(view)));
                }
                // A cancelled explanation leaves nothing (it can be asked for again); a
                // failed one its reason.
                Message::FaceFailed { utterance, failure } => settle(&mut self.doc.faces, utterance, Err(failure)),
                Message::BackExplained { utterance, result } => settle(&mut self.doc.backs, utterance, result),
                Message::AudioExplained { utterance, result } => {
                    settle(&mut self.doc.audio_explanations, utterance, result);
                }
                Message::ExplainFailed { utterance, failure } => {
                    if let Failure::Error(e) = &failure {
                        self.message(Level::Error, format!("explanation failed: {e}"));
                    }
                    settle(&mut self.doc.explanations, utterance, Err(failure));
                }
                Message::Frames { tag, frames } => {
                    if self.doc.frames_tag == Some(tag) {
                        self.doc.frames = frames
                            .into_iter()
                            .map(|(time, w, h, rgb)| ShownFrame {
                                time,
                                image: egui::ColorImage::from_rgb([w as usize, h as usize], &rgb),
                            })
                            .collect();
                        self.doc.frame_index = self.doc.frame_index.min(self.doc.frames.len().saturating_sub(1));
                        self.doc.frames_generation += 1;
                    }
                }
            }
        }
        changed
    }

    /// Open a video (dialog, drag-and-drop, recent list) and start its analysis.
    pub fn open(&mut self, path: PathBuf) {
        if !path.is_file() {
            self.message(Level::Error, format!("{} is not a readable file", path.display()));
            return;
        }
        // Whatever runs or waits on the worker concerns the previous run.
        self.worker.cancel_all();
        let mut annotator = std::mem::take(&mut self.doc.annotator);
        annotator.close();
        self.doc = Document::new(self.doc.run + 1, Some(path.clone()), self.doc.frames_generation + 1);
        // The label set for new sidecars is the user's choice (`--labels`), not the video's.
        self.doc.annotator = annotator;
        self.messages.clear();
        self.recent.retain(|p| *p != path);
        self.recent.insert(0, path.clone());
        self.recent.truncate(8);
        self.worker.send(Command::Analyze {
            run: self.doc.run,
            video: path,
            transcript: None,
        });
    }

    /// Ask for a word explanation of the selected utterance (`samples` LIME samples); one
    /// runs at a time.
    pub fn explain_selected(&mut self, samples: usize) {
        let (Some(i), Some(_)) = (self.doc.selected, &self.doc.result) else {
            return;
        };
        if self.doc.explanations.values().any(Pending::is_running) {
            return;
        }
        self.doc.explanations.insert(i, Pending::Running);
        self.worker.send(Command::Explain {
            run: self.doc.run,
            utterance: i,
            samples,
            seed: 0,
        });
    }

    /// Ask the worker for the selected utterance's audio-segment explanation (once per
    /// utterance: a failed or finished one is kept until the file is reopened).
    pub fn explain_audio_selected(&mut self) {
        let (Some(i), Some(video), Some(_)) = (self.doc.selected, &self.doc.file, &self.doc.result) else {
            return;
        };
        if self.doc.audio_explanations.contains_key(&i) {
            return;
        }
        self.doc.audio_explanations.insert(i, Pending::Running);
        self.worker.send(Command::ExplainAudio {
            run: self.doc.run,
            utterance: i,
            video: video.clone(),
            samples: crate::analysis::explain_audio::AUDIO_SAMPLES,
            seed: 0,
        });
    }

    pub fn cancel(&mut self) {
        if self.doc.running {
            self.worker.cancel(Job::Analysis);
        }
    }

    /// Indices of utterances passing the filter, in dialogue order.
    pub fn visible(&self) -> Vec<usize> {
        let Some(r) = &self.doc.result else { return Vec::new() };
        let voices = self.voice_similarities();
        r.utterances
            .iter()
            .enumerate()
            .filter(|(_, u)| {
                self.doc
                    .filter
                    .speaker
                    .as_ref()
                    .is_none_or(|s| u.speaker.as_ref() == Some(s))
            })
            .filter(|(_, u)| self.doc.filter.emotion.is_none_or(|e| u.predicted() == e))
            .filter(|(i, u)| {
                !self.doc.filter.disagreements_only
                    || crate::export::agreement::disagrees(self.doc.annotator.truth(r, *i), u.predicted())
            })
            .filter(|(i, _)| {
                self.doc.filter.voice_of.is_none()
                    || voices
                        .get(*i)
                        .copied()
                        .flatten()
                        .is_some_and(|s| s >= speakers::DEFAULT_THRESHOLD)
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Follow the selected utterance's voice (toggle off when it is already followed).
    pub fn follow_voice(&mut self) {
        let has_voice = |i: usize| {
            self.doc
                .result
                .as_ref()
                .and_then(|r| r.utterances.get(i))
                .is_some_and(|u| u.voice.is_some())
        };
        self.doc.filter.voice_of = match (self.doc.selected, self.doc.filter.voice_of) {
            (Some(s), Some(f)) if s == f => None,
            (Some(s), _) if has_voice(s) => Some(s),
            (_, current) => current,
        };
    }

    /// Similarity of each utterance's voice to the followed one (`None`: no voice, or no
    /// voice followed).
    pub fn voice_similarities(&self) -> Vec<Option<f32>> {
        let Some(r) = &self.doc.result else { return Vec::new() };
        let Some(target) = self.doc.filter.voice_of else {
            return vec![None; r.utterances.len()];
        };
        let voices: Vec<Option<Vec<f32>>> = r.utterances.iter().map(|u| u.voice.clone()).collect();
        speakers::find(&voices, target)
    }

    /// Overall progress in [0, 1] and a rough ETA (seconds) of the running analysis.
    pub fn overall_progress(&self) -> (f32, Option<f64>) {
        // Weights: decode and faces dominate on CPU; transcription, when there is one, costs
        // about as much as the rest (RTF 0.77 against ~0.87 for the analysis, demo on CPU).
        let transcribing = self.doc.progress.contains_key(&Stage::Transcribe);
        let rest = if transcribing { 0.55 } else { 1.0 };
        let weights = [
            (Stage::Transcribe, 1.0 - rest),
            (Stage::Decode, 0.25 * rest),
            (Stage::Faces, 0.45 * rest),
            (Stage::Encoders, 0.25 * rest),
            (Stage::Model, 0.05 * rest),
        ];
        let mut done = 0.0;
        for (s, w) in weights {
            if let Some((d, t)) = self.doc.progress.get(&s) {
                done += w * (*d as f64 / (*t).max(1) as f64);
            }
        }
        let eta = (done > 0.02).then(|| self.doc.elapsed * (1.0 - done) / done);
        (done as f32, eta)
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;

/// Put a finished job's result (or reason) in `map`, or take the entry out when it was
/// cancelled.
fn settle<T>(map: &mut HashMap<usize, Pending<T>>, utterance: usize, result: Result<T, Failure>) {
    match Pending::finished(result) {
        Some(p) => {
            map.insert(utterance, p);
        }
        None => {
            map.remove(&utterance);
        }
    }
}
