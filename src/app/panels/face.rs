//! The face explanation of the selected utterance in the viewer: requested from the worker
//! when an utterance is selected (it takes a fraction of a second, so it goes ahead of the
//! word explanation), kept per utterance, drawn by the explanation panel; and, for
//! checkpoints that read back frames, the background explanation's summary (its
//! superpixels are tinted on the picture).

use crate::analysis::explain_face::{FaceExplanation, Target};
use crate::analysis::explain_visual::BackExplanation;
use crate::app::pending::Pending;

/// A finished face explanation with its tinted crop (plain pixels; the texture is made on
/// first draw).
pub struct FaceView {
    pub explanation: FaceExplanation,
    pub image: egui::ColorImage,
    pub texture: Option<egui::TextureHandle>,
}

impl FaceView {
    pub fn new(explanation: FaceExplanation, (w, h, rgb): (u32, u32, Vec<u8>)) -> Self {
        Self {
            explanation,
            image: egui::ColorImage::from_rgb([w as usize, h as usize], &rgb),
            texture: None,
        }
    }

    /// The tinted crop as a texture (uploaded once).
    pub fn texture(&mut self, ctx: &egui::Context) -> &egui::TextureHandle {
        let (image, slot) = (&self.image, &mut self.texture);
        slot.get_or_insert_with(|| ctx.load_texture("face-explanation", image.clone(), egui::TextureOptions::LINEAR))
    }
}

/// Draw the face regions with their weights (the crop tinted green/red, then a table).
pub fn show(ui: &mut egui::Ui, state: Option<&mut Pending<Box<FaceView>>>) {
    match state {
        None => {}
        Some(Pending::Running) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("explaining the face…");
            });
        }
        Some(Pending::Failed(e)) => {
            ui.weak(format!("face: {e}"));
        }
        Some(Pending::Ready(view)) => {
            let e = view.explanation.clone();
            let (heading, hover) = match e.explains {
                Target::Expression => (
                    format!("face regions: why the expression encoder reads “{}”", e.label.name()),
                    "LIME over facial regions placed where the paper's action units act (from MTCNN landmarks); regions, not detected AUs. This checkpoint does not read faces: the expression encoder's reading is evidence shown beside the prediction, not part of it.",
                ),
                Target::Fused => (
                    format!("face regions: why AMuSE predicts “{}” (p = {:.2})", e.label.name(), e.probability),
                    "LIME over facial regions placed where the paper's action units act (from MTCNN landmarks), switched off in the speaker's face of every keyframe at once and pushed through the expression encoder and the full model in its dialogue: the fused prediction, not a side model. Regions, not detected AUs.",
                ),
                Target::Head => (
                    format!("face regions: why the visual head reads “{}”", e.label.name()),
                    "LIME over facial regions, through the expression encoder and the visual Central head.",
                ),
            };
            ui.strong(heading).on_hover_text(hover);
            ui.horizontal(|ui| {
                let tex = view.texture(ui.ctx());
                let size = tex.size_vec2();
                let scale = (120.0 / size.y.max(1.0)).min(3.0);
                ui.image((tex.id(), size * scale));
                ui.vertical(|ui| {
                    for r in &e.regions {
                        let colour = if r.weight >= 0.0 {
                            egui::Color32::from_rgb(60, 170, 60)
                        } else {
                            egui::Color32::from_rgb(210, 60, 60)
                        };
                        ui.colored_label(colour, format!("{:<16} {:+.3}", r.name, r.weight))
                            .on_hover_text(&r.action_units);
                    }
                    ui.weak(format!("{} samples, R² {:.2}, at {:.2} s", e.samples, e.score, e.time));
                });
            });
        }
    }
}

/// The background explanation's state: under way, why there is none, or what it explains
/// (the superpixels themselves are tinted on the picture, "superpixels" on).
pub fn show_back(ui: &mut egui::Ui, state: &Pending<Box<BackExplanation>>) {
    match state {
        Pending::Running => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("explaining the background…");
            });
        }
        Pending::Failed(e) => {
            ui.weak(format!("background: {e}"));
        }
        Pending::Ready(e) => {
            let (support, against) = (
                e.weights.iter().filter(|(_, w)| *w > 0.0).count(),
                e.weights.iter().filter(|(_, w)| *w < 0.0).count(),
            );
            ui.strong(format!(
                "background: why AMuSE predicts “{}” (p = {:.2})",
                e.label.name(),
                e.probability
            ))
            .on_hover_text(
                "LIME over SLIC superpixels of the back frame (the keyframe with the faces removed), each switched \
                 off by filling it with its mean colour and pushed through the scene encoder and the full model in its dialogue. Tick \
                 “superpixels” to see them tinted on the keyframe: green supports the prediction, red detracts.",
            );
            ui.weak(format!(
                "{support} superpixels for, {against} against; {} samples, R² {:.2}, keyframe at {:.2} s",
                e.samples, e.score, e.time
            ));
        }
    }
}
