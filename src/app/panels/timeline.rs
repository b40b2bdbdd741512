//! ELAN-like timeline: one lane per speaker, each utterance a block coloured by the
//! predicted emotion, the ground truth as a thin stripe, the playhead as a line; click a
//! block to select (and seek to) its utterance, click between blocks to seek there.

use super::colour;
use crate::app::state::AppState;

pub fn show(ui: &mut egui::Ui, state: &mut AppState) {
    let Some(result) = &state.doc.result else { return };
    let mut speakers = result.speakers();
    if result.utterances.iter().any(|u| u.speaker.is_none()) {
        speakers.push("?".into());
    }
    let end = result.utterances.iter().map(|u| u.end).fold(1.0, f64::max);
    let lane_h = 22.0;
    let label_w = 80.0;
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), lane_h * speakers.len() as f32 + 18.0),
        egui::Sense::click(),
    );
    let painter = ui.painter_at(rect);
    let x_of = |t: f64| rect.left() + label_w + (rect.width() - label_w) * (t / end) as f32;
    let mut clicked = None;
    for (lane, s) in speakers.iter().enumerate() {
        let y = rect.top() + lane as f32 * lane_h;
        painter.text(
            egui::pos2(rect.left() + 4.0, y + lane_h / 2.0),
            egui::Align2::LEFT_CENTER,
            s,
            egui::FontId::proportional(12.0),
            ui.visuals().text_color(),
        );
        for (i, u) in result.utterances.iter().enumerate() {
            if u.speaker.as_deref().unwrap_or("?") != s {
                continue;
            }
            let block = egui::Rect::from_min_max(
                egui::pos2(x_of(u.start), y + 3.0),
                egui::pos2(x_of(u.end).max(x_of(u.start) + 2.0), y + lane_h - 3.0),
            );
            painter.rect_filled(block, 2.0, colour(u.predicted()));
            if let Some(l) = u.label {
                let stripe =
                    egui::Rect::from_min_max(egui::pos2(block.left(), block.bottom() - 4.0), block.right_bottom());
                painter.rect_filled(stripe, 0.0, colour(l));
            }
            if state.doc.selected == Some(i) {
                painter.rect_stroke(
                    block.expand(1.5),
                    2.0,
                    egui::Stroke::new(2.0, ui.visuals().strong_text_color()),
                    egui::StrokeKind::Outside,
                );
            }
            if response.clicked() && response.interact_pointer_pos().is_some_and(|p| block.contains(p)) {
                clicked = Some(i);
            }
        }
    }
    // Time axis.
    let axis_y = rect.top() + lane_h * speakers.len() as f32 + 10.0;
    let step = if end > 120.0 {
        30.0
    } else if end > 30.0 {
        10.0
    } else {
        5.0
    };
    let mut t = 0.0;
    while t <= end {
        painter.text(
            egui::pos2(x_of(t), axis_y),
            egui::Align2::CENTER_CENTER,
            format!("{t:.0}s"),
            egui::FontId::proportional(10.0),
            ui.visuals().weak_text_color(),
        );
        t += step;
    }
    let head = x_of(state.doc.playhead);
    painter.line_segment(
        [egui::pos2(head, rect.top()), egui::pos2(head, axis_y - 6.0)],
        egui::Stroke::new(1.5, ui.visuals().strong_text_color()),
    );
    match (
        clicked,
        response.clicked().then(|| response.interact_pointer_pos()).flatten(),
    ) {
        (Some(i), _) => state.select(i),
        (None, Some(p)) if p.x > rect.left() + label_w => {
            state.seek(f64::from((p.x - rect.left() - label_w) / (rect.width() - label_w)) * end);
        }
        _ => {}
    }
}
