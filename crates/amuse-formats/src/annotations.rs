//! An annotator's corrections of a dialogue: per utterance a corrected label, a note and an
//! "unsure" flag, with an undo/redo history. Kept as a JSON sidecar next to the video (see
//! [`sidecar`]), written atomically after every edit so that nothing acknowledged is lost.
//!
//! Entries are keyed by the utterance's index, start time and a hash of its text, not by
//! the index alone: when the transcript is re-segmented or edited, a correction stays with
//! the line it was made on (or is kept aside, never silently moved to another line).
//!
//! [`parse`] is the single entry point for untrusted bytes, so it can be fuzzed.

pub mod sidecar;

use serde::{Deserialize, Serialize};

use crate::emotion::Emotion;

/// The `format` field of every sidecar; anything else is refused as foreign.
pub const FORMAT: &str = "amuse-annotations";
/// The newest version this build reads and the one it writes.
pub const VERSION: u32 = 1;
/// Undo steps kept (older ones are dropped; the corrections themselves are never dropped).
pub const HISTORY_LIMIT: usize = 500;
/// Two starts closer than this (seconds) are the same utterance (subtitle re-timing jitter).
const START_TOLERANCE: f64 = 0.25;

/// The labels an annotator may assign: MELD's seven (the model's) or another corpus's set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSet {
    pub name: String,
    pub labels: Vec<String>,
}

impl LabelSet {
    /// The seven MELD emotions in `Emotion::ALL` order (keys 1–7).
    pub fn meld() -> Self {
        Self {
            name: "meld".into(),
            labels: Emotion::ALL.iter().map(|e| e.name().to_owned()).collect(),
        }
    }

    /// IEMOCAP's six categories; "excited" and "frustrated" have no MELD equivalent, so
    /// they are not counted in agreement with the model (see [`Fields::emotion`]).
    pub fn iemocap() -> Self {
        Self {
            name: "iemocap".into(),
            labels: ["happy", "sad", "neutral", "angry", "excited", "frustrated"]
                .map(String::from)
                .to_vec(),
        }
    }

    /// A built-in set by name ("meld", "iemocap").
    pub fn by_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "meld" => Some(Self::meld()),
            "iemocap" => Some(Self::iemocap()),
            _ => None,
        }
    }

    pub fn contains(&self, label: &str) -> bool {
        self.labels.iter().any(|l| l == label)
    }
}

/// Which utterance an entry belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UtteranceKey {
    /// 0-based position in the dialogue when the edit was made.
    pub index: usize,
    /// Start in seconds.
    pub start: f64,
    /// [`text_hash`] of the utterance's text.
    pub text_hash: String,
}

impl UtteranceKey {
    pub fn new(index: usize, start: f64, text: &str) -> Self {
        Self {
            index,
            start,
            text_hash: text_hash(text),
        }
    }

    fn same_line(&self, other: &UtteranceKey) -> bool {
        self.text_hash == other.text_hash && (self.start - other.start).abs() <= START_TOLERANCE
    }
}

/// A stable hash of a text (FNV-1a 64 over whitespace-collapsed text), as 16 hex digits.
pub fn text_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut first = true;
    for word in text.split_whitespace() {
        for b in (!first).then_some(b" ".as_slice()).into_iter().chain([word.as_bytes()]) {
            for &byte in b {
                h ^= u64::from(byte);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        first = false;
    }
    format!("{h:016x}")
}

/// What an annotator said about one utterance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fields {
    /// The corrected label (a name from the label set), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsure: bool,
}

impl Fields {
    pub fn is_empty(&self) -> bool {
        *self == Fields::default()
    }

    /// The correction as one of the model's emotions, when it maps to one (IEMOCAP's
    /// "excited"/"frustrated" do not).
    pub fn emotion(&self) -> Option<Emotion> {
        self.correction.as_deref().and_then(Emotion::parse)
    }
}

/// One annotated utterance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub key: UtteranceKey,
    #[serde(flatten)]
    pub fields: Fields,
}

/// One undoable change: the utterance's fields before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edit {
    pub key: UtteranceKey,
    pub before: Fields,
    pub after: Fields,
}

/// All annotations of one dialogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Annotations {
    pub format: String,
    pub version: u32,
    pub label_set: LabelSet,
    pub entries: Vec<Entry>,
    #[serde(default)]
    pub undo: Vec<Edit>,
    #[serde(default)]
    pub redo: Vec<Edit>,
}

/// Why a sidecar (or an edit) was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnnotationError {
    #[error("not UTF-8 text (byte {0}): not an amuse annotation file")]
    NotUtf8(usize),
    #[error("not valid annotation JSON: {0}")]
    Json(String),
    #[error("a \"{0}\" file, not amuse annotations (format \"{FORMAT}\")")]
    Foreign(String),
    #[error("annotation format version {0} is newer than this amuse reads ({VERSION}): update amuse")]
    TooNew(u32),
    #[error("label \"{label}\" is not in the label set \"{set}\"")]
    UnknownLabel { label: String, set: String },
    #[error("{0}")]
    Invalid(String),
}

/// Read a sidecar's bytes. Never panics; every refusal says what is wrong.
pub fn parse(bytes: &[u8]) -> Result<Annotations, AnnotationError> {
    let text = std::str::from_utf8(bytes).map_err(|e| AnnotationError::NotUtf8(e.valid_up_to()))?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| AnnotationError::Json(e.to_string()))?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        Some(other) => return Err(AnnotationError::Foreign(other.chars().take(60).collect())),
        None => return Err(AnnotationError::Foreign("unnamed".into())),
    }
    if let Some(v) = value.get("version").and_then(|v| v.as_u64()) {
        if v > u64::from(VERSION) {
            return Err(AnnotationError::TooNew(u32::try_from(v).unwrap_or(u32::MAX)));
        }
    }
    let a: Annotations = serde_json::from_value(value).map_err(|e| AnnotationError::Json(e.to_string()))?;
    a.validate()?;
    Ok(a)
}

impl Annotations {
    pub fn new(label_set: LabelSet) -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            label_set,
            entries: Vec::new(),
            undo: Vec::new(),
            redo: Vec::new(),
        }
    }

    fn validate(&self) -> Result<(), AnnotationError> {
        if self.label_set.labels.is_empty() {
            return Err(AnnotationError::Invalid("the label set is empty".into()));
        }
        let edits = self.undo.iter().chain(&self.redo).flat_map(|e| [&e.before, &e.after]);
        for f in self.entries.iter().map(|e| &e.fields).chain(edits) {
            if let Some(l) = &f.correction {
                self.check_label(l)?;
            }
        }
        let keys = self.entries.iter().map(|e| &e.key);
        if keys.clone().any(|k| !k.start.is_finite()) {
            return Err(AnnotationError::Invalid("an entry has an invalid start time".into()));
        }
        Ok(())
    }

    fn check_label(&self, label: &str) -> Result<(), AnnotationError> {
        if self.label_set.contains(label) {
            Ok(())
        } else {
            Err(AnnotationError::UnknownLabel {
                label: label.into(),
                set: self.label_set.name.clone(),
            })
        }
    }

    /// Pretty JSON, as written to disk.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// The entry of this utterance: same text and start, the nearest index when a line repeats.
    fn find(&self, key: &UtteranceKey) -> Option<usize> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.key.same_line(key))
            .min_by_key(|(_, e)| e.key.index.abs_diff(key.index))
            .map(|(i, _)| i)
    }

    /// What was said about this utterance (empty fields when nothing).
    pub fn get(&self, key: &UtteranceKey) -> Fields {
        self.find(key)
            .map(|i| self.entries[i].fields.clone())
            .unwrap_or_default()
    }

    /// Entries that match none of these utterances (the transcript changed): kept in the
    /// file, reported to the user, never attached to another line.
    pub fn orphans(&self, keys: &[UtteranceKey]) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|e| !keys.iter().any(|k| k.same_line(&e.key)))
            .collect()
    }

    fn put(&mut self, key: &UtteranceKey, fields: Fields) {
        match (self.find(key), fields.is_empty()) {
            (Some(i), true) => {
                self.entries.remove(i);
            }
            (Some(i), false) => {
                self.entries[i] = Entry {
                    key: key.clone(),
                    fields,
                }
            }
            (None, true) => {}
            (None, false) => {
                let at = self.entries.partition_point(|e| e.key.index <= key.index);
                self.entries.insert(
                    at,
                    Entry {
                        key: key.clone(),
                        fields,
                    },
                );
            }
        }
    }

    /// Replace an utterance's fields, recording the change for undo. Returns false (and
    /// records nothing) when nothing changes.
    pub fn set(&mut self, key: &UtteranceKey, after: Fields) -> Result<bool, AnnotationError> {
        if let Some(l) = &after.correction {
            self.check_label(l)?;
        }
        let before = self.get(key);
        if before == after {
            return Ok(false);
        }
        self.put(key, after.clone());
        self.undo.push(Edit {
            key: key.clone(),
            before,
            after,
        });
        if self.undo.len() > HISTORY_LIMIT {
            self.undo.remove(0);
        }
        self.redo.clear();
        Ok(true)
    }

    /// Set or clear the corrected label.
    pub fn set_correction(&mut self, key: &UtteranceKey, label: Option<&str>) -> Result<bool, AnnotationError> {
        let mut f = self.get(key);
        f.correction = label.map(str::to_owned);
        self.set(key, f)
    }

    pub fn toggle_unsure(&mut self, key: &UtteranceKey) -> Result<bool, AnnotationError> {
        let mut f = self.get(key);
        f.unsure = !f.unsure;
        self.set(key, f)
    }

    pub fn set_note(&mut self, key: &UtteranceKey, note: &str) -> Result<bool, AnnotationError> {
        let mut f = self.get(key);
        f.note = note.trim_end().to_owned();
        self.set(key, f)
    }

    /// Undo the last edit; returns the utterance it touched.
    pub fn undo(&mut self) -> Option<UtteranceKey> {
        let e = self.undo.pop()?;
        self.put(&e.key, e.before.clone());
        let key = e.key.clone();
        self.redo.push(e);
        Some(key)
    }

    /// Redo the last undone edit; returns the utterance it touched.
    pub fn redo(&mut self) -> Option<UtteranceKey> {
        let e = self.redo.pop()?;
        self.put(&e.key, e.after.clone());
        let key = e.key.clone();
        self.undo.push(e);
        Some(key)
    }
}

#[cfg(test)]
mod tests;
