//! One module per panel of the viewer.
pub mod annotate;
pub mod checkpoint;
pub mod explanation;
pub mod face;
pub mod keyframe;
pub mod segments;
pub mod table;
pub mod timeline;
pub mod trajectory;
pub mod transport;

use crate::emotion::Emotion;

/// The viewer colour of an emotion.
pub fn colour(e: Emotion) -> egui::Color32 {
    let [r, g, b] = e.rgb();
    egui::Color32::from_rgb(r, g, b)
}

/// Horizontal probability bars for the seven classes.
pub fn prob_bars(ui: &mut egui::Ui, probs: &[f32; 7], width: f32) {
    for e in Emotion::ALL {
        let p = probs[e.index()];
        ui.horizontal(|ui| {
            ui.add_sized([64.0, 14.0], egui::Label::new(egui::RichText::new(e.name()).small()));
            let (rect, _) = ui.allocate_exact_size(egui::vec2(width, 12.0), egui::Sense::hover());
            ui.painter().rect_filled(rect, 2.0, ui.visuals().faint_bg_color);
            let mut bar = rect;
            bar.set_width(rect.width() * p.clamp(0.0, 1.0));
            ui.painter().rect_filled(bar, 2.0, colour(e));
            ui.label(egui::RichText::new(format!("{:.0}%", p * 100.0)).small());
        });
    }
}
