//! What the viewer knows, independent of how it is drawn.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver};

use crate::device::{self, DeviceInfo};
use crate::doctor::{self, Report};

/// Messages from worker threads to the UI: plain data only.
#[derive(Debug)]
pub enum WorkerMsg {
    /// The installation check finished.
    Health(Report),
}

/// The viewer's state.
pub struct AppState {
    pub file: Option<PathBuf>,
    pub device: Option<DeviceInfo>,
    pub health: Option<Report>,
    pub messages: Vec<String>,
    rx: Receiver<WorkerMsg>,
}

impl AppState {
    /// Start the viewer's state; device set-up and the model check run on a worker thread
    /// (hashing the model files takes a second or two) and `wake` is called when they finish.
    pub fn new(file: Option<PathBuf>, threads: usize, force_cpu: bool, wake: impl Fn() + Send + 'static) -> Self {
        let (tx, rx) = channel();
        std::thread::Builder::new()
            .name("amuse-health".into())
            .spawn(move || {
                let info = device::init(threads, force_cpu);
                let _ = tx.send(WorkerMsg::Health(doctor::inspect(info)));
                wake();
            })
            .expect("spawning a thread");
        Self {
            file,
            device: None,
            health: None,
            messages: Vec::new(),
            rx,
        }
    }

    /// Apply every pending worker message (non-blocking).
    pub fn poll(&mut self) {
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                WorkerMsg::Health(report) => {
                    if !report.healthy() {
                        self.messages.push(match &report.models {
                            Err(e) => e.clone(),
                            Ok(_) => format!("some model files are missing or corrupt: {}", crate::manifest::FIX_HINT),
                        });
                    }
                    self.device = Some(report.device.clone());
                    self.health = Some(report);
                }
            }
        }
    }

    /// Open a file chosen by the user (dialog or drag-and-drop).
    pub fn open(&mut self, path: PathBuf) {
        if !path.is_file() {
            self.messages.push(format!("{} is not a readable file", path.display()));
            return;
        }
        self.file = Some(path);
    }
}
