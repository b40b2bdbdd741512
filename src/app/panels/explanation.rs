//! The explanation panel for the selected utterance (the paper's Fig. 2): the fused AMuSE
//! prediction, the per-modality Central head predictions (T, A, V), the face-expression
//! evidence, and the transcript.

use super::colour;
use crate::app::state::AppState;
use crate::emotion::Emotion;
use crate::model::amuse::Modality;

/// Green for support, red against, alpha ∝ |weight| / max |weight| (as the picture's
/// overlays).
fn weight_colour(w: f64, max: f64) -> egui::Color32 {
    crate::app::overlays::weight_colour(w, max, 200.0 / 255.0)
}

/// The transcript with LIME word weights, the weights as bars, and the fit quality.
fn words(ui: &mut egui::Ui, state: &mut AppState, i: usize) {
    let running = state
        .doc
        .explanations
        .values()
        .any(crate::app::pending::Pending::is_running);
    match state.doc.explanations.get(&i) {
        Some(crate::app::pending::Pending::Ready(e)) => {
            let max = e.top.iter().map(|(_, w)| w.abs()).fold(0.0, f64::max);
            ui.strong(format!("why “{}”: words (LIME)", e.fit.label.name()));
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing.x = 0.0;
                for (piece, w) in &e.pieces {
                    let mut text = egui::RichText::new(piece).size(16.0);
                    if let Some(w) = w {
                        text = text.background_color(weight_colour(*w, max));
                    }
                    let r = ui.label(text);
                    if let Some(w) = w {
                        r.on_hover_text(format!("weight {w:+.4}"));
                    }
                }
            });
            for (word, w) in &e.top {
                ui.horizontal(|ui| {
                    ui.add_sized([90.0, 14.0], egui::Label::new(egui::RichText::new(word).small()));
                    let (rect, _) = ui.allocate_exact_size(egui::vec2(160.0, 12.0), egui::Sense::hover());
                    let centre = rect.center().x;
                    let len = (w.abs() / max.max(1e-9)) as f32 * rect.width() / 2.0;
                    let bar = if *w >= 0.0 {
                        egui::Rect::from_min_max(
                            egui::pos2(centre, rect.top()),
                            egui::pos2(centre + len, rect.bottom()),
                        )
                    } else {
                        egui::Rect::from_min_max(
                            egui::pos2(centre - len, rect.top()),
                            egui::pos2(centre, rect.bottom()),
                        )
                    };
                    ui.painter()
                        .rect_filled(bar, 1.0, weight_colour(*w, max.max(1e-9) * 0.6));
                    ui.painter().line_segment(
                        [egui::pos2(centre, rect.top()), egui::pos2(centre, rect.bottom())],
                        ui.visuals().widgets.noninteractive.bg_stroke,
                    );
                    ui.label(egui::RichText::new(format!("{w:+.3}")).small());
                });
            }
            ui.weak(format!(
                "{} samples ({} distinct), local R² {:.2}, {:.1}s",
                e.fit.samples, e.fit.evaluated, e.fit.score, e.fit.seconds
            ));
            if !running
                && ui
                    .button(format!("explain again with {} samples", (e.fit.samples * 4).min(5000)))
                    .clicked()
            {
                state.explain_selected((e.fit.samples * 4).min(5000));
            }
        }
        Some(crate::app::pending::Pending::Running) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("explaining the words (LIME)…");
            });
        }
        Some(crate::app::pending::Pending::Failed(e)) => {
            ui.weak(format!("words: {e}"));
        }
        None => {
            if !running && ui.button("explain words (E)").clicked() {
                state.explain_selected(crate::analysis::explain_words::INTERACTIVE_SAMPLES);
            }
        }
    }
}

pub fn show(ui: &mut egui::Ui, state: &mut AppState) {
    let (Some(result), Some(i)) = (&state.doc.result, state.doc.selected) else {
        ui.label("select an utterance");
        return;
    };
    let Some(u) = result.utterances.get(i) else { return };
    ui.horizontal_wrapped(|ui| {
        ui.strong(format!("#{} {}", i + 1, u.speaker.as_deref().unwrap_or("?")));
        ui.label(format!("{:.2}–{:.2}s", u.start, u.end));
        let p = u.predicted();
        ui.colored_label(
            colour(p),
            egui::RichText::new(format!("{} {:.0}%", p.name(), u.confidence() * 100.0)).strong(),
        );
        if let Some(l) = u.label {
            let agree = l == p;
            ui.label(format!("truth: {}", l.name()));
            ui.colored_label(
                if agree {
                    egui::Color32::from_rgb(60, 170, 60)
                } else {
                    egui::Color32::from_rgb(210, 60, 60)
                },
                if agree { "agrees" } else { "differs" },
            );
        }
    });
    let has_voice = u.voice.is_some();
    // The audio strip is offered when the checkpoint's audio head saw this utterance.
    let audio_span = u.modality_probs[1].is_some().then_some((u.start, u.end));
    if has_voice && state.doc.filter.voice_of != Some(i) && ui
        .button("follow this voice (V)")
        .on_hover_text("show only the utterances spoken in the same voice (speaker context by voice, useful when the transcript's names are missing or wrong)")
        .clicked()
    {
        state.follow_voice();
    }
    ui.separator();
    probabilities(ui, state, i);
    ui.separator();
    super::annotate::editor(ui, state, i);
    ui.separator();
    words(ui, state, i);
    if let Some(span) = audio_span {
        ui.separator();
        crate::app::panels::segments::show(ui, state, i, span);
    }
    if state.doc.faces.contains_key(&i) {
        ui.separator();
        crate::app::panels::face::show(ui, state.doc.faces.get_mut(&i));
    }
    if let Some(back) = state.doc.backs.get(&i) {
        crate::app::panels::face::show_back(ui, back);
    }
}

/// The fused prediction, each modality's Central head and the expression encoder's reading of
/// the face, side by side: one row per emotion, one small bar per column, so that the whole
/// of Fig. 2's prediction part fits above the explanations.
fn probabilities(ui: &mut egui::Ui, state: &AppState, i: usize) {
    let Some(result) = &state.doc.result else { return };
    let Some(u) = result.utterances.get(i) else { return };
    let mut columns: Vec<(String, [f32; 7], String)> = vec![(
        "AMuSE".into(),
        u.probs,
        "the fused prediction, with the dialogue's and the speaker's context (calibrated)".into(),
    )];
    for (m, name) in Modality::ALL.iter().map(|m| m.name()).enumerate() {
        if let Some(p) = u.modality_probs[m] {
            columns.push((
                (*name).into(),
                p,
                format!("the {name} Central head alone (its own modality, attending to the others)"),
            ));
        }
    }
    if let Some(f) = u.face_expression {
        let hover = if result.reads_faces {
            "the expression encoder (a CNN trained on FER+) on the speaker's face, averaged over keyframes; the checkpoint reads these face features through its visual branch"
        } else {
            "the expression encoder (a CNN trained on FER+) on the speaker's face, averaged over keyframes; evidence shown beside the prediction, not fused by this checkpoint"
        };
        columns.push(("face expr.".into(), f, hover.into()));
    }
    let unused: Vec<&str> = Modality::ALL
        .iter()
        .filter(|m| u.modality_probs[m.index()].is_none())
        .map(|m| m.name())
        .collect();
    let bar = ((ui.available_width() - 70.0) / columns.len() as f32 - 8.0).clamp(24.0, 80.0);
    egui::Grid::new(("probabilities", i))
        .spacing([6.0, 2.0])
        .show(ui, |ui| {
            ui.label("");
            for (name, _, hover) in &columns {
                ui.label(egui::RichText::new(name).small().strong())
                    .on_hover_text(hover);
            }
            ui.end_row();
            for e in Emotion::ALL {
                ui.label(egui::RichText::new(e.name()).small());
                for (_, p, _) in &columns {
                    let v = p[e.index()];
                    let (rect, r) = ui.allocate_exact_size(egui::vec2(bar, 11.0), egui::Sense::hover());
                    ui.painter().rect_filled(rect, 2.0, ui.visuals().faint_bg_color);
                    let mut filled = rect;
                    filled.set_width(rect.width() * v.clamp(0.0, 1.0));
                    ui.painter().rect_filled(filled, 2.0, colour(e));
                    r.on_hover_text(format!("{} {:.1}%", e.name(), v * 100.0));
                }
                ui.end_row();
            }
        });
    if !unused.is_empty() {
        ui.weak(format!("not read for this utterance: {}", unused.join(", ")));
    }
}
