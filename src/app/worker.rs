//! The analysis worker: a background thread that owns LibTorch (encoders + model) and runs
//! the pipeline. The UI sends it commands and receives plain data; it never blocks on it.

use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::time::Instant;

use super::background::Background;
pub use super::jobs::Job;
use super::jobs::Jobs;
pub use super::messages::{Command, Envelope, Message, Run};
use super::pending::Failure;
use crate::analysis::explain_visual::BACK_SAMPLES;
use crate::analysis::Analyzer;
use crate::device;
use crate::features::extract::UtteranceFeatures;
use crate::media::decode;
use crate::media::transcript::Dialogue;
use crate::progress::{CancelToken, Cancelled, Progress};

/// Handle held by the UI. Dropping it cancels the running work and joins the threads, so
/// LibTorch is never torn down under a running worker at exit.
pub struct Worker {
    /// Each command travels with the cancel token of its job (see [`Jobs`]).
    tx: Option<Sender<(Command, CancelToken)>>,
    /// Frame decoding has a thread of its own, so keyframes never wait behind LIME.
    frames_tx: Option<Sender<Command>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    pub rx: Receiver<Envelope>,
    jobs: std::sync::Arc<Jobs>,
}

impl Worker {
    /// Start the worker thread; `wake` is called after every message (request a repaint).
    pub fn start(threads: usize, force_cpu: bool, wake: impl Fn() + Send + Sync + 'static) -> Self {
        let (tx, crx) = channel::<(Command, CancelToken)>();
        let (mtx, rx) = channel::<Envelope>();
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
                            let message = Message::Frames { tag, frames };
                            let _ = fmtx.send(Envelope { run: None, message });
                            fwake();
                        }
                    }
                }
            })
            .expect("spawning the frames thread");
        let jobs = std::sync::Arc::new(Jobs::default());
        let worker_jobs = jobs.clone();
        let worker = std::thread::Builder::new()
            .name("amuse-worker".into())
            .spawn(move || run(crx, mtx, threads, force_cpu, &worker_jobs, move || wake()))
            .expect("spawning the worker thread");
        Self {
            tx: Some(tx),
            frames_tx: Some(frames_tx),
            threads: vec![worker, frames],
            rx,
            jobs,
        }
    }

    pub fn send(&self, cmd: Command) {
        let job = match &cmd {
            Command::Frames { .. } => {
                if let Some(tx) = &self.frames_tx {
                    let _ = tx.send(cmd);
                }
                return;
            }
            Command::Analyze { .. } => Some(Job::Analysis),
            Command::Explain { .. } => Some(Job::Words),
            Command::ExplainAudio { utterance, .. } => Some(Job::Audio(*utterance)),
            Command::ExplainBack { .. } => Some(Job::Back),
            // A few seconds at most: not cancellable.
            Command::ExplainFace { .. } | Command::Focus { .. } => None,
        };
        // The user's command goes ahead of the explanations made in the background.
        self.jobs.cancel(Job::Background);
        let token = job.map(|j| self.jobs.start(j)).unwrap_or_default();
        if let Some(tx) = &self.tx {
            let _ = tx.send((cmd, token));
        }
    }

    /// A worker that does nothing: for drawing stored results (snapshot tests), where no
    /// analysis runs. Commands are dropped and no message ever arrives.
    pub fn idle() -> Self {
        Self::loopback().0
    }

    /// A worker that runs nothing and reports what is sent on the returned sender: for tests
    /// of how the viewer applies the worker's messages.
    pub fn loopback() -> (Self, Sender<Envelope>) {
        let (tx, rx) = channel();
        let worker = Self {
            tx: None,
            frames_tx: None,
            threads: Vec::new(),
            rx,
            jobs: Default::default(),
        };
        (worker, tx)
    }

    /// Stop this job, running or queued (an analysis stops at the next utterance).
    pub fn cancel(&self, job: Job) {
        self.jobs.cancel(job);
    }

    /// Stop every job sent so far.
    pub fn cancel_all(&self) {
        self.jobs.cancel_all();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.jobs.cancel_all();
        self.tx = None;
        self.frames_tx = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn run(
    rx: Receiver<(Command, CancelToken)>,
    tx: Sender<Envelope>,
    threads: usize,
    force_cpu: bool,
    jobs: &Jobs,
    wake: impl Fn(),
) {
    let send = |run: Option<Run>, message: Message| {
        let _ = tx.send(Envelope { run, message });
        wake();
    };
    let info = device::init(threads, force_cpu);
    let analyzer = Analyzer::load(info.device());
    send(
        None,
        Message::Ready {
            device: info,
            checkpoint: analyzer
                .as_ref()
                .map(|a| crate::analysis::result::CheckpointSummary::of(&a.checkpoint_name, &a.model.info))
                .map_err(|e| format!("{e:#}")),
        },
    );
    // The last analysis, for explanations, and what is left to explain in the background.
    let mut analysed: Option<Analysed> = None;
    let mut background: Option<Background> = None;
    let cache = crate::analysis::explain_cache::default_dir();
    loop {
        // Wait for a command only when there is nothing to explain in the background.
        let next = match background.as_ref().is_some_and(|b| !b.is_done()) {
            true => match rx.try_recv() {
                Ok(c) => Some(c),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => break,
            },
            false => match rx.recv() {
                Ok(c) => Some(c),
                Err(_) => break,
            },
        };
        let Some((cmd, cancel)) = next else {
            if let Some(b) = background.as_mut() {
                explain_ahead(&analyzer, &analysed, b, &cache, jobs, &send);
            }
            continue;
        };
        match cmd {
            Command::Focus { run, utterance } => {
                if let Some(b) = background.as_mut().filter(|b| b.run == run) {
                    b.focus(utterance);
                }
            }
            Command::Explain {
                run,
                utterance,
                samples,
                seed,
            } => {
                let video = background.as_ref().filter(|b| b.run == run).map(|b| b.video.clone());
                let result = ready(&analyzer, &analysed, run).and_then(|(analyzer, dialogue, features)| {
                    analyzer
                        .explain_words_cached(
                            &cache,
                            video.as_deref(),
                            dialogue,
                            features,
                            utterance,
                            samples,
                            seed,
                            &cancel,
                        )
                        .map(|(e, _)| e)
                        .map_err(|e| failure(&e))
                });
                send(
                    Some(run),
                    match result {
                        Ok(e) => Message::Explained(Box::new(e)),
                        Err(failure) => Message::ExplainFailed { utterance, failure },
                    },
                );
            }
            Command::ExplainAudio {
                run,
                utterance,
                video,
                samples,
                seed,
            } => {
                let result = ready(&analyzer, &analysed, run).and_then(|(analyzer, dialogue, features)| {
                    analyzer
                        .explain_audio(&video, dialogue, features, utterance, None, samples, seed, &cancel)
                        .map(|(e, _)| Box::new(e))
                        .map_err(|e| failure(&e))
                });
                send(Some(run), Message::AudioExplained { utterance, result });
            }
            Command::ExplainBack { run, utterance, video } => {
                let result = ready(&analyzer, &analysed, run).and_then(|(analyzer, dialogue, features)| {
                    let (samples, target) = (BACK_SAMPLES, crate::analysis::explain_face::Target::Fused);
                    analyzer
                        .explain_back(&video, dialogue, features, utterance, target, samples, 0, &cancel)
                        .map(|(_, e)| Box::new(e))
                        .map_err(|e| failure(&e))
                });
                send(Some(run), Message::BackExplained { utterance, result });
            }
            Command::ExplainFace {
                run,
                utterance,
                video,
                times,
            } => {
                let samples = crate::analysis::explain_face::FACE_SAMPLES;
                let drawn = match &analyzer {
                    // A checkpoint that reads faces: explain its prediction by the face rows
                    // it reads; otherwise the expression encoder's reading (evidence).
                    Ok(a) if a.model.info.reads_stream("face") => ready(&analyzer, &analysed, run)
                        .and_then(|(a, dialogue, features)| {
                            let target = crate::analysis::explain_face::Target::Fused;
                            a.explain_face_fused(&video, dialogue, features, utterance, target, samples, 0, &cancel)
                                .map_err(|e| failure(&e))
                        })
                        .and_then(|(frame, e)| match e.overlay(&frame) {
                            Some(o) => Ok((e, o)),
                            None => Err(Failure::Error("could not draw the face regions".into())),
                        }),
                    Ok(analyzer) => analyzer
                        .explain_face_in(&video, &times, samples, 0)
                        .map_err(|e| failure(&e))
                        .and_then(|(frame, e)| match e.overlay(&frame) {
                            Some(o) => Ok((e, o)),
                            None => Err(Failure::Error("could not draw the face regions".into())),
                        }),
                    Err(_) => Err(Failure::Error("models not loaded".into())),
                };
                send(
                    Some(run),
                    match drawn {
                        Ok((e, o)) => Message::FaceExplained {
                            utterance,
                            overlay: (o.width(), o.height(), o.into_raw()),
                            explanation: Box::new(e),
                        },
                        Err(failure) => Message::FaceFailed { utterance, failure },
                    },
                );
            }
            Command::Analyze { run, video, transcript } => {
                let analyzer = match &analyzer {
                    Ok(a) => a,
                    Err(e) => {
                        let error = format!("models not loaded: {e:#}");
                        send(Some(run), Message::Failed { error });
                        continue;
                    }
                };
                // Explanations of an earlier run must not be computed from this one's.
                analysed = None;
                let started = Instant::now();
                let mut last = Instant::now();
                let mut progress = |p: Progress| {
                    // Throttle: the UI needs a few updates a second, not one per frame.
                    if last.elapsed().as_millis() > 100 || p.done == p.total {
                        last = Instant::now();
                        let elapsed = started.elapsed().as_secs_f64();
                        send(Some(run), Message::Progress { progress: p, elapsed });
                    }
                };
                background = None;
                let message = match analyzer.run(&video, transcript.as_deref(), true, &mut progress, &cancel) {
                    Ok(crate::analysis::Analysis {
                        dialogue,
                        features,
                        result,
                    }) => {
                        background = Some(Background::new(run, video.clone(), features.len(), None));
                        analysed = Some((run, dialogue, features));
                        Message::Done {
                            video,
                            result: Box::new(result),
                            seconds: started.elapsed().as_secs_f64(),
                        }
                    }
                    Err(e) if e.downcast_ref::<Cancelled>().is_some() => Message::Cancelled,
                    Err(e) => Message::Failed {
                        error: format!("{e:#}"),
                    },
                };
                send(Some(run), message);
            }
            // Routed to the frames thread by `Worker::send`.
            Command::Frames { .. } => {}
        }
    }
}

/// Explain the next utterance of the background queue (through the disk cache) and report
/// it; an interrupted one goes back to the front, a failed one is left (the user can still
/// ask for it and see why).
fn explain_ahead(
    analyzer: &anyhow::Result<Analyzer>,
    analysed: &Option<Analysed>,
    b: &mut Background,
    cache: &std::path::Path,
    jobs: &Jobs,
    send: &dyn Fn(Option<Run>, Message),
) {
    let Ok((analyzer, dialogue, features)) = ready(analyzer, analysed, b.run) else {
        while b.next_utterance().is_some() {}
        return;
    };
    let Some(i) = b.next_utterance() else { return };
    let token = jobs.start(Job::Background);
    let samples = crate::analysis::explain_words::INTERACTIVE_SAMPLES;
    match analyzer.explain_words_cached(cache, Some(&b.video), dialogue, features, i, samples, 0, &token) {
        Ok((e, _)) => send(Some(b.run), Message::Explained(Box::new(e))),
        Err(e) if e.downcast_ref::<Cancelled>().is_some() => b.requeue(i),
        Err(e) => tracing::debug!("background explanation of utterance {} failed: {e:#}", i + 1),
    }
}

/// The last analysis: its run, dialogue and features.
type Analysed = (Run, Dialogue, Vec<UtteranceFeatures>);

/// The models and run `run`'s analysis, if explanations can be computed from them.
fn ready<'a>(
    analyzer: &'a anyhow::Result<Analyzer>,
    analysed: &'a Option<Analysed>,
    run: Run,
) -> Result<(&'a Analyzer, &'a Dialogue, &'a [UtteranceFeatures]), Failure> {
    let Ok(analyzer) = analyzer else {
        return Err(Failure::Error("models not loaded".into()));
    };
    match analysed {
        Some((r, d, f)) if *r == run => Ok((analyzer, d, f)),
        _ => Err(Failure::Error(
            "this video's analysis is not ready (open it again)".into(),
        )),
    }
}

fn failure(e: &anyhow::Error) -> Failure {
    Failure::of(e)
}
