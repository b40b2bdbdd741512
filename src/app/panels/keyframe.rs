//! The picture: the selected utterance's keyframes (stepping with , and .) or, while the
//! video plays, the played frame. Toggleable overlays: the faces MTCNN found (the speaker's
//! highlighted) and their landmarks, the face regions tinted by the face explanation's LIME
//! weights, and the background's SLIC superpixels (see `app::overlays`).

use crate::app::overlays::{self, Superpixels};
use crate::app::pending::Pending;
use crate::app::state::AppState;

/// Seconds within which a keyframe's faces (or the face explanation) are drawn on a played
/// frame: faces barely move within a few frames of a close-up.
const NEAR: f64 = 0.2;

/// GPU textures of the shown keyframes and overlays, re-uploaded when the frames change.
#[derive(Default)]
pub struct Textures {
    generation: u64,
    handles: Vec<egui::TextureHandle>,
    superpixels: Superpixels,
    /// The face-region tint of an utterance's face explanation, by (run, utterance): an
    /// utterance of another opened video has the same index.
    face: Option<((u64, usize), egui::TextureHandle)>,
    /// The superpixel tint of an utterance's back-frame explanation, by (run, utterance).
    back: Option<((u64, usize), egui::TextureHandle)>,
}

pub fn show(ui: &mut egui::Ui, state: &mut AppState, textures: &mut Textures) {
    if textures.generation != state.doc.frames_generation || textures.handles.len() != state.doc.frames.len() {
        textures.handles = state
            .doc
            .frames
            .iter()
            .enumerate()
            .map(|(k, f)| {
                ui.ctx()
                    .load_texture(format!("keyframe{k}"), f.image.clone(), egui::TextureOptions::LINEAR)
            })
            .collect();
        textures.generation = state.doc.frames_generation;
    }
    let (Some(result), Some(i)) = (&state.doc.result, state.doc.selected) else {
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
    let k = state.doc.frame_index.min(textures.handles.len() - 1);
    let tex = textures.handles[k].clone();
    let time = state.doc.frames[k].time;
    if state.overlays.superpixels {
        let images: Vec<egui::ColorImage> = state.doc.frames.iter().map(|f| f.image.clone()).collect();
        textures
            .superpixels
            .request(state.doc.frames_generation, &images, ui.ctx());
    }
    picture(ui, state, textures, &tex, time, Some(k));
    // Wrapped: the centre can be narrow between the table and the explanation panel.
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("keyframe {}/{} at {time:.2}s", k + 1, textures.handles.len()));
        toggles(ui, state);
    });
}

/// The played frame at `time` with the overlays of the keyframe nearest to it.
pub fn show_video(
    ui: &mut egui::Ui,
    state: &mut AppState,
    textures: &mut Textures,
    tex: &egui::TextureHandle,
    time: f64,
) {
    let keyframe = state.doc.selected.and_then(|i| {
        let u = state.doc.result.as_ref()?.utterances.get(i)?;
        let (k, t) = u
            .keyframe_times
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 - time).abs().total_cmp(&(b.1 - time).abs()))?;
        ((t - time).abs() <= NEAR).then_some(k)
    });
    picture(ui, state, textures, tex, time, keyframe);
    // Wrapped: the centre can be narrow between the table and the explanation panel.
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("video at {time:.2}s"));
        toggles(ui, state);
    });
}

fn toggles(ui: &mut egui::Ui, state: &mut AppState) {
    ui.checkbox(&mut state.overlays.faces, "faces");
    ui.checkbox(&mut state.overlays.landmarks, "landmarks");
    ui.checkbox(&mut state.overlays.face_regions, "face regions")
        .on_hover_text(
            "the face explanation's regions: green supports the explained prediction (AMuSE's, when the checkpoint reads faces; else the expression encoder's), red detracts (alpha ∝ |weight|)",
        );
    let hover = if state.reads_back_frames() {
        "SLIC superpixels of the background, as LIME perturbs them; on the keyframe the background was explained on, tinted: green supports AMuSE's prediction, red detracts (alpha ∝ |weight|)"
    } else {
        "SLIC superpixels of the background, as LIME perturbs them; outlines only: this checkpoint does not read back frames, so the background does not enter its prediction and is not coloured"
    };
    ui.checkbox(&mut state.overlays.superpixels, "superpixels")
        .on_hover_text(hover);
}

/// Draw a frame scaled to the space left and the overlays that belong to it: faces of
/// keyframe `k` of the selected utterance, its face explanation when taken near `time`,
/// superpixels of keyframe `k` when shown as a keyframe.
fn picture(
    ui: &mut egui::Ui,
    state: &AppState,
    textures: &mut Textures,
    tex: &egui::TextureHandle,
    time: f64,
    k: Option<usize>,
) -> egui::Rect {
    let size = tex.size_vec2();
    let avail = ui.available_size() - egui::vec2(0.0, 24.0);
    let scale = (avail.x / size.x).min(avail.y / size.y).clamp(0.05, 4.0);
    let rect = ui.add(egui::Image::new((tex.id(), size * scale))).rect;
    let (Some(result), Some(i)) = (&state.doc.result, state.doc.selected) else {
        return rect;
    };
    let painter = ui.painter_at(rect);
    let to_screen = |x: f32, y: f32| rect.min + egui::vec2(x, y) * scale;
    let full = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
    // Superpixels are of the keyframes: not drawn over played frames. The keyframe the
    // background was explained on shows the explanation's superpixels, tinted.
    if let (true, false, Some(k)) = (state.overlays.superpixels, state.doc.video_view, k) {
        let explained = match state.doc.backs.get(&i) {
            Some(Pending::Ready(e)) if (e.time - time).abs() <= 1e-3 => Some(e),
            _ => None,
        };
        if let Some(e) = explained {
            if textures.back.as_ref().is_none_or(|(u, _)| *u != (state.doc.run, i)) {
                textures.back = overlays::back_superpixels(e).map(|im| {
                    let t = ui
                        .ctx()
                        .load_texture("back-superpixels", im, egui::TextureOptions::NEAREST);
                    ((state.doc.run, i), t)
                });
            }
            if let Some((_, t)) = &textures.back {
                painter.image(t.id(), rect, full, egui::Color32::WHITE);
            }
        } else if let Some(sp) = textures.superpixels.texture(state.doc.frames_generation, k, ui.ctx()) {
            painter.image(sp.id(), rect, full, egui::Color32::WHITE);
        }
    }
    if let (true, Some(Pending::Ready(view))) = (state.overlays.face_regions, state.doc.faces.get(&i)) {
        let e = &view.explanation;
        if (e.time - time).abs() <= NEAR {
            if textures.face.as_ref().is_none_or(|(u, _)| *u != (state.doc.run, i)) {
                textures.face = overlays::face_regions(e).map(|im| {
                    (
                        (state.doc.run, i),
                        ui.ctx().load_texture("face-regions", im, egui::TextureOptions::NEAREST),
                    )
                });
            }
            if let Some((_, t)) = &textures.face {
                let [x1, y1, x2, y2] = e.crop.map(|v| v as f32);
                let r = egui::Rect::from_min_max(to_screen(x1, y1), to_screen(x2, y2));
                painter.image(t.id(), r, full, egui::Color32::WHITE);
            }
        }
    }
    let Some(kf) = k.and_then(|k| result.utterances[i].keyframes.get(k)) else {
        return rect;
    };
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
    rect
}
