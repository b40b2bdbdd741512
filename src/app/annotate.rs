//! The annotator's side of the viewer, as state: corrections, notes and "unsure" flags of
//! the open dialogue, kept in its sidecar (`amuse_formats::annotations::sidecar`) and saved
//! atomically after every edit; undo/redo; the next disagreement; and the keyboard that
//! drives it (1–7 set a label in `Emotion::ALL` order, 0/Backspace clear it, U unsure,
//! N next disagreement, Ctrl+Z / Ctrl+Shift+Z undo/redo). Drawing is in `panels::annotate`.

use std::path::Path;

use amuse_formats::annotations::sidecar::Sidecar;
use amuse_formats::annotations::{Fields, LabelSet, UtteranceKey};

use super::state::{AppState, Level};
use crate::analysis::result::DialogueResult;
use crate::emotion::Emotion;
use crate::export;

/// Whether the last edit reached the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveStatus {
    /// Nothing edited since the file was opened.
    Unchanged,
    Saved,
    NotSaved(String),
}

#[derive(Debug)]
pub struct Annotator {
    pub sidecar: Option<Sidecar>,
    pub status: SaveStatus,
    /// The note being typed: (utterance, text); committed when the field loses focus.
    pub note_draft: Option<(usize, String)>,
    /// The label set new sidecars use (keys 1…n pick its labels); an existing sidecar
    /// keeps its own.
    pub labels: LabelSet,
}

impl Default for Annotator {
    fn default() -> Self {
        Self {
            sidecar: None,
            status: SaveStatus::Unchanged,
            note_draft: None,
            labels: LabelSet::meld(),
        }
    }
}

impl Annotator {
    /// Open the sidecar of a video; the message says when an existing file could not be used.
    pub fn open(&mut self, video: &Path) -> Option<String> {
        let (s, notice) = Sidecar::open(video, self.labels.clone());
        self.status = match s.blocked() {
            Some(why) => SaveStatus::NotSaved(why.to_owned()),
            None => SaveStatus::Unchanged,
        };
        self.sidecar = Some(s);
        self.note_draft = None;
        notice
    }

    pub fn close(&mut self) {
        let labels = std::mem::replace(&mut self.labels, LabelSet::meld());
        *self = Self {
            labels,
            ..Self::default()
        };
    }

    /// The labels keys 1…n assign: the open sidecar's set, else the configured one.
    pub fn label_set(&self) -> &LabelSet {
        self.sidecar.as_ref().map_or(&self.labels, |s| &s.annotations.label_set)
    }

    /// What was said about utterance `i`.
    pub fn fields(&self, r: &DialogueResult, i: usize) -> Fields {
        match (&self.sidecar, r.utterances.get(i)) {
            (Some(s), Some(u)) => s.annotations.get(&export::key(i, u)),
            _ => Fields::default(),
        }
    }

    /// The truth of utterance `i`: the correction when it names an emotion, else the transcript's.
    pub fn truth(&self, r: &DialogueResult, i: usize) -> Option<Emotion> {
        self.fields(r, i).emotion().or(r.utterances.get(i)?.label)
    }

    /// The first utterance after `from` (wrapping) whose prediction differs from its truth.
    pub fn next_disagreement(&self, r: &DialogueResult, from: Option<usize>) -> Option<usize> {
        let n = r.utterances.len();
        let start = from.map_or(0, |f| f + 1);
        (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| crate::export::agreement::disagrees(self.truth(r, i), r.utterances[i].predicted()))
    }

    /// Apply an edit to utterance `i` and save at once.
    fn edit(
        &mut self,
        r: &DialogueResult,
        i: usize,
        f: impl FnOnce(&mut amuse_formats::annotations::Annotations, &UtteranceKey) -> Result<bool, String>,
    ) {
        let (Some(s), Some(u)) = (&mut self.sidecar, r.utterances.get(i)) else {
            return;
        };
        match f(&mut s.annotations, &export::key(i, u)) {
            Ok(true) => self.save(),
            Ok(false) => {}
            Err(e) => self.status = SaveStatus::NotSaved(e),
        }
    }

    fn save(&mut self) {
        if let Some(s) = &self.sidecar {
            self.status = match s.save() {
                Ok(()) => SaveStatus::Saved,
                Err(e) => SaveStatus::NotSaved(e),
            };
        }
    }

    pub fn set_label(&mut self, r: &DialogueResult, i: usize, label: Option<&str>) {
        self.edit(r, i, |a, k| a.set_correction(k, label).map_err(|e| e.to_string()));
    }

    pub fn toggle_unsure(&mut self, r: &DialogueResult, i: usize) {
        self.edit(r, i, |a, k| a.toggle_unsure(k).map_err(|e| e.to_string()));
    }

    pub fn set_note(&mut self, r: &DialogueResult, i: usize, note: &str) {
        self.edit(r, i, |a, k| a.set_note(k, note).map_err(|e| e.to_string()));
    }

    /// Undo (or redo) the last edit and save; returns the utterance it touched, if still present.
    pub fn undo_redo(&mut self, r: &DialogueResult, redo: bool) -> Option<usize> {
        let s = self.sidecar.as_mut()?;
        let key = if redo {
            s.annotations.redo()
        } else {
            s.annotations.undo()
        }?;
        self.save();
        r.utterances
            .iter()
            .enumerate()
            .find(|(i, u)| {
                let k = export::key(*i, u);
                k.text_hash == key.text_hash && (k.start - key.start).abs() < 0.25
            })
            .map(|(i, _)| i)
    }

    /// The status bar text and whether it is a problem.
    pub fn status_text(&self) -> Option<(String, bool)> {
        match &self.status {
            SaveStatus::Unchanged => None,
            SaveStatus::Saved => Some(("corrections saved".into(), false)),
            SaveStatus::NotSaved(why) => Some((format!("corrections not saved: {why}"), true)),
        }
    }
}

/// Carry out an annotation shortcut (see [`super::keymap`]).
pub fn apply(action: super::keymap::Action, state: &mut AppState) {
    use super::keymap::Action;
    let label = match action {
        Action::Label(k) => Some(k),
        _ => None,
    };
    let (clear, unsure, next) = (
        action == Action::ClearLabel,
        action == Action::ToggleUnsure,
        action == Action::NextDisagreement,
    );
    let (undo, redo) = (action == Action::Undo, action == Action::Redo);
    let Some(r) = state.doc.result.take() else { return };
    let selected = state.doc.selected;
    let mut go_to = None;
    if let Some(i) = selected {
        if let Some(name) = label.and_then(|k| state.doc.annotator.label_set().labels.get(k).cloned()) {
            state.doc.annotator.set_label(&r, i, Some(&name));
        }
        if clear {
            state.doc.annotator.set_label(&r, i, None);
        }
        if unsure {
            state.doc.annotator.toggle_unsure(&r, i);
        }
    }
    if undo || redo {
        go_to = state.doc.annotator.undo_redo(&r, redo);
    }
    if next {
        match state.doc.annotator.next_disagreement(&r, selected) {
            Some(i) => go_to = Some(i),
            None => state.message(Level::Info, "no disagreement between predictions and the truth"),
        }
    }
    state.doc.result = Some(r);
    if let Some(i) = go_to.filter(|&i| Some(i) != selected) {
        state.select(i);
    }
}
