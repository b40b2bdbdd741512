//! The viewer's layout, keyboard and menus; panels draw themselves (see `panels`).

use super::panels::{self, keyframe::Textures};
use super::playback::Playback;
use super::state::{AppState, Level};
use super::worker::Worker;
use super::Options;

pub struct ViewerApp {
    pub state: AppState,
    pub present: super::present::Presentation,
    textures: Textures,
    pub playback: Playback,
    /// Recent frame times (seconds), for the status bar.
    frame_times: Vec<f32>,
    last_frame: Option<std::time::Instant>,
    pub frames_drawn: u64,
    frame_log: Option<super::frame_log::FrameLog>,
}

impl ViewerApp {
    pub fn new(ctx: egui::Context, options: Options) -> Self {
        // A character no bundled font has (a speaker's name in another script, a symbol)
        // is drawn as a box instead of aborting the viewer.
        ctx.set_missing_glyph_policy(egui::MissingGlyphPolicy::Tofu);
        let wake_ctx = ctx.clone();
        let worker = Worker::start(options.threads, options.force_cpu, move || wake_ctx.request_repaint());
        let mut state = AppState::new(worker);
        if let Some(labels) = options.labels {
            state.doc.annotator.labels = labels;
        }
        if let Some(file) = options
            .file
            .or_else(|| Some(super::demo_video()).filter(|p| p.is_file()))
        {
            state.open(file);
        }
        // After opening: the selection belongs to the video it is for.
        state.doc.pending_select = options.utterance;
        Self {
            state,
            textures: Textures::default(),
            playback: Playback::start(ctx.clone()),
            frame_times: Vec::new(),
            last_frame: None,
            frames_drawn: 0,
            frame_log: super::frame_log::FrameLog::from_env(
                super::STARTED.get().copied().unwrap_or_else(std::time::Instant::now),
            ),
            present: Default::default(),
        }
    }

    fn keyboard(&mut self, ctx: &egui::Context) {
        use super::keymap::Action;
        for action in super::keymap::pressed(ctx) {
            match action {
                Action::Previous => self.state.step(-1),
                Action::Next => self.state.step(1),
                Action::First => self.state.select_first(),
                Action::Last => self.state.select_last(),
                Action::PlayPause => self.toggle_play(),
                Action::Open => self.open_dialog(),
                Action::ExplainWords => self
                    .state
                    .explain_selected(crate::analysis::explain_words::INTERACTIVE_SAMPLES),
                Action::FollowVoice => self.state.follow_voice(),
                Action::Presentation => self.present.toggle(ctx),
                Action::FrameBack | Action::FrameForward => {
                    self.playback.pause();
                    self.state.doc.video_view = false;
                    let last = self.state.doc.frames.len().saturating_sub(1);
                    self.state.doc.frame_index = match action {
                        Action::FrameForward => (self.state.doc.frame_index + 1).min(last),
                        _ => self.state.doc.frame_index.saturating_sub(1),
                    };
                }
                Action::Label(_)
                | Action::ClearLabel
                | Action::ToggleUnsure
                | Action::NextDisagreement
                | Action::Undo
                | Action::Redo => super::annotate::apply(action, &mut self.state),
            }
        }
    }

    /// `AMUSE_FRAME_LOG`: record the frame, repaint continuously, play the video once the
    /// predictions are in, close when the figures are written.
    fn log_frame(&mut self, ctx: &egui::Context, cpu: Option<f32>) {
        let predicted = self.state.doc.result.is_some();
        let Some(log) = &mut self.frame_log else { return };
        if log.frame(cpu, self.state.doc.running, predicted, self.playback.playing()) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        ctx.request_repaint();
        if predicted && !log.autoplayed {
            log.autoplayed = true;
            self.toggle_play();
        }
    }

    fn toggle_play(&mut self) {
        if self.playback.playing() {
            self.playback.pause();
        } else {
            self.playback.play();
            self.state.doc.video_view = true;
        }
        self.state.doc.playing = self.playback.playing();
    }

    /// Carry out seeks asked for by the panels, advance the playback, and select the
    /// utterance under the playhead while playing.
    fn tick_playback(&mut self, ctx: &egui::Context) {
        if self.state.doc.file.is_some() && self.state.doc.file.as_deref() != self.playback.file() {
            if let Some(f) = self.state.doc.file.clone() {
                self.playback.open(&f);
            }
        }
        if let Some(t) = self.state.doc.seek_request.take() {
            self.playback.seek(t);
        }
        let t = self.playback.tick(ctx);
        if let Some(e) = self.playback.error.take() {
            self.state.message(Level::Warning, format!("playback: {e}"));
        }
        self.state.doc.playing = self.playback.playing();
        if self.state.doc.playing || self.state.doc.video_view {
            self.state.doc.playhead = t;
        }
        if self.state.doc.playing {
            self.state.follow_playhead();
        }
    }

    fn open_dialog(&mut self) {
        if let Some(path) = rfd::FileDialog::new()
            .add_filter("video", &["mp4", "mkv", "avi", "flv", "webm", "mov"])
            .pick_file()
        {
            self.state.open(path);
        }
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if ui.button("Open…").on_hover_text("Ctrl+O").clicked() {
                self.open_dialog();
            }
            let recent = self.state.recent.clone();
            ui.menu_button("Recent", |ui| {
                for p in recent {
                    if ui.button(p.display().to_string()).clicked() {
                        self.state.open(p);
                        ui.close();
                    }
                }
            });
            if ui.button("Demo").clicked() {
                self.state.open(super::demo_video());
            }
            panels::annotate::export_menu(ui, &mut self.state);
            let presenting = self.present.on;
            if ui
                .selectable_label(presenting, "Presentation")
                .on_hover_text("F11: large fonts, a big explanation panel, auto-advance while playing")
                .clicked()
            {
                self.present.toggle(ui.ctx());
            }
            if ui.button("Save panel as PNG").clicked() {
                if let Some(path) = rfd::FileDialog::new()
                    .set_file_name("explanation.png")
                    .add_filter("png", &["png"])
                    .save_file()
                {
                    self.present.save_panel_png(ui.ctx(), path);
                }
            }
            ui.separator();
            match &self.state.doc.file {
                Some(f) => ui.strong(
                    f.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                ),
                None => ui.label("drop a video here or use Open…"),
            };
            if self.state.doc.running {
                ui.separator();
                let (p, eta) = self.state.overall_progress();
                let stage = self.state.doc.current_stage.map_or("loading models", |s| s.name());
                let eta = eta.map_or(String::new(), |e| format!(", ~{e:.0}s left"));
                ui.add(
                    egui::ProgressBar::new(p)
                        .desired_width(220.0)
                        .text(format!("{stage} {:.0}%{eta}", p * 100.0)),
                );
                if ui.button("Cancel").clicked() {
                    self.state.cancel();
                }
            }
        });
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            match &self.state.device {
                Some(d) => ui.label(format!("device: {}", d.name)),
                None => ui.label("starting LibTorch…"),
            };
            ui.separator();
            match &self.state.models {
                Some(Ok(c)) => {
                    let r = ui.selectable_label(self.state.checkpoint_window, format!("checkpoint: {}", c.name));
                    if r.clone().on_hover_text("what the checkpoint reads, its dev scores and how far its confidences can be trusted").clicked() {
                        self.state.checkpoint_window = !self.state.checkpoint_window;
                    }
                    r
                }
                Some(Err(_)) => {
                    ui.colored_label(egui::Color32::from_rgb(210, 60, 60), "models missing: run `make setup`")
                }
                None => ui.label("loading models…"),
            };
            if let Some(s) = self.state.doc.analysis_seconds {
                ui.separator();
                ui.label(format!("analysed in {s:.1}s"));
            }
            panels::annotate::status(ui, &self.state);
            if self.state.doc.result.as_ref().is_some_and(|r| r.transcribed) {
                ui.separator();
                ui.colored_label(
                    egui::Color32::from_rgb(220, 160, 30),
                    format!("transcribed by {}: no transcript was found", crate::transcribe::MODEL_NAME),
                )
                .on_hover_text("the text and speakers were produced automatically and may contain errors; `amuse transcribe <video> --srt` writes them beside the video for correction");
            }
            let mut sorted = self.frame_times.clone();
            sorted.sort_by(f32::total_cmp);
            if let Some(p50) = sorted.get(sorted.len() / 2) {
                ui.separator();
                ui.weak(format!("frame {:.1} ms", p50 * 1000.0));
            }
        });
    }

    fn messages(&mut self, ui: &mut egui::Ui) {
        let mut dismiss = None;
        for (k, (level, text)) in self.state.messages.iter().enumerate() {
            let colour = match level {
                Level::Error => egui::Color32::from_rgb(210, 60, 60),
                Level::Warning => egui::Color32::from_rgb(220, 160, 30),
                Level::Info => ui.visuals().text_color(),
            };
            ui.horizontal(|ui| {
                if ui.small_button("×").clicked() {
                    dismiss = Some(k);
                }
                ui.colored_label(colour, text);
            });
        }
        if let Some(k) = dismiss {
            self.state.messages.remove(k);
        }
    }
}

impl eframe::App for ViewerApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.log_frame(ui.ctx(), frame.info().cpu_usage);
        let now = std::time::Instant::now();
        if let Some(last) = self.last_frame.replace(now) {
            self.frame_times.push((now - last).as_secs_f32());
            if self.frame_times.len() > 120 {
                self.frame_times.remove(0);
            }
        }
        self.frames_drawn += 1;
        self.state.poll();
        while let Ok(e) = self.playback.audio.errors.try_recv() {
            self.state.message(Level::Warning, e);
        }
        let ctx = ui.ctx().clone();
        let dropped: Vec<_> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(path) = dropped.into_iter().next() {
            self.state.open(path);
        }
        self.keyboard(&ctx);
        for saved in self.present.finished() {
            match saved {
                Ok(p) => self.state.message(Level::Info, format!("saved {}", p.display())),
                Err(e) => self.state.message(Level::Error, e),
            }
        }
        self.tick_playback(&ctx);
        if self.state.doc.running {
            ctx.request_repaint_after(std::time::Duration::from_millis(200));
        }

        if let Some(Ok(summary)) = &self.state.models {
            let mut open = self.state.checkpoint_window;
            panels::checkpoint::window(&ctx, &mut open, summary);
            self.state.checkpoint_window = open;
        }
        egui::Panel::top("top").show(ui, |ui| self.top_bar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        egui::Panel::bottom("timeline")
            .resizable(true)
            .default_size(330.0)
            .show(ui, |ui| {
                ui.add_space(4.0);
                panels::timeline::show(ui, &mut self.state);
                ui.separator();
                let mut of = self.state.doc.trajectory_of.take();
                panels::trajectory::show(ui, &mut self.state, &mut of);
                self.state.doc.trajectory_of = of;
            });
        egui::Panel::left("table")
            .resizable(true)
            .default_size(520.0)
            .show(ui, |ui| {
                self.messages(ui);
                panels::annotate::agreement(ui, &self.state);
                panels::table::show(ui, &mut self.state);
            });
        let presenting = self.present.on;
        let explain = egui::Panel::right(if presenting { "explain_presenting" } else { "explain" })
            .resizable(true)
            .default_size(if presenting { 760.0 } else { 420.0 })
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| panels::explanation::show(ui, &mut self.state));
            });
        self.present.panel_rect = Some(explain.response.rect);
        egui::CentralPanel::default_margins().show(ui, |ui| {
            if panels::transport::show(ui, &mut self.state, self.playback.duration).is_some() {
                self.toggle_play();
            }
            match (&self.playback.frame, self.state.doc.video_view) {
                (Some((time, tex)), true) => {
                    panels::keyframe::show_video(ui, &mut self.state, &mut self.textures, tex, *time)
                }
                _ => panels::keyframe::show(ui, &mut self.state, &mut self.textures),
            }
        });
    }
}
