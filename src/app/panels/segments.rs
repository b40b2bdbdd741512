//! The audio-segment explanation of the selected utterance in the viewer: the 0.5 s
//! stretches of its audio that push the prediction (LIME over silenced segments, see
//! `analysis::explain_audio`), drawn as a green/red strip over the utterance's time span.
//!
//! Why on demand (a button, not on selection like the face): every distinct silencing
//! pattern is one pass of the audio encoder over a full 30 s Whisper window, so it costs
//! [`crate::analysis::explain_audio::AUDIO_SAMPLES`]' distinct patterns × one Whisper pass — minutes on a CPU, while the word
//! and face explanations take seconds. It runs on the worker like them and can be cancelled.

use crate::analysis::explain_audio::SegmentExplanation;
use crate::app::pending::Pending;
use crate::app::state::AppState;

/// One drawn segment of the strip: where, its colour, and its tooltip.
#[derive(Debug, Clone, PartialEq)]
pub struct StripPiece {
    pub rect: egui::Rect,
    pub colour: egui::Color32,
    pub tooltip: String,
}

/// The segments laid over `rect`, which spans the utterance's `span` (seconds): green where a
/// segment supports the explained label, red where it detracts, alpha ∝ |weight| / max
/// |weight| (the word and face explanations' colouring); a segment LIME did not select is
/// drawn faint grey.
pub fn strip(e: &SegmentExplanation, span: (f64, f64), rect: egui::Rect) -> Vec<StripPiece> {
    let (start, end) = span;
    let length = (end - start).max(1e-9);
    let x = |t: f64| rect.left() + (((t - start) / length).clamp(0.0, 1.0) as f32) * rect.width();
    let max = e
        .segments
        .iter()
        .filter_map(|s| s.weight)
        .map(f64::abs)
        .fold(0.0, f64::max);
    let label = e.fit.label.name();
    e.segments
        .iter()
        .map(|s| {
            let rect = egui::Rect::from_x_y_ranges(x(s.start)..=x(s.end), rect.y_range());
            let time = format!("{:.2}–{:.2} s", s.start, s.end);
            match s.weight {
                Some(w) => StripPiece {
                    rect,
                    colour: crate::app::overlays::weight_colour(w, max, 0.85),
                    tooltip: format!(
                        "{time}: weight {w:+.4} ({} “{label}”)",
                        if w >= 0.0 { "supports" } else { "against" }
                    ),
                },
                None => StripPiece {
                    rect,
                    colour: egui::Color32::from_gray(128).gamma_multiply(0.25),
                    tooltip: format!("{time}: not selected by LIME"),
                },
            }
        })
        .collect()
}

/// The strip, its fit, or the button that asks for it.
pub fn show(ui: &mut egui::Ui, state: &mut AppState, i: usize, span: (f64, f64)) {
    match state.doc.audio_explanations.get(&i) {
        None => {
            let cost = "each distinct silencing pattern is one Whisper pass over the utterance \
                        (a few seconds for a 3 s utterance on a CPU); the word and face explanations wait behind it";
            if ui.button("explain audio segments").on_hover_text(cost).clicked() {
                state.explain_audio_selected();
            }
        }
        Some(Pending::Running) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("explaining the audio segments (one Whisper pass per pattern)…");
                if ui.small_button("cancel").clicked() {
                    state.worker.cancel(crate::app::worker::Job::Audio(i));
                }
            });
        }
        Some(Pending::Failed(e)) => {
            ui.weak(format!("audio segments: {e}"));
        }
        Some(Pending::Ready(e)) => {
            ui.strong(format!("why “{}”: audio segments (LIME)", e.fit.label.name()))
                .on_hover_text("0.5 s stretches of the utterance's audio silenced, re-encoded by the audio encoder and pushed through the full model with its dialogue");
            let width = ui.available_width().min(360.0);
            let (rect, _) = ui.allocate_exact_size(egui::vec2(width, 18.0), egui::Sense::hover());
            ui.painter().rect_filled(rect, 2.0, ui.visuals().faint_bg_color);
            for (k, piece) in strip(e, span, rect).into_iter().enumerate() {
                ui.painter()
                    .rect_filled(piece.rect.shrink2(egui::vec2(0.5, 0.0)), 1.0, piece.colour);
                let r = ui.interact(
                    piece.rect,
                    ui.make_persistent_id(("audio segment", i, k)),
                    egui::Sense::hover(),
                );
                let tip = piece.tooltip.clone();
                r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::GraphicsObject, true, &tip));
                r.on_hover_text(piece.tooltip);
            }
            ui.horizontal(|ui| {
                ui.weak(format!("{:.2} s", span.0));
                ui.add_space((width - 90.0).max(0.0));
                ui.weak(format!("{:.2} s", span.1));
            });
            ui.weak(format!(
                "{} samples ({} distinct), local R² {:.2}, {:.0}s",
                e.fit.samples, e.fit.evaluated, e.fit.score, e.fit.seconds
            ));
        }
    }
}
