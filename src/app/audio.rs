//! Sound output (rodio) on a thread of its own: the output device handle need not be
//! `Send`, and opening it can take a moment. Audio is decoded in short chunks just ahead of
//! the device, so a whole episode plays in constant memory, and the thread publishes where
//! the device is in the media ([`AudioClock`]) so the picture can follow the sound. Without a
//! sound device, playback reports an error once, the clock stays empty and the viewer plays
//! silently on the wall clock.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::media::decode;

/// Playback sample rate.
const RATE: u32 = 44_100;
/// Seconds decoded at a time, and how many chunks are kept queued ahead of the device.
const CHUNK: f64 = 2.0;
const AHEAD: usize = 2;

enum Cmd {
    Play {
        video: PathBuf,
        start: f64,
        end: f64,
        generation: u64,
    },
    Stop,
}

/// Where the sound device is: media seconds at an instant (`None`: nothing is sounding),
/// with the generation of the `play` it belongs to, so a reading of a span that was just
/// replaced is never taken for the new one.
#[derive(Clone, Default)]
pub struct AudioClock(Arc<Mutex<(u64, Option<Reading>)>>);

/// Media seconds heard at an instant.
type Reading = (f64, Instant);

impl AudioClock {
    /// The media time being heard now, extrapolated from the last reading.
    pub fn now(&self) -> Option<f64> {
        let (_, reading) = *self.0.lock().ok()?;
        reading.map(|(t, at)| t + at.elapsed().as_secs_f64())
    }

    /// Forget the reading and start a new generation (returned).
    fn restart(&self) -> u64 {
        let Ok(mut g) = self.0.lock() else { return 0 };
        *g = (g.0 + 1, None);
        g.0
    }

    fn set(&self, generation: u64, value: Option<f64>) {
        if let Ok(mut g) = self.0.lock() {
            if g.0 == generation {
                g.1 = value.map(|t| (t, Instant::now()));
            }
        }
    }
}

/// Handle for the UI.
pub struct AudioOut {
    tx: Sender<Cmd>,
    /// Errors (no device, no audio track), to show once.
    pub errors: Receiver<String>,
    pub clock: AudioClock,
}

impl AudioOut {
    pub fn start() -> Self {
        let (tx, rx) = channel();
        let (etx, errors) = channel();
        let clock = AudioClock::default();
        let thread_clock = clock.clone();
        let _ = std::thread::Builder::new()
            .name("amuse-audio".into())
            .spawn(move || run(rx, etx, thread_clock));
        Self { tx, errors, clock }
    }

    /// Play `[start, end)` seconds of the video's audio (`end` may be infinite: to the end
    /// of the track); stops what is playing.
    pub fn play(&self, video: PathBuf, start: f64, end: f64) {
        let generation = self.clock.restart();
        let _ = self.tx.send(Cmd::Play {
            video,
            start,
            end,
            generation,
        });
    }

    pub fn stop(&self) {
        self.clock.restart();
        let _ = self.tx.send(Cmd::Stop);
    }
}

/// A span being played: what is queued on the device and what comes next.
struct Stream {
    video: PathBuf,
    player: rodio::Player,
    /// Media start and length of each chunk handed to the player, oldest first.
    queued: VecDeque<(f64, f64)>,
    next: f64,
    end: f64,
    exhausted: bool,
    generation: u64,
}

impl Stream {
    /// Keep `AHEAD` chunks queued; decoding stops at the span's end or the track's.
    fn fill(&mut self, errors: &Sender<String>) {
        while !self.exhausted && self.player.len() < AHEAD {
            let to = (self.next + CHUNK).min(self.end);
            let samples = match decode::audio(&self.video, self.next, to, RATE) {
                Ok(s) => s,
                Err(e) => {
                    let _ = errors.send(e.to_string());
                    Vec::new()
                }
            };
            let (Some(ch), Some(rate)) = (std::num::NonZero::new(1u16), std::num::NonZero::new(RATE)) else {
                return;
            };
            let seconds = samples.len() as f64 / f64::from(RATE);
            // A short chunk is the end of the track (or of the span).
            self.exhausted = seconds + 1e-3 < to - self.next || to >= self.end;
            if !samples.is_empty() {
                let data: Vec<rodio::Float> = samples.into_iter().map(|v| v as rodio::Float).collect();
                self.player.append(rodio::buffer::SamplesBuffer::new(ch, rate, data));
                self.queued.push_back((self.next, seconds));
            }
            self.next = to;
        }
    }

    /// Media time at the device: the playing chunk's start plus rodio's position in it.
    fn position(&mut self) -> Option<f64> {
        while self.queued.len() > self.player.len() {
            self.queued.pop_front();
        }
        let (start, _) = self.queued.front()?;
        Some(start + self.player.get_pos().as_secs_f64())
    }
}

fn run(rx: Receiver<Cmd>, errors: Sender<String>, clock: AudioClock) {
    let mut device: Option<rodio::MixerDeviceSink> = None;
    let mut reported = false;
    let mut stream: Option<Stream> = None;
    loop {
        let cmd = match rx.recv_timeout(Duration::from_millis(15)) {
            Ok(c) => Some(c),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        match cmd {
            Some(Cmd::Stop) => stream = None,
            Some(Cmd::Play {
                video,
                start,
                end,
                generation,
            }) => {
                stream = None;
                // Without a device, say so once and stay silent (no retry on every seek).
                if device.is_none() && !reported {
                    match rodio::DeviceSinkBuilder::open_default_sink() {
                        Ok(mut s) => {
                            s.log_on_drop(false);
                            device = Some(s);
                        }
                        Err(e) => {
                            if !reported {
                                let _ = errors.send(format!("no sound output ({e}); playback is silent"));
                                reported = true;
                            }
                            continue;
                        }
                    }
                }
                if let Some(d) = &device {
                    // A fresh player per span: dropping the old one stops it at once.
                    let player = rodio::Player::connect_new(d.mixer());
                    player.play();
                    stream = Some(Stream {
                        video,
                        player,
                        queued: VecDeque::new(),
                        next: start.max(0.0),
                        end,
                        exhausted: false,
                        generation,
                    });
                }
            }
            None => {}
        }
        if let Some(s) = &mut stream {
            s.fill(&errors);
            let position = s.position();
            clock.set(s.generation, position);
            if position.is_none() && s.exhausted {
                stream = None;
            }
        }
    }
}
