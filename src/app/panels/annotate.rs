//! The annotator's widgets: the correction, "unsure" and note of the selected utterance (in
//! the explanation panel), the save indicator (status bar) and the export menu. The state and
//! the saving are in `app::annotate`, the formats in `crate::export`.

use super::colour;
use crate::app::state::{AppState, Level};
use crate::emotion::Emotion;
use crate::export::{self, Format, Source};

/// Correction, unsure flag and note of utterance `i`.
pub fn editor(ui: &mut egui::Ui, state: &mut AppState, i: usize) {
    let Some(r) = state.doc.result.take() else { return };
    let fields = state.doc.annotator.fields(&r, i);
    let mut label = fields.correction.clone();
    let mut unsure = fields.unsure;
    let labels = state.doc.annotator.label_set().labels.clone();
    ui.horizontal_wrapped(|ui| {
        let caption = ui.label("correction:");
        let none = format!("none (keys 1-{})", labels.len());
        egui::ComboBox::from_id_salt("correction")
            .selected_text(label.clone().unwrap_or(none))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut label, None, "none (0)");
                for (k, l) in labels.iter().enumerate() {
                    ui.selectable_value(&mut label, Some(l.clone()), format!("{l} ({})", k + 1));
                }
            })
            .response
            .labelled_by(caption.id);
        if let Some(e) = label.as_deref().and_then(Emotion::parse) {
            ui.colored_label(colour(e), "|||");
        }
        ui.checkbox(&mut unsure, "unsure (U)");
    });
    if label != fields.correction {
        state.doc.annotator.set_label(&r, i, label.as_deref());
    }
    if unsure != fields.unsure {
        state.doc.annotator.toggle_unsure(&r, i);
    }
    if state.doc.annotator.note_draft.as_ref().is_none_or(|(k, _)| *k != i) {
        state.doc.annotator.note_draft = Some((i, fields.note.clone()));
    }
    if let Some((_, text)) = &mut state.doc.annotator.note_draft {
        let resp = ui.add(
            egui::TextEdit::multiline(text)
                .hint_text("note (saved when you leave the field)")
                .desired_rows(2)
                .desired_width(f32::INFINITY),
        );
        if resp.lost_focus() {
            let note = text.clone();
            state.doc.annotator.set_note(&r, i, &note);
        }
    }
    state.doc.result = Some(r);
}

/// "corrections saved" / "corrections not saved: why" in the status bar.
pub fn status(ui: &mut egui::Ui, state: &AppState) {
    if let Some((text, problem)) = state.doc.annotator.status_text() {
        ui.separator();
        if problem {
            ui.colored_label(egui::Color32::from_rgb(210, 60, 60), text);
        } else {
            ui.weak(text);
        }
    }
}

/// Export the open dialogue to a file the user picks.
pub fn export_menu(ui: &mut egui::Ui, state: &mut AppState) {
    let enabled = state.doc.result.is_some();
    ui.add_enabled_ui(enabled, |ui| {
        ui.menu_button("Export", |ui| {
            for f in Format::ALL {
                if ui.button(f.extension().to_uppercase()).clicked() {
                    ui.close();
                    let stem = state
                        .doc
                        .file
                        .as_ref()
                        .and_then(|p| p.file_stem())
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "dialogue".into());
                    if let Some(path) = rfd::FileDialog::new()
                        .set_file_name(format!("{stem}.{}", f.extension()))
                        .add_filter(f.extension(), &[f.extension()])
                        .save_file()
                    {
                        export_to(state, &path);
                    }
                }
            }
        });
    });
}

/// Write the open dialogue (predictions, corrections, explanations) to `path`; the format
/// follows the extension. The outcome is shown as a message.
pub fn export_to(state: &mut AppState, path: &std::path::Path) {
    let Some(r) = &state.doc.result else { return };
    let annotations = state.doc.annotator.sidecar.as_ref().map(|s| &s.annotations);
    let explained: std::collections::HashMap<usize, crate::analysis::explain_words::WordExplanation> = state
        .doc
        .explanations
        .iter()
        .filter_map(|(i, p)| p.ready().map(|e| (*i, e.clone())))
        .collect();
    let rows = export::rows(r, annotations, &explained);
    let label_set = annotations.map_or("meld".to_owned(), |a| a.label_set.name.clone());
    let source = Source {
        video: state.doc.file.as_deref(),
        checkpoint: &r.checkpoint,
        label_set: &label_set,
    };
    match export::save(path, &rows, &source) {
        Ok(()) => state.message(Level::Info, format!("exported {}", path.display())),
        Err(e) => state.message(Level::Error, format!("export failed: {e:#}")),
    }
}

/// Agreement of the open dialogue's predictions with the truth (corrections first).
pub fn agreement(ui: &mut egui::Ui, state: &AppState) {
    let Some(r) = &state.doc.result else { return };
    let annotations = state.doc.annotator.sidecar.as_ref().map(|s| &s.annotations);
    let rows = export::rows(r, annotations, &Default::default());
    let Some(report) = crate::export::agreement::of_rows(&rows) else {
        return;
    };
    egui::CollapsingHeader::new(format!(
        "agreement: accuracy {:.0}%, weighted F1 {:.2} (n = {})",
        report.accuracy * 100.0,
        report.weighted_f1,
        report.n
    ))
    .id_salt("agreement")
    .show(ui, |ui| {
        ui.label(egui::RichText::new(report.table()).monospace().small());
    });
}
