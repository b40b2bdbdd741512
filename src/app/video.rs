//! The video feed for playback: a thread that decodes frames of the open video in order
//! from the playhead on (FFmpeg, [`decode::FrameStream`]), converts them to display pixels,
//! and hands them over through a short bounded queue. The queue is the only buffer: the
//! thread decodes a few frames ahead of the picture and then waits, so memory stays constant
//! on long videos and the UI thread only swaps textures.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::{channel, sync_channel, Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::time::Duration;

use crate::media::decode::{self, FrameStream};

/// Frames decoded ahead of the picture (~0.25 s at 25 fps).
const AHEAD: usize = 6;

enum Cmd {
    Open {
        video: PathBuf,
        max_side: u32,
    },
    /// Frames from `time` on, tagged `generation` (older frames in the queue are stale).
    Seek {
        time: f64,
        generation: u64,
    },
}

/// What the feed hands to the UI (plain pixels; the texture is made on the UI thread).
pub enum Feed {
    Frame {
        generation: u64,
        time: f64,
        image: egui::ColorImage,
    },
    /// The open video's length in seconds, once probed.
    Opened {
        duration: f64,
    },
    Failed(String),
}

/// The UI's handle; dropping it ends the thread.
pub struct VideoFeed {
    tx: Sender<Cmd>,
    pub rx: Receiver<Feed>,
}

impl VideoFeed {
    /// Start the thread; `wake` is called when a frame is queued (request a repaint).
    pub fn start(wake: impl Fn() + Send + 'static) -> Self {
        let (tx, crx) = channel();
        let (ftx, rx) = sync_channel(AHEAD);
        let _ = std::thread::Builder::new()
            .name("amuse-video".into())
            .spawn(move || run(crx, ftx, wake));
        Self { tx, rx }
    }

    pub fn open(&self, video: PathBuf, max_side: u32) {
        let _ = self.tx.send(Cmd::Open { video, max_side });
    }

    pub fn seek(&self, time: f64, generation: u64) {
        let _ = self.tx.send(Cmd::Seek { time, generation });
    }
}

fn run(rx: Receiver<Cmd>, tx: SyncSender<Feed>, wake: impl Fn()) {
    let mut stream: Option<FrameStream> = None;
    let mut generation = 0;
    // Items the queue had no room for yet.
    let mut outbox: VecDeque<Feed> = VecDeque::new();
    let mut ended = true;
    loop {
        // Wait for a command when there is nothing to decode or hand over; otherwise peek.
        let cmd = if ended && outbox.is_empty() {
            match rx.recv() {
                Ok(c) => Some(c),
                Err(_) => return, // the UI is gone
            }
        } else {
            let wait = if outbox.is_empty() { 0 } else { 5 };
            match rx.recv_timeout(Duration::from_millis(wait)) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        match cmd {
            Some(Cmd::Open { video, max_side }) => {
                outbox.clear();
                ended = true;
                let opened =
                    decode::probe(&video).and_then(|info| Ok((info.duration, FrameStream::open(&video, max_side)?)));
                outbox.push_back(match opened {
                    Ok((duration, s)) => {
                        stream = Some(s);
                        Feed::Opened { duration }
                    }
                    Err(e) => {
                        stream = None;
                        Feed::Failed(e.to_string())
                    }
                });
            }
            Some(Cmd::Seek { time, generation: g }) => {
                generation = g;
                outbox.retain(|f| !matches!(f, Feed::Frame { .. }));
                if let Some(s) = &mut stream {
                    s.seek(time);
                    ended = false;
                }
            }
            None => {}
        }
        if outbox.is_empty() && !ended {
            match stream.as_mut().and_then(|s| s.next_frame()) {
                Some(Ok(f)) => outbox.push_back(Feed::Frame {
                    generation,
                    time: f.time,
                    image: egui::ColorImage::from_rgb(
                        [f.image.width() as usize, f.image.height() as usize],
                        f.image.as_raw(),
                    ),
                }),
                Some(Err(e)) => {
                    ended = true;
                    outbox.push_back(Feed::Failed(e.to_string()));
                }
                None => ended = true,
            }
        }
        while let Some(item) = outbox.pop_front() {
            match tx.try_send(item) {
                Ok(()) => wake(),
                Err(TrySendError::Full(item)) => {
                    outbox.push_front(item);
                    break;
                }
                Err(TrySendError::Disconnected(_)) => return,
            }
        }
    }
}
