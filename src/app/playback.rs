//! Playback of the open video with sound: the playhead, play/pause/seek, and the frame on
//! screen. Picture follows sound: while playing, the playhead is the audio device's
//! position ([`AudioClock`](super::audio::AudioClock)), and frames from the video feed are
//! shown when their time comes. Without a sound device (headless, no card) the playhead runs
//! on the wall clock instead. Decoding happens on the feed's and the audio's threads; this
//! only swaps a texture, so the UI thread never waits.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::audio::AudioOut;
use super::video::{Feed, VideoFeed};

/// Longest side of played frames: the keyframes' size, so face boxes map onto both alike.
pub const PLAY_SIDE: u32 = 640;

pub struct Playback {
    feed: VideoFeed,
    pub audio: AudioOut,
    file: Option<PathBuf>,
    /// Length of the open video (seconds), once the feed has probed it.
    pub duration: Option<f64>,
    /// Frames of an older seek still in the feed's queue are dropped by generation.
    generation: u64,
    shown_generation: u64,
    /// The playhead when paused; where playing started otherwise (and when).
    anchor: f64,
    started: Option<Instant>,
    ahead: VecDeque<(f64, egui::ColorImage)>,
    /// The frame on screen: its time and texture.
    pub frame: Option<(f64, egui::TextureHandle)>,
    /// Why the video cannot be played (shown once by the app).
    pub error: Option<String>,
}

impl Playback {
    pub fn start(ctx: egui::Context) -> Self {
        Self {
            feed: VideoFeed::start(move || ctx.request_repaint()),
            audio: AudioOut::start(),
            file: None,
            duration: None,
            generation: 0,
            shown_generation: 0,
            anchor: 0.0,
            started: None,
            ahead: VecDeque::new(),
            frame: None,
            error: None,
        }
    }

    /// Open a video, paused at its start.
    pub fn open(&mut self, video: &Path) {
        self.pause();
        self.file = Some(video.to_path_buf());
        self.duration = None;
        self.frame = None;
        self.feed.open(video.to_path_buf(), PLAY_SIDE);
        self.seek(0.0);
    }

    /// The open video.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    pub fn playing(&self) -> bool {
        self.started.is_some()
    }

    /// The playhead in seconds.
    pub fn position(&self) -> f64 {
        let t = match self.started {
            None => self.anchor,
            Some(at) => (self.audio.clock.now()).unwrap_or_else(|| self.anchor + at.elapsed().as_secs_f64()),
        };
        self.duration.map_or(t, |d| t.min(d))
    }

    pub fn play(&mut self) {
        let Some(file) = self.file.clone() else { return };
        if self.playing() {
            return;
        }
        if self.duration.is_some_and(|d| self.anchor >= d - 0.05) {
            self.seek(0.0); // at the end: start over
        }
        self.started = Some(Instant::now());
        self.audio.play(file, self.anchor, f64::INFINITY);
    }

    pub fn pause(&mut self) {
        if self.playing() {
            self.anchor = self.position();
            self.started = None;
            self.audio.stop();
        }
    }

    /// Move the playhead to `t` seconds (playing carries on from there).
    pub fn seek(&mut self, t: f64) {
        let t = self.duration.map_or(t, |d| t.min(d)).max(0.0);
        self.anchor = t;
        self.generation += 1;
        self.ahead.clear();
        self.feed.seek(t, self.generation);
        if self.playing() {
            self.started = Some(Instant::now());
            if let Some(file) = self.file.clone() {
                self.audio.play(file, t, f64::INFINITY);
            }
        }
    }

    /// Take what the feed has decoded, show the frame due at the playhead, stop at the end.
    /// Returns the playhead.
    pub fn tick(&mut self, ctx: &egui::Context) -> f64 {
        while self.ahead.len() < 3 {
            match self.feed.rx.try_recv() {
                Ok(Feed::Opened { duration }) => self.duration = Some(duration),
                Ok(Feed::Failed(e)) => self.error = Some(e),
                Ok(Feed::Frame {
                    generation,
                    time,
                    image,
                }) => {
                    if generation == self.generation {
                        self.ahead.push_back((time, image));
                    }
                }
                Err(_) => break,
            }
        }
        let t = self.position();
        let mut due = None;
        while let Some((time, _)) = self.ahead.front() {
            // The first frame after a seek is the one on screen at the target: show it even
            // when the video starts a little after the playhead.
            if *time <= t + 0.005 || self.shown_generation != self.generation {
                due = self.ahead.pop_front();
                self.shown_generation = self.generation;
            } else {
                break;
            }
        }
        if let Some((time, image)) = due {
            match &mut self.frame {
                Some((shown, tex)) => {
                    *shown = time;
                    tex.set(image, egui::TextureOptions::LINEAR);
                }
                None => self.frame = Some((time, ctx.load_texture("playback", image, egui::TextureOptions::LINEAR))),
            }
        }
        if self.playing() {
            if self.duration.is_some_and(|d| t >= d - 1e-3) {
                self.pause();
            } else {
                let next = self.ahead.front().map_or(0.01, |(time, _)| (time - t).clamp(0.0, 0.04));
                ctx.request_repaint_after(std::time::Duration::from_secs_f64(next));
            }
        }
        t
    }
}
