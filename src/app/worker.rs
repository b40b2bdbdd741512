//! The analysis worker: a background thread that owns LibTorch (encoders + model) and runs
//! the pipeline. The UI sends it commands and receives plain data; it never blocks on it.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Instant;

use crate::analysis::explain::WordExplanation;
use crate::analysis::explain_audio::SegmentExplanation;
use crate::analysis::explain_face::FaceExplanation;
use crate::analysis::result::DialogueResult;
use crate::analysis::Analyzer;
use crate::device::{self, DeviceInfo};
use crate::features::extract::UtteranceFeatures;
use crate::features::extract::{CancelToken, Cancelled, Progress};
use crate::media::decode;
use crate::media::transcript::Dialogue;

/// What the UI asks the worker to do.
#[derive(Debug)]
pub enum Command {
    /// Analyse a video with its transcript (found beside it when `None`).
    Analyze {
        video: PathBuf,
        transcript: Option<PathBuf>,
    },
    /// Explain an utterance of the last analysis by its words (LIME).
    Explain {
        utterance: usize,
        samples: usize,
        seed: u64,
    },
    /// Explain an utterance of the last analysis by 0.5 s segments of its audio (LIME; slow).
    ExplainAudio {
        utterance: usize,
        video: PathBuf,
        samples: usize,
        seed: u64,
    },
    /// Explain the speaker's face of an utterance by facial regions (LIME).
    ExplainFace {
        utterance: usize,
        video: PathBuf,
        times: Vec<f64>,
    },
    /// Decode frames at these times for display (longest side `max_side`).
    Frames {
        times: Vec<f64>,
        video: PathBuf,
        max_side: u32,
        tag: u64,
    },
}

/// What the worker reports.
#[derive(Debug)]
pub enum Message {
    /// LibTorch is initialised; the models are (or failed to be) loaded.
    Ready {
        device: DeviceInfo,
        checkpoint: Result<String, String>,
    },
    Progress {
        progress: Progress,
        elapsed: f64,
    },
    Done {
        video: PathBuf,
        result: Box<DialogueResult>,
        seconds: f64,
    },
    Failed {
        video: PathBuf,
        error: String,
    },
    Cancelled,
    Explained(Box<WordExplanation>),
    ExplainFailed(String),
    /// A face explanation and its tinted crop (width, height, RGB8).
    FaceExplained {
        utterance: usize,
        explanation: Box<FaceExplanation>,
        overlay: (u32, u32, Vec<u8>),
    },
    FaceFailed {
        utterance: usize,
        error: String,
    },
    /// An audio-segment explanation, or why there is none.
    AudioExplained {
        utterance: usize,
        result: Result<Box<SegmentExplanation>, String>,
    },
    /// Decoded frames (RGB8), for `Command::Frames`.
    Frames {
        tag: u64,
        frames: Vec<(f64, u32, u32, Vec<u8>)>,
    },
}

/// Handle held by the UI. Dropping it cancels the running work and joins the threads, so
/// LibTorch is never torn down under a running worker at exit.
pub struct Worker {
    tx: Option<Sender<Command>>,
    /// Frame decoding has a thread of its own, so keyframes never wait behind LIME.
    frames_tx: Option<Sender<Command>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    pub rx: Receiver<Message>,
    cancel: CancelToken,
}

impl Worker {
    /// Start the worker thread; `wake` is called after every message (request a repaint).
    pub fn start(threads: usize, force_cpu: bool, wake: impl Fn() + Send + Sync + 'static) -> Self {
        let (tx, crx) = channel::<Command>();
        let (mtx, rx) = channel::<Message>();
        let cancel = CancelToken::default();
        let worker_cancel = cancel.clone();
        let wake = std::sync::Arc::new(wake);
        let (frames_tx, frx) = channel::<Command>();
        let (fmtx, fwake) = (mtx.clone(), wake.clone());
        let frames = std::thread::Builder::new()
            .name("amuse-frames".into())
            .spawn(move || {
                while let Ok(cmd) = frx.recv() {
                    if let Command::Frames {
                        times,
                        video,
                        max_side,
                        tag,
                    } = cmd
                    {
                        if let Ok(frames) = decode::frames_at(&video, &times, max_side) {
                            let frames = frames
                                .into_iter()
                                .map(|f| (f.time, f.image.width(), f.image.height(), f.image.into_raw()))
                                .collect();
                            let _ = fmtx.send(Message::Frames { tag, frames });
                            fwake();
                        }
                    }
                }
            })
            .expect("spawning the frames thread");
        let worker = std::thread::Builder::new()
            .name("amuse-worker".into())
            .spawn(move || run(crx, mtx, worker_cancel, threads, force_cpu, move || wake()))
            .expect("spawning the worker thread");
        Self {
            tx: Some(tx),
            frames_tx: Some(frames_tx),
            threads: vec![worker, frames],
            rx,
            cancel,
        }
    }

    pub fn send(&self, cmd: Command) {
        let tx = match cmd {
            Command::Frames { .. } => &self.frames_tx,
            Command::Analyze { .. } => {
                self.cancel.reset();
                &self.tx
            }
            Command::Explain { .. } | Command::ExplainFace { .. } | Command::ExplainAudio { .. } => &self.tx,
        };
        if let Some(tx) = tx {
            let _ = tx.send(cmd);
        }
    }

    /// A worker that does nothing: for drawing stored results (snapshot tests), where no
    /// analysis runs. Commands are dropped and no message ever arrives.
    pub fn idle() -> Self {
        let (_, rx) = channel();
        Self {
            tx: None,
            frames_tx: None,
            threads: Vec::new(),
            rx,
            cancel: CancelToken::default(),
        }
    }

    /// Ask the running analysis to stop (it stops at the next utterance).
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.tx = None;
        self.frames_tx = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn run(
    rx: Receiver<Command>,
    tx: Sender<Message>,
    cancel: CancelToken,
    threads: usize,
    force_cpu: bool,
    wake: impl Fn(),
) {
    let send = |m: Message| {
        let _ = tx.send(m);
        wake();
    };
    let info = device::init(threads, force_cpu);
    let analyzer = Analyzer::load(info.device());
    send(Message::Ready {
        device: info,
        checkpoint: analyzer
            .as_ref()
            .map(|a| a.checkpoint_name.clone())
            .map_err(|e| format!("{e:#}")),
    });
    // The last analysed dialogue and its features, for explanations.
    let mut analysed: Option<(Dialogue, Vec<UtteranceFeatures>)> = None;
    while let Ok(cmd) = rx.recv() {
        match cmd {
            Command::Explain {
                utterance,
                samples,
                seed,
            } => {
                let (Ok(analyzer), Some((dialogue, features))) = (&analyzer, &analysed) else {
                    send(Message::ExplainFailed("nothing analysed yet".into()));
                    continue;
                };
                cancel.reset();
                match analyzer.explain_words(dialogue, features, utterance, None, samples, seed, &cancel) {
                    Ok(e) => send(Message::Explained(Box::new(e))),
                    Err(e) => send(Message::ExplainFailed(failure(&e))),
                }
            }
            Command::ExplainAudio {
                utterance,
                video,
                samples,
                seed,
            } => {
                let result = match (&analyzer, &analysed) {
                    (Ok(analyzer), Some((dialogue, features))) => {
                        cancel.reset();
                        analyzer
                            .explain_audio(&video, dialogue, features, utterance, None, samples, seed, &cancel)
                            .map(|(e, _)| Box::new(e))
                            .map_err(|e| failure(&e))
                    }
                    _ => Err("nothing analysed yet".into()),
                };
                send(Message::AudioExplained { utterance, result });
            }
            Command::ExplainFace {
                utterance,
                video,
                times,
            } => {
                let Ok(analyzer) = &analyzer else {
                    send(Message::FaceFailed {
                        utterance,
                        error: "models not loaded".into(),
                    });
                    continue;
                };
                let samples = crate::analysis::explain_face::FACE_SAMPLES;
                send(match analyzer.explain_face_in(&video, &times, samples, 0) {
                    Ok((frame, e)) => match e.overlay(&frame) {
                        Some(o) => Message::FaceExplained {
                            utterance,
                            overlay: (o.width(), o.height(), o.into_raw()),
                            explanation: Box::new(e),
                        },
                        None => Message::FaceFailed {
                            utterance,
                            error: "could not draw the face regions".into(),
                        },
                    },
                    Err(e) => Message::FaceFailed {
                        utterance,
                        error: format!("{e:#}"),
                    },
                });
            }
            Command::Analyze { video, transcript } => {
                let analyzer = match &analyzer {
                    Ok(a) => a,
                    Err(e) => {
                        send(Message::Failed {
                            video,
                            error: format!("models not loaded: {e:#}"),
                        });
                        continue;
                    }
                };
                let started = Instant::now();
                let mut last = Instant::now();
                let mut progress = |p: Progress| {
                    // Throttle: the UI needs a few updates a second, not one per frame.
                    if last.elapsed().as_millis() > 100 || p.done == p.total {
                        last = Instant::now();
                        send(Message::Progress {
                            progress: p,
                            elapsed: started.elapsed().as_secs_f64(),
                        });
                    }
                };
                match analyze(analyzer, &video, transcript.as_deref(), &mut progress, &cancel) {
                    Ok((result, dialogue, features)) => {
                        analysed = Some((dialogue, features));
                        send(Message::Done {
                            video,
                            result: Box::new(result),
                            seconds: started.elapsed().as_secs_f64(),
                        })
                    }
                    Err(e) if e.downcast_ref::<Cancelled>().is_some() => send(Message::Cancelled),
                    Err(e) => send(Message::Failed {
                        video,
                        error: format!("{e:#}"),
                    }),
                }
            }
            // Routed to the frames thread by `Worker::send`.
            Command::Frames { .. } => {}
        }
    }
}

/// An explanation's error as the viewer shows it ("cancelled" when the user cancelled).
fn failure(e: &anyhow::Error) -> String {
    if e.downcast_ref::<Cancelled>().is_some() {
        "cancelled".into()
    } else {
        format!("{e:#}")
    }
}

fn analyze(
    analyzer: &Analyzer,
    video: &std::path::Path,
    transcript_path: Option<&std::path::Path>,
    progress: &mut dyn FnMut(Progress),
    cancel: &CancelToken,
) -> anyhow::Result<(DialogueResult, Dialogue, Vec<UtteranceFeatures>)> {
    let dialogue = analyzer.dialogue(video, transcript_path, progress, cancel)?;
    let (features, notes) = analyzer.features(Some(video), &dialogue, progress, cancel)?;
    cancel.check()?;
    let result = analyzer.results(&dialogue, &features, notes, progress);
    Ok((result, dialogue, features))
}
