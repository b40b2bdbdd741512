//! Classification metrics as the paper reports them (Table I): accuracy, weighted F1,
//! per-class F1, the 5-class weighted F1 without fear and disgust, and a confusion matrix.
//! Classes are named, so the same report serves MELD's seven and IEMOCAP's six.

use serde::{Deserialize, Serialize};

use crate::emotion::Emotion;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub n: usize,
    pub accuracy: f64,
    pub weighted_f1: f64,
    /// Weighted F1 over neutral, surprise, sadness, joy, anger (Table I's last column);
    /// only for label sets that have all five (MELD's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weighted_f1_5cls: Option<f64>,
    pub per_class_f1: Vec<(String, f64)>,
    /// `confusion[true][pred]`, in class-index order (the order of `per_class_f1`).
    pub confusion: Vec<Vec<usize>>,
}

/// Metrics over `(truth, prediction)` class-index pairs of MELD's seven classes.
pub fn evaluate(pairs: &[(usize, usize)]) -> Report {
    let names: Vec<&str> = Emotion::ALL.iter().map(|e| e.name()).collect();
    evaluate_named(pairs, &names)
}

/// Metrics over `(truth, prediction)` pairs of indices into `classes`.
pub fn evaluate_named(pairs: &[(usize, usize)], classes: &[&str]) -> Report {
    let k = classes.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for &(t, p) in pairs {
        if t < k && p < k {
            confusion[t][p] += 1;
        }
    }
    let n: usize = confusion.iter().flatten().sum();
    let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
    let f1: Vec<f64> = (0..k)
        .map(|c| {
            let tp = confusion[c][c] as f64;
            let predicted: usize = (0..k).map(|t| confusion[t][c]).sum();
            let actual: usize = confusion[c].iter().sum();
            if predicted == 0 || actual == 0 || tp == 0.0 {
                return 0.0;
            }
            let (p, r) = (tp / predicted as f64, tp / actual as f64);
            2.0 * p * r / (p + r)
        })
        .collect();
    let support: Vec<usize> = confusion.iter().map(|row| row.iter().sum()).collect();
    let weighted = |classes: &[usize]| {
        let total: usize = classes.iter().map(|&c| support[c]).sum();
        if total == 0 {
            0.0
        } else {
            classes.iter().map(|&c| f1[c] * support[c] as f64).sum::<f64>() / total as f64
        }
    };
    let all: Vec<usize> = (0..k).collect();
    let five: Option<Vec<usize>> = ["neutral", "surprise", "sadness", "joy", "anger"]
        .iter()
        .map(|name| classes.iter().position(|c| c.eq_ignore_ascii_case(name)))
        .collect();
    Report {
        n,
        accuracy: if n == 0 { 0.0 } else { correct as f64 / n as f64 },
        weighted_f1: weighted(&all),
        weighted_f1_5cls: five.map(|f| weighted(&f)),
        per_class_f1: classes.iter().zip(&f1).map(|(c, f)| ((*c).to_owned(), *f)).collect(),
        confusion,
    }
}

impl Report {
    /// A plain-text table: scores, per-class F1 and the confusion matrix.
    pub fn table(&self) -> String {
        let mut s = format!(
            "n = {}   accuracy {:.4}   weighted F1 {:.4}",
            self.n, self.accuracy, self.weighted_f1
        );
        if let Some(f) = self.weighted_f1_5cls {
            s.push_str(&format!("   weighted F1 (5 classes) {f:.4}"));
        }
        s.push_str("\n\ntrue \\ pred ");
        for (name, _) in &self.per_class_f1 {
            s.push_str(&format!("{:>9}", &name[..name.len().min(8)]));
        }
        s.push_str("       F1\n");
        for (i, (name, f1)) in self.per_class_f1.iter().enumerate() {
            s.push_str(&format!("{name:<12}"));
            for c in &self.confusion[i] {
                s.push_str(&format!("{c:>9}"));
            }
            s.push_str(&format!("   {f1:.4}\n"));
        }
        s
    }
}

/// Index of the largest probability (the first on ties).
pub fn argmax(p: &[f64]) -> usize {
    p.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_scores() {
        // neutral(0): 3 true, predicted 0,0,4; joy(4): 2 true, predicted 4,4.
        let pairs = [(0, 0), (0, 0), (0, 4), (4, 4), (4, 4)];
        let r = evaluate(&pairs);
        assert_eq!(r.n, 5);
        assert!((r.accuracy - 0.8).abs() < 1e-12);
        // neutral: p=1, r=2/3 → F1 0.8; joy: p=2/3, r=1 → F1 0.8; weighted = 0.8.
        assert!((r.per_class_f1[0].1 - 0.8).abs() < 1e-12);
        assert!((r.per_class_f1[4].1 - 0.8).abs() < 1e-12);
        assert!((r.weighted_f1 - 0.8).abs() < 1e-12);
        assert_eq!(r.confusion[0][4], 1);
        assert!(r.table().contains("accuracy 0.8000"));
    }

    #[test]
    fn five_class_score_ignores_fear_and_disgust() {
        let fear = Emotion::Fear.index();
        let pairs = [(0, 0), (fear, 0)];
        let r = evaluate(&pairs);
        assert!(r.weighted_f1_5cls.unwrap() > r.weighted_f1);
    }

    #[test]
    fn other_label_sets_get_their_names_and_no_five_class_score() {
        let classes = ["happy", "sad", "neutral", "angry", "excited", "frustrated"];
        let r = evaluate_named(&[(0, 0), (4, 0), (5, 5)], &classes);
        assert_eq!(r.confusion.len(), 6);
        assert_eq!(r.confusion[4][0], 1);
        assert_eq!(r.per_class_f1[5], ("frustrated".to_owned(), 1.0));
        assert_eq!(r.weighted_f1_5cls, None);
        let t = r.table();
        assert!(
            t.contains("excited") && t.contains("frustrat") && !t.contains("5 classes"),
            "{t}"
        );
    }
}
