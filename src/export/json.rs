//! The JSON export (also the per-video output of `amuse analyze`): metadata, the agreement
//! with the ground truth (corrections first), and one object per utterance.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::{Row, Source};
use crate::metrics::Report;

pub const FORMAT: &str = "amuse-export";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub format: String,
    pub version: u32,
    pub video: Option<String>,
    pub checkpoint: String,
    /// The annotator's label set the corrections use.
    pub label_set: String,
    /// Accuracy, weighted F1 and confusion matrix against the truth, when any utterance has one.
    pub agreement: Option<Report>,
    pub utterances: Vec<Row>,
    /// The transcript was made by automatic transcription (no transcript was found).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub transcribed: bool,
    /// What the pipeline repaired or left out (transcript fixes, missing streams, ignored
    /// corrections): nothing is dropped without a trace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What made this output (`amuse analyze` reuses it only when the key still matches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl Document {
    pub fn new(rows: Vec<Row>, source: &Source) -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            video: source.video.map(|v| v.display().to_string()),
            checkpoint: source.checkpoint.into(),
            label_set: source.label_set.into(),
            agreement: crate::export::agreement::of_rows(&rows),
            utterances: rows,
            transcribed: false,
            notes: Vec::new(),
            key: None,
        }
    }
}

pub fn write(doc: &Document) -> Result<Vec<u8>> {
    let mut v = serde_json::to_vec_pretty(doc)?;
    v.push(b'\n');
    Ok(v)
}

/// Read an export back; `None` when the bytes are not a complete export of this version
/// (`amuse analyze` then redoes the file).
pub fn read(bytes: &[u8]) -> Option<Document> {
    let d: Document = serde_json::from_slice(bytes).ok()?;
    (d.format == FORMAT && d.version == VERSION && !d.utterances.is_empty()).then_some(d)
}
