//! Classification metrics as the paper reports them (Table I): accuracy, weighted F1,
//! per-class F1, the 5-class weighted F1 without fear and disgust, and a confusion matrix.

use serde::{Deserialize, Serialize};

use crate::emotion::Emotion;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub n: usize,
    pub accuracy: f64,
    pub weighted_f1: f64,
    /// Weighted F1 over neutral, surprise, sadness, joy, anger (Table I's last column).
    pub weighted_f1_5cls: f64,
    pub per_class_f1: Vec<(String, f64)>,
    /// `confusion[true][pred]`, in `Emotion::ALL` order.
    pub confusion: Vec<Vec<usize>>,
}

/// Metrics over `(truth, prediction)` class-index pairs.
pub fn evaluate(pairs: &[(usize, usize)]) -> Report {
    let k = Emotion::COUNT;
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
    let five: Vec<usize> = [
        Emotion::Neutral,
        Emotion::Surprise,
        Emotion::Sadness,
        Emotion::Joy,
        Emotion::Anger,
    ]
    .iter()
    .map(|e| e.index())
    .collect();
    Report {
        n,
        accuracy: if n == 0 { 0.0 } else { correct as f64 / n as f64 },
        weighted_f1: weighted(&all),
        weighted_f1_5cls: weighted(&five),
        per_class_f1: Emotion::ALL
            .iter()
            .map(|e| (e.name().to_owned(), f1[e.index()]))
            .collect(),
        confusion,
    }
}

impl Report {
    /// A plain-text table: scores, per-class F1 and the confusion matrix.
    pub fn table(&self) -> String {
        let mut s = format!(
            "n = {}   accuracy {:.4}   weighted F1 {:.4}   weighted F1 (5 classes) {:.4}\n\n",
            self.n, self.accuracy, self.weighted_f1, self.weighted_f1_5cls
        );
        s.push_str("true \\ pred ");
        for e in Emotion::ALL {
            s.push_str(&format!("{:>9}", &e.name()[..e.name().len().min(8)]));
        }
        s.push_str("       F1\n");
        for (i, e) in Emotion::ALL.iter().enumerate() {
            s.push_str(&format!("{:<12}", e.name()));
            for c in &self.confusion[i] {
                s.push_str(&format!("{c:>9}"));
            }
            s.push_str(&format!("   {:.4}\n", self.per_class_f1[i].1));
        }
        s
    }
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
        assert!(r.weighted_f1_5cls > r.weighted_f1);
    }
}
