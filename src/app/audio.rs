//! Sound output (rodio) on a thread of its own: the output device handle need not be
//! `Send`, and opening it can take a moment. Without a sound device, playback reports an
//! error once and the viewer carries on silently.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};

use crate::media::decode;

/// Playback sample rate.
const RATE: u32 = 44_100;

enum Cmd {
    Play { video: PathBuf, start: f64, end: f64 },
    Stop,
}

/// Handle for the UI.
pub struct AudioOut {
    tx: Sender<Cmd>,
    /// Errors (no device, no audio track), to show once.
    pub errors: Receiver<String>,
}

impl AudioOut {
    pub fn start() -> Self {
        let (tx, rx) = channel();
        let (etx, errors) = channel();
        let _ = std::thread::Builder::new()
            .name("amuse-audio".into())
            .spawn(move || run(rx, etx));
        Self { tx, errors }
    }

    /// Play `[start, end)` seconds of the video's audio (stops what is playing).
    pub fn play(&self, video: PathBuf, start: f64, end: f64) {
        let _ = self.tx.send(Cmd::Play { video, start, end });
    }

    pub fn stop(&self) {
        let _ = self.tx.send(Cmd::Stop);
    }
}

fn run(rx: Receiver<Cmd>, errors: Sender<String>) {
    let mut sink: Option<(rodio::MixerDeviceSink, rodio::Player)> = None;
    let mut reported = false;
    while let Ok(cmd) = rx.recv() {
        match cmd {
            Cmd::Stop => {
                if let Some((_, p)) = &sink {
                    p.clear();
                }
            }
            Cmd::Play { video, start, end } => {
                if sink.is_none() {
                    match rodio::DeviceSinkBuilder::open_default_sink() {
                        Ok(mut s) => {
                            s.log_on_drop(false);
                            let p = rodio::Player::connect_new(s.mixer());
                            sink = Some((s, p));
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
                let samples = match decode::audio(&video, start, end, RATE) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = errors.send(e.to_string());
                        continue;
                    }
                };
                if let Some((_, p)) = &sink {
                    p.clear();
                    let (Some(ch), Some(rate)) = (std::num::NonZero::new(1u16), std::num::NonZero::new(RATE)) else {
                        continue;
                    };
                    let data: Vec<rodio::Float> = samples.into_iter().map(|v| v as rodio::Float).collect();
                    p.append(rodio::buffer::SamplesBuffer::new(ch, rate, data));
                    p.play();
                }
            }
        }
    }
}
