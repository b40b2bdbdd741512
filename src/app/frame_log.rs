//! The viewer's own benchmark (`AMUSE_FRAME_LOG=FILE amuse view …`): the window repaints
//! continuously, every frame's CPU time (eframe's measure: `App::ui` plus tessellation and
//! rendering, vsync excluded) is recorded with whether the analysis was running, and once
//! every prediction is in and the video has played a few seconds the viewer writes the
//! figures to FILE (and stderr) and closes:
//!
//! * cold start to first frame: from `app::run` to the first `ui` call (window, GL/wgpu
//!   and font set-up; LibTorch loads on the worker meanwhile);
//! * open to first and to all predictions (AMuSE predicts a dialogue at once, with its
//!   context, so the two coincide; both are logged so a streaming model would show);
//! * frame CPU time p50/p95 while the worker analyses, and after it while playing video.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Frames to play after the analysis before closing.
const PLAYING_FRAMES: usize = 100;

pub struct FrameLog {
    path: PathBuf,
    started: Instant,
    first_frame: Option<f64>,
    opened: Option<Instant>,
    predicted: Option<f64>,
    analysing: Vec<f32>,
    playing: Vec<f32>,
    /// Wall time between frames (what a user sees as smoothness), by phase.
    last: Option<Instant>,
    intervals: [Vec<f32>; 2],
    written: bool,
    /// Playback was started once the predictions were in.
    pub autoplayed: bool,
}

impl FrameLog {
    /// When `AMUSE_FRAME_LOG` names a file; `started` is when the app was asked to run.
    pub fn from_env(started: Instant) -> Option<Self> {
        let path = std::env::var_os("AMUSE_FRAME_LOG")?;
        Some(Self {
            path: path.into(),
            started,
            first_frame: None,
            opened: None,
            predicted: None,
            analysing: Vec::new(),
            playing: Vec::new(),
            last: None,
            intervals: [Vec::new(), Vec::new()],
            written: false,
            autoplayed: false,
        })
    }

    /// Record one frame. Returns true when the run is over (the app should close).
    pub fn frame(&mut self, cpu: Option<f32>, running: bool, predicted: bool, playing: bool) -> bool {
        let now = Instant::now();
        self.first_frame.get_or_insert((now - self.started).as_secs_f64());
        if running && self.opened.is_none() {
            self.opened = Some(now);
        }
        if predicted && self.predicted.is_none() {
            self.predicted = self.opened.map(|o| (now - o).as_secs_f64());
            eprintln!(
                "AMUSE_FRAME_LOG: predictions in after {:.2} s, {} frames while analysing; playing",
                self.predicted.unwrap_or(f64::NAN),
                self.analysing.len()
            );
        }
        if let Some(last) = self.last.replace(now) {
            let gap = (now - last).as_secs_f32();
            match (running, playing) {
                (true, _) => self.intervals[0].push(gap),
                (false, true) => self.intervals[1].push(gap),
                _ => {}
            }
        }
        match (cpu, running, playing) {
            (Some(c), true, _) => self.analysing.push(c),
            (Some(c), false, true) => self.playing.push(c),
            _ => {}
        }
        // Done after enough played frames, or when the video ended before that.
        let ended = self.autoplayed && !playing && !self.playing.is_empty();
        if (self.playing.len() >= PLAYING_FRAMES || ended) && !self.written {
            self.written = true;
            let report = self.report();
            eprint!("{report}");
            let written = std::fs::File::create(&self.path).and_then(|mut f| f.write_all(report.as_bytes()));
            if let Err(e) = written {
                eprintln!("AMUSE_FRAME_LOG: cannot write {}: {e}", self.path.display());
            }
            return true;
        }
        false
    }

    fn report(&self) -> String {
        let ms = |v: &[f32], q: f64| {
            let mut s = v.to_vec();
            s.sort_by(f32::total_cmp);
            let k = ((s.len() as f64 - 1.0) * q).round() as usize;
            s.get(k).map_or(f64::NAN, |x| f64::from(*x) * 1000.0)
        };
        let secs = |v: Option<f64>| v.map_or("n/a".into(), |s| format!("{s:.2} s"));
        format!(
            "cold start to first frame: {}\n\
             open to first prediction: {}\n\
             open to all predictions: {}\n\
             frame CPU while analysing: p50 {:.1} ms, p95 {:.1} ms ({} frames)\n\
             frame CPU while playing: p50 {:.1} ms, p95 {:.1} ms ({} frames)\n\
             frame interval while analysing: p50 {:.1} ms, p95 {:.1} ms\n\
             frame interval while playing: p50 {:.1} ms, p95 {:.1} ms\n",
            secs(self.first_frame),
            secs(self.predicted),
            secs(self.predicted),
            ms(&self.analysing, 0.5),
            ms(&self.analysing, 0.95),
            self.analysing.len(),
            ms(&self.playing, 0.5),
            ms(&self.playing, 0.95),
            self.playing.len(),
            ms(&self.intervals[0], 0.5),
            ms(&self.intervals[0], 0.95),
            ms(&self.intervals[1], 0.5),
            ms(&self.intervals[1], 0.95),
        )
    }
}
