//! The CSV export: one flat row per utterance, readable by spreadsheets and pandas. The
//! fused probabilities get a column each (`p_neutral` … `p_anger`); each modality head's
//! probabilities and the expression encoder's reading of the face are one JSON cell each
//! (`text_probs`, `audio_probs`, `visual_probs`, `face_expression`: seven numbers in the
//! order neutral, surprise, fear, sadness, joy, disgust, anger; empty when not used); the
//! word weights, which have no fixed width, are one JSON cell (`[["word", 0.12], …]`).

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::Row;
use crate::emotion::Emotion;

#[derive(Debug, Serialize, Deserialize)]
struct Flat {
    index: usize,
    start: f64,
    end: f64,
    speaker: Option<String>,
    text: String,
    prediction: Emotion,
    confidence: f32,
    p_neutral: f32,
    p_surprise: f32,
    p_fear: f32,
    p_sadness: f32,
    p_joy: f32,
    p_disgust: f32,
    p_anger: f32,
    text_prediction: Option<Emotion>,
    audio_prediction: Option<Emotion>,
    visual_prediction: Option<Emotion>,
    text_probs: String,
    audio_probs: String,
    visual_probs: String,
    face_expression: String,
    ground_truth: Option<Emotion>,
    correction: Option<String>,
    unsure: bool,
    note: String,
    explanation: String,
}

impl Flat {
    fn from_row(r: &Row) -> Result<Self> {
        let [p_neutral, p_surprise, p_fear, p_sadness, p_joy, p_disgust, p_anger] = r.probs;
        let [text_prediction, audio_prediction, visual_prediction] = r.modality_predictions;
        Ok(Self {
            index: r.index,
            start: r.start,
            end: r.end,
            speaker: r.speaker.clone(),
            text: r.text.clone(),
            prediction: r.prediction,
            confidence: r.confidence,
            p_neutral,
            p_surprise,
            p_fear,
            p_sadness,
            p_joy,
            p_disgust,
            p_anger,
            text_prediction,
            audio_prediction,
            visual_prediction,
            text_probs: probs_cell(&r.modality_probs[0])?,
            audio_probs: probs_cell(&r.modality_probs[1])?,
            visual_probs: probs_cell(&r.modality_probs[2])?,
            face_expression: probs_cell(&r.face_expression)?,
            ground_truth: r.ground_truth,
            correction: r.correction.clone(),
            unsure: r.unsure,
            note: r.note.clone(),
            explanation: if r.explanation.is_empty() {
                String::new()
            } else {
                serde_json::to_string(&r.explanation)?
            },
        })
    }

    fn into_row(self) -> Result<Row> {
        Ok(Row {
            index: self.index,
            start: self.start,
            end: self.end,
            speaker: self.speaker,
            text: self.text,
            prediction: self.prediction,
            confidence: self.confidence,
            probs: [
                self.p_neutral,
                self.p_surprise,
                self.p_fear,
                self.p_sadness,
                self.p_joy,
                self.p_disgust,
                self.p_anger,
            ],
            modality_predictions: [self.text_prediction, self.audio_prediction, self.visual_prediction],
            modality_probs: [
                probs_of(&self.text_probs)?,
                probs_of(&self.audio_probs)?,
                probs_of(&self.visual_probs)?,
            ],
            face_expression: probs_of(&self.face_expression)?,
            ground_truth: self.ground_truth,
            correction: self.correction,
            unsure: self.unsure,
            note: self.note,
            explanation: if self.explanation.is_empty() {
                Vec::new()
            } else {
                serde_json::from_str(&self.explanation).context("the explanation cell is not JSON")?
            },
        })
    }
}

fn probs_cell(p: &Option<crate::analysis::result::Probs>) -> Result<String> {
    Ok(match p {
        Some(p) => serde_json::to_string(p)?,
        None => String::new(),
    })
}

fn probs_of(cell: &str) -> Result<Option<crate::analysis::result::Probs>> {
    if cell.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(cell)
        .map(Some)
        .context("a probabilities cell is not 7 numbers")
}

pub fn write(rows: &[Row]) -> Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(Flat::from_row(r)?)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// Read an export back (for tests and re-imports).
pub fn read(bytes: &[u8]) -> Result<Vec<Row>> {
    let mut r = ::csv::Reader::from_reader(bytes);
    r.deserialize::<Flat>()
        .enumerate()
        .map(|(i, f)| f.with_context(|| format!("CSV export row {}", i + 1))?.into_row())
        .collect()
}
