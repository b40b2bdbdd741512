//! Transport controls above the picture: play/pause, previous/next utterance, and a seek
//! bar over the whole video with the playhead's time. The panel only reports what was asked
//! for; the app drives the player.

use crate::app::state::AppState;

/// What the user asked of the player.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    TogglePlay,
}

/// `mm:ss.s` for the time label.
fn clock(t: f64) -> String {
    let t = t.max(0.0);
    format!("{}:{:04.1}", (t / 60.0).floor() as u64, t % 60.0)
}

pub fn show(ui: &mut egui::Ui, state: &mut AppState, duration: Option<f64>) -> Option<Action> {
    let mut action = None;
    ui.horizontal(|ui| {
        if ui
            .button(if state.doc.playing { "Pause" } else { "Play" })
            .on_hover_text("Space")
            .clicked()
        {
            action = Some(Action::TogglePlay);
        }
        if ui.button("Prev").on_hover_text("previous utterance (←)").clicked() {
            state.step(-1);
        }
        if ui.button("Next").on_hover_text("next utterance (→)").clicked() {
            state.step(1);
        }
        let Some(end) = duration.filter(|d| *d > 0.0) else {
            ui.weak("opening the video…");
            return;
        };
        ui.label(format!("{} / {}", clock(state.doc.playhead), clock(end)));
        let mut t = state.doc.playhead.min(end);
        ui.spacing_mut().slider_width = (ui.available_width() - 8.0).max(60.0);
        let seek = ui
            .add(egui::Slider::new(&mut t, 0.0..=end).show_value(false))
            .on_hover_text("seek");
        if seek.changed() {
            state.seek(t);
        }
    });
    action
}
