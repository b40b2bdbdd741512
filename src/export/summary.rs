//! What an analyst wants to know about a dialogue at a glance: the emotion distribution per
//! speaker, how often speakers' emotions shift, and the most confident moments.

use crate::emotion::Emotion;
use crate::export::Row;

/// Per speaker (in order of appearance; `?` when unnamed), the count of each predicted emotion.
pub fn distribution(rows: &[Row]) -> Vec<(String, [usize; Emotion::COUNT])> {
    let mut out: Vec<(String, [usize; Emotion::COUNT])> = Vec::new();
    for r in rows {
        let name = r.speaker.clone().unwrap_or_else(|| "?".into());
        let k = match out.iter().position(|(s, _)| *s == name) {
            Some(k) => k,
            None => {
                out.push((name, [0; Emotion::COUNT]));
                out.len() - 1
            }
        };
        out[k].1[r.prediction.index()] += 1;
    }
    out
}

/// `Joey: joy 3, neutral 2 | Rachel: sadness 1` (emotions by count, then class order).
pub fn distribution_text(rows: &[Row]) -> String {
    distribution(rows)
        .into_iter()
        .map(|(speaker, counts)| {
            let mut by: Vec<(Emotion, usize)> = Emotion::ALL.iter().map(|e| (*e, counts[e.index()])).collect();
            by.retain(|(_, c)| *c > 0);
            by.sort_by_key(|(_, c)| std::cmp::Reverse(*c));
            let list: Vec<String> = by.iter().map(|(e, c)| format!("{e} {c}")).collect();
            format!("{speaker}: {}", list.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Emotion shifts: times a speaker's predicted emotion differs from their previous utterance's.
pub fn shifts(rows: &[Row]) -> usize {
    let mut last: Vec<(Option<&str>, Emotion)> = Vec::new();
    let mut n = 0;
    for r in rows {
        let who = r.speaker.as_deref();
        match last.iter_mut().find(|(s, _)| *s == who) {
            Some((_, e)) => {
                n += usize::from(*e != r.prediction);
                *e = r.prediction;
            }
            None => last.push((who, r.prediction)),
        }
    }
    n
}

/// The `k` most confident utterances, most confident first.
pub fn most_confident(rows: &[Row], k: usize) -> Vec<&Row> {
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then(a.index.cmp(&b.index)));
    sorted.truncate(k);
    sorted
}

/// `#4 12.3s Joey joy 95% | …`
pub fn most_confident_text(rows: &[Row], k: usize) -> String {
    most_confident(rows, k)
        .iter()
        .map(|r| {
            format!(
                "#{} {:.1}s {} {} {:.0}%",
                r.index,
                r.start,
                r.speaker.as_deref().unwrap_or("?"),
                r.prediction,
                r.confidence * 100.0
            )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(index: usize, speaker: &str, e: Emotion, confidence: f32) -> Row {
        Row {
            index,
            start: index as f64,
            end: index as f64 + 1.0,
            speaker: Some(speaker.into()),
            text: String::new(),
            prediction: e,
            confidence,
            probs: [0.0; 7],
            modality_predictions: [None; 3],
            modality_probs: [None; 3],
            face_expression: None,
            ground_truth: None,
            correction: None,
            unsure: false,
            note: String::new(),
            explanation: Vec::new(),
        }
    }

    #[test]
    fn distribution_shifts_and_confident_moments() {
        use Emotion::*;
        let rows = [
            row(1, "A", Joy, 0.5),
            row(2, "B", Anger, 0.9),
            row(3, "A", Joy, 0.7),
            row(4, "A", Sadness, 0.95),
            row(5, "B", Anger, 0.2),
        ];
        assert_eq!(distribution_text(&rows), "A: joy 2, sadness 1 | B: anger 2");
        assert_eq!(shifts(&rows), 1, "only A's joy → sadness");
        assert_eq!(
            most_confident_text(&rows, 2),
            "#4 4.0s A sadness 95% | #2 2.0s B anger 90%"
        );
    }
}
