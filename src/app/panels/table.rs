//! The utterance table: speaker, text, prediction and confidence, ground truth, agreement;
//! filters by speaker, emotion, disagreements.

use egui_extras::{Column, TableBuilder};

use super::colour;
use crate::app::state::AppState;
use crate::emotion::Emotion;

pub fn show(ui: &mut egui::Ui, state: &mut AppState) {
    let Some(result) = &state.doc.result else {
        ui.label("no analysis yet");
        return;
    };
    let speakers = result.speakers();
    ui.horizontal_wrapped(|ui| {
        egui::ComboBox::from_id_salt("speaker_filter")
            .selected_text(
                state
                    .doc
                    .filter
                    .speaker
                    .clone()
                    .unwrap_or_else(|| "all speakers".into()),
            )
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut state.doc.filter.speaker, None, "all speakers");
                for s in &speakers {
                    ui.selectable_value(&mut state.doc.filter.speaker, Some(s.clone()), s);
                }
            });
        egui::ComboBox::from_id_salt("emotion_filter")
            .selected_text(state.doc.filter.emotion.map_or("all emotions", |e| e.name()))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut state.doc.filter.emotion, None, "all emotions");
                for e in Emotion::ALL {
                    ui.selectable_value(&mut state.doc.filter.emotion, Some(e), e.name());
                }
            });
        ui.checkbox(&mut state.doc.filter.disagreements_only, "disagreements only");
        if let Some(k) = state.doc.filter.voice_of {
            if ui
                .button(format!("same voice as #{} (clear)", k + 1))
                .on_hover_text("utterances whose voice matches the followed one; click to show all")
                .clicked()
            {
                state.doc.filter.voice_of = None;
            }
        }
    });
    let similarities = state.voice_similarities();
    let visible = state.visible();
    let Some(result) = &state.doc.result else { return };
    let mut clicked = None;
    TableBuilder::new(ui)
        .striped(true)
        .sense(egui::Sense::click())
        .column(Column::exact(24.0))
        .column(Column::initial(70.0).resizable(true))
        .column(Column::remainder().at_least(120.0).clip(true))
        .column(Column::exact(96.0))
        .column(Column::exact(64.0))
        .column(Column::exact(92.0))
        .column(Column::exact(28.0))
        .header(18.0, |mut h| {
            let text = match result.transcribed {
                true => format!("text (transcribed by {})", crate::transcribe::MODEL_NAME),
                false => "text".to_owned(),
            };
            for t in ["#", "speaker", text.as_str(), "prediction", "truth", "correction", ""] {
                h.col(|ui| {
                    ui.strong(t);
                });
            }
        })
        .body(|body| {
            body.rows(20.0, visible.len(), |mut row| {
                let i = visible[row.index()];
                let u = &result.utterances[i];
                row.set_selected(state.doc.selected == Some(i));
                row.col(|ui| {
                    ui.label(format!("{}", i + 1));
                });
                row.col(|ui| {
                    let r = ui.label(u.speaker.as_deref().unwrap_or("?"));
                    if let Some(Some(sim)) = similarities.get(i) {
                        r.on_hover_text(format!("voice similarity to the followed utterance: {sim:.2}"));
                    }
                });
                row.col(|ui| {
                    ui.label(&u.text).on_hover_text(&u.text);
                });
                row.col(|ui| {
                    let p = u.predicted();
                    ui.colored_label(colour(p), format!("{} {:.0}%", p.name(), u.confidence() * 100.0));
                });
                row.col(|ui| {
                    ui.label(u.label.map_or("–", |l| l.name()));
                });
                // The annotator's correction; agreement is against it when present.
                let fields = state.doc.annotator.fields(result, i);
                row.col(|ui| {
                    let c = fields.correction.clone().unwrap_or_default();
                    let r = ui.label(if fields.unsure { format!("{c}?") } else { c });
                    if !fields.note.is_empty() {
                        r.on_hover_text(&fields.note);
                    }
                });
                row.col(|ui| match state.doc.annotator.truth(result, i) {
                    Some(l) if l == u.predicted() => {
                        ui.colored_label(egui::Color32::from_rgb(60, 170, 60), "ok");
                    }
                    Some(_) => {
                        ui.colored_label(egui::Color32::from_rgb(210, 60, 60), "no");
                    }
                    None => {}
                });
                if row.response().clicked() {
                    clicked = Some(i);
                }
            });
        });
    if let Some(i) = clicked {
        state.select(i);
    }
}
