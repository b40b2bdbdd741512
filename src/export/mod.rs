//! Exports of an analysed dialogue for other tools: CSV and JSON (one row per utterance with
//! the prediction, probabilities, per-modality predictions, ground truth, the annotator's
//! correction and the explanation's word weights) and ELAN `.eaf` (tiers per speaker, for the
//! predictions and for the corrections). The viewer and `amuse analyze` both call this; the
//! formats live in their own files.

pub mod agreement;
pub mod csv;
pub mod eaf;
pub mod json;
pub mod summary;
pub mod summary_table;

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::analysis::explain_words::WordExplanation;
use crate::analysis::result::{DialogueResult, Probs, UtteranceResult};
use crate::emotion::Emotion;
use amuse_formats::annotations::{Annotations, UtteranceKey};

/// One utterance as exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// 1-based, as shown in the viewer.
    pub index: usize,
    pub start: f64,
    pub end: f64,
    pub speaker: Option<String>,
    pub text: String,
    pub prediction: Emotion,
    pub confidence: f32,
    /// Fused probabilities in `Emotion::ALL` order.
    pub probs: Probs,
    /// The Central head's prediction per modality (text, audio, visual), when used.
    pub modality_predictions: [Option<Emotion>; 3],
    /// Each modality head's probabilities (text, audio, visual; `Emotion::ALL` order), when used.
    #[serde(default)]
    pub modality_probs: [Option<Probs>; 3],
    /// The expression encoder's reading of the speaker's face (mean over keyframes with a
    /// face; `Emotion::ALL` order): evidence, whether or not the checkpoint fuses faces.
    #[serde(default)]
    pub face_expression: Option<Probs>,
    pub ground_truth: Option<Emotion>,
    /// The annotator's label (a name from the sidecar's label set).
    pub correction: Option<String>,
    pub unsure: bool,
    pub note: String,
    /// LIME word weights `(word, weight)` of the explained label, when explained.
    pub explanation: Vec<(String, f64)>,
}

impl Row {
    /// The truth to score against: the correction when it maps to an emotion, else the
    /// transcript's label.
    pub fn truth(&self) -> Option<Emotion> {
        self.correction
            .as_deref()
            .and_then(Emotion::parse)
            .or(self.ground_truth)
    }
}

/// The sidecar key of utterance `i`.
pub fn key(i: usize, u: &UtteranceResult) -> UtteranceKey {
    UtteranceKey::new(i, u.start, &u.text)
}

fn argmax(p: &Probs) -> Option<Emotion> {
    Emotion::from_index(crate::metrics::argmax(&p.map(f64::from)))
}

/// Rows of a dialogue with its annotations and explanations (either may be empty).
pub fn rows(
    result: &DialogueResult,
    annotations: Option<&Annotations>,
    explanations: &HashMap<usize, WordExplanation>,
) -> Vec<Row> {
    result
        .utterances
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let a = annotations.map(|a| a.get(&key(i, u))).unwrap_or_default();
            Row {
                index: i + 1,
                start: u.start,
                end: u.end,
                speaker: u.speaker.clone(),
                text: u.text.clone(),
                prediction: u.predicted(),
                confidence: u.confidence(),
                probs: u.probs,
                modality_predictions: u.modality_probs.map(|p| p.as_ref().and_then(argmax)),
                modality_probs: u.modality_probs,
                face_expression: u.face_expression,
                ground_truth: u.label,
                correction: a.correction,
                unsure: a.unsure,
                note: a.note,
                explanation: explanations.get(&i).map(|e| e.top.clone()).unwrap_or_default(),
            }
        })
        .collect()
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
    Eaf,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Csv, Format::Json, Format::Eaf];

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Eaf => "eaf",
        }
    }

    /// The format a file name asks for.
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match Self::ALL.into_iter().find(|f| f.extension() == ext) {
            Some(f) => Ok(f),
            None => bail!(
                "{}: unknown export format \"{ext}\"; use a .csv, .json or .eaf file name",
                path.display()
            ),
        }
    }
}

/// Everything an export needs besides the rows.
pub struct Source<'a> {
    /// The analysed video (EAF links it as its media).
    pub video: Option<&'a Path>,
    pub checkpoint: &'a str,
    pub label_set: &'a str,
}

/// Render rows in a format.
pub fn render(format: Format, rows: &[Row], source: &Source) -> Result<Vec<u8>> {
    Ok(match format {
        Format::Csv => csv::write(rows)?,
        Format::Json => json::write(&json::Document::new(rows.to_vec(), source))?,
        Format::Eaf => eaf::write(rows, source.video).into_bytes(),
    })
}

/// Write an export atomically; the format follows the file name.
pub fn save(path: &Path, rows: &[Row], source: &Source) -> Result<()> {
    let bytes = render(Format::from_path(path)?, rows, source)?;
    crate::fsutil::write_atomic(path, &bytes).with_context(|| format!("cannot write {}", path.display()))
}
