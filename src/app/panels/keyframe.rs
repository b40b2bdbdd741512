//! The keyframe view: the selected utterance's keyframes with the faces MTCNN found
//! (the speaker's face highlighted, landmarks as dots), stepping with the playback.

use crate::app::state::AppState;

/// GPU textures of the shown keyframes, re-uploaded when the frames change.
#[derive(Default)]
pub struct Textures {
    generation: u64,
    handles: Vec<egui::TextureHandle>,
}

pub fn show(ui: &mut egui::Ui, state: &mut AppState, textures: &mut Textures) {
    if textures.generation != state.frames_generation || textures.handles.len() != state.frames.len() {
        textures.handles = state
            .frames
            .iter()
            .enumerate()
            .map(|(k, f)| {
                ui.ctx()
                    .load_texture(format!("keyframe{k}"), f.image.clone(), egui::TextureOptions::LINEAR)
            })
            .collect();
        textures.generation = state.frames_generation;
    }
    let (Some(result), Some(i)) = (&state.result, state.selected) else {
        ui.centered_and_justified(|ui| ui.label("no utterance selected"));
        return;
    };
    let u = &result.utterances[i];
    if textures.handles.is_empty() {
        ui.centered_and_justified(|ui| {
            ui.label(if u.keyframe_times.is_empty() {
                "no video frames for this utterance"
            } else {
                "decoding keyframes…"
            })
        });
        return;
    }
    let k = state.frame_index.min(textures.handles.len() - 1);
    let tex = &textures.handles[k];
    let size = tex.size_vec2();
    let avail = ui.available_size() - egui::vec2(0.0, 24.0);
    let scale = (avail.x / size.x).min(avail.y / size.y).clamp(0.05, 4.0);
    let response = ui.add(egui::Image::new((tex.id(), size * scale)));
    let rect = response.rect;
    if let Some(kf) = u.keyframes.get(k) {
        let painter = ui.painter_at(rect);
        let to_screen = |x: f32, y: f32| rect.min + egui::vec2(x, y) * scale;
        for (j, f) in kf.faces.iter().enumerate() {
            let speaker = kf.speaker == Some(j);
            if state.overlays.faces {
                let r = egui::Rect::from_min_max(to_screen(f.bbox[0], f.bbox[1]), to_screen(f.bbox[2], f.bbox[3]));
                let c = if speaker {
                    egui::Color32::from_rgb(80, 220, 120)
                } else {
                    egui::Color32::from_gray(200)
                };
                painter.rect_stroke(r, 2.0, egui::Stroke::new(2.0, c), egui::StrokeKind::Outside);
                painter.text(
                    r.left_top() - egui::vec2(0.0, 2.0),
                    egui::Align2::LEFT_BOTTOM,
                    format!("{}{:.2}", if speaker { "speaker " } else { "" }, f.prob),
                    egui::FontId::proportional(11.0),
                    c,
                );
            }
            if state.overlays.landmarks {
                for [x, y] in f.landmarks {
                    painter.circle_filled(to_screen(x, y), 2.5, egui::Color32::from_rgb(255, 200, 0));
                }
            }
        }
    }
    ui.horizontal(|ui| {
        ui.label(format!(
            "keyframe {}/{} at {:.2}s",
            k + 1,
            textures.handles.len(),
            state.frames[k].time
        ));
        ui.checkbox(&mut state.overlays.faces, "faces");
        ui.checkbox(&mut state.overlays.landmarks, "landmarks");
        let faces = u.keyframes.get(k).map_or(0, |kf| kf.faces.len());
        ui.weak(format!("{faces} face(s)"));
    });
}
