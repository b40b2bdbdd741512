//! Agreement of the predictions with the truth — the annotator's correction when there is
//! one, else the transcript's label — as the training metrics (accuracy, weighted F1,
//! confusion matrix), for one dialogue or pooled over many.

use crate::emotion::Emotion;
use crate::export::Row;
use crate::metrics::{evaluate, Report};

/// `(truth, prediction)` index pairs of the rows that have a truth.
pub fn pairs(rows: &[Row]) -> Vec<(usize, usize)> {
    rows.iter()
        .filter_map(|r| r.truth().map(|t| (t.index(), r.prediction.index())))
        .collect()
}

/// Metrics over the pairs, `None` when no utterance has a truth.
pub fn report(pairs: &[(usize, usize)]) -> Option<Report> {
    (!pairs.is_empty()).then(|| evaluate(pairs))
}

pub fn of_rows(rows: &[Row]) -> Option<Report> {
    report(&pairs(rows))
}

/// Whether a row's prediction differs from its truth.
pub fn disagrees(truth: Option<Emotion>, prediction: Emotion) -> bool {
    truth.is_some_and(|t| t != prediction)
}
