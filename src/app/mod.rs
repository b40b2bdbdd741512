//! The desktop viewer (eframe/egui).
//!
//! Kept apart as in rerun's viewer: [`state`] holds what the app knows, the panels draw it,
//! and background work (model checks now; the analysis pipeline as it lands) runs on worker
//! threads that send plain data over channels. The UI thread never touches a tensor.

pub mod annotate;
pub mod audio;
pub mod background;
pub mod frame_log;
pub mod jobs;
pub mod keymap;
pub mod messages;
pub mod navigate;
pub mod overlays;
pub mod panels;
pub mod pending;
pub mod playback;
pub mod present;
pub mod state;
pub mod ui;
pub mod video;
pub mod worker;

use std::path::PathBuf;

use anyhow::anyhow;

/// How the viewer was asked to start.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A video to open at start; the bundled demo dialogue when `None`.
    pub file: Option<PathBuf>,
    pub threads: usize,
    pub force_cpu: bool,
    /// Utterance (0-based) to select once the analysis is done.
    pub utterance: Option<usize>,
    /// Label set of new annotation sidecars (MELD's seven when `None`).
    pub labels: Option<amuse_formats::annotations::LabelSet>,
}

/// The demo dialogue shipped in `assets/`.
pub fn demo_video() -> PathBuf {
    crate::paths::demo_video()
}

/// When [`run`] was called (the cold-start figure of `AMUSE_FRAME_LOG`).
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Open the viewer window and run until it is closed.
pub fn run(options: Options) -> anyhow::Result<()> {
    STARTED.get_or_init(std::time::Instant::now);
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("AMuSE viewer")
            .with_inner_size([1400.0, 900.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "AMuSE viewer",
        native,
        Box::new(move |cc| Ok(Box::new(ui::ViewerApp::new(cc.egui_ctx.clone(), options)))),
    )
    // eframe::Error is not Send: turn it into text before it meets anyhow.
    .map_err(|e| anyhow!("could not open a window: {e} (is a display available? try `xvfb-run`)"))
}
