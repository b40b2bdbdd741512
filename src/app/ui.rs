//! Drawing the viewer: top bar, central area, status bar.

use super::state::AppState;
use super::Options;

pub struct ViewerApp {
    state: AppState,
}

impl ViewerApp {
    pub fn new(ctx: egui::Context, options: Options) -> Self {
        let file = options
            .file
            .or_else(|| Some(super::demo_video()).filter(|p| p.is_file()));
        let wake = move || ctx.request_repaint();
        Self {
            state: AppState::new(file, options.threads, options.force_cpu, wake),
        }
    }
}

impl eframe::App for ViewerApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.state.poll();
        let dropped: Vec<_> = ui.ctx().input(|i| {
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
        egui::Panel::top("top").show(ui, |ui| {
            ui.horizontal(|ui| {
                if ui.button("Open…").clicked() {
                    if let Some(path) = rfd::FileDialog::new()
                        .add_filter("video", &["mp4", "mkv", "avi", "flv", "webm", "mov"])
                        .pick_file()
                    {
                        self.state.open(path);
                    }
                }
                ui.separator();
                match &self.state.file {
                    Some(f) => ui.label(f.display().to_string()),
                    None => ui.label("no file open — drop a video here or use Open…"),
                };
            });
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| match &self.state.device {
                Some(d) => ui.label(format!("device: {}", d.name)),
                None => ui.label("starting LibTorch…"),
            });
        });
        egui::CentralPanel::default_margins().show(ui, |ui| {
            for msg in &self.state.messages {
                ui.colored_label(egui::Color32::from_rgb(200, 60, 60), msg);
            }
            if let Some(report) = &self.state.health {
                ui.heading("Installation");
                ui.monospace(crate::doctor::render(report));
            }
        });
    }
}
