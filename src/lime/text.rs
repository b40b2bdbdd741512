//! Words as LIME features, matching the reference's `IndexedString` (bag of words) and
//! `LimeTextExplainer`.
//!
//! The text is split on `\W+` with the separators kept, so a perturbed string is the original
//! with some words cut out and every separator left in place (`"Oh my God"` without `my` is
//! `"Oh  God"`). Features are the distinct words in order of first appearance, and switching
//! a word off removes every occurrence of it: the explanation is about the word, not one
//! position of it. Byte ranges of each occurrence are exposed so a UI can colour the words.

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

use super::engine::{cosine_distances, evaluate_distinct, rng_from_seed, sample_text_masks, BoxError};
use super::engine::{Labels, LimeConfig, LimeError, Neighbourhood};
use super::Explanation;

/// Python's `re` `\W+` on `str` patterns (Unicode): runs of characters that are neither
/// alphanumeric (`str.isalnum`: letters L*, numbers N*) nor `_`. Rust's own `\W` differs on
/// combining marks and a few letter-like symbols, so the class is spelt out.
fn separators() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"[^\p{L}\p{N}_]+").expect("static regex"))
}

/// A text split into words (features) and separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    raw: String,
    /// Consecutive pieces covering `raw`, with the feature index of each word piece.
    pieces: Vec<(Range<usize>, Option<usize>)>,
    /// Distinct words, in order of first appearance.
    words: Vec<String>,
    /// Indices into `pieces` of every occurrence of each word.
    occurrences: Vec<Vec<usize>>,
}

impl Words {
    pub fn new(text: &str) -> Self {
        let mut cuts: Vec<(Range<usize>, bool)> = Vec::new();
        let mut at = 0;
        for m in separators().find_iter(text) {
            if m.start() > at {
                cuts.push((at..m.start(), true));
            }
            cuts.push((m.range(), false));
            at = m.end();
        }
        if at < text.len() {
            cuts.push((at..text.len(), true));
        }
        let mut words: Vec<String> = Vec::new();
        let mut occurrences: Vec<Vec<usize>> = Vec::new();
        let pieces = cuts
            .into_iter()
            .enumerate()
            .map(|(i, (range, is_word))| {
                let feature = is_word.then(|| {
                    let w = &text[range.clone()];
                    let f = words.iter().position(|x| x == w).unwrap_or_else(|| {
                        words.push(w.to_owned());
                        occurrences.push(Vec::new());
                        words.len() - 1
                    });
                    occurrences[f].push(i);
                    f
                });
                (range, feature)
            })
            .collect();
        Self {
            raw: text.to_owned(),
            pieces,
            words,
            occurrences,
        }
    }

    /// The original text.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Number of features (distinct words).
    pub fn num_words(&self) -> usize {
        self.words.len()
    }

    /// The distinct words; index = feature index.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    pub fn word(&self, feature: usize) -> &str {
        &self.words[feature]
    }

    /// Byte ranges in [`raw`](Self::raw) of every occurrence of a word (the reference gives
    /// character offsets; byte ranges are what Rust text layout wants).
    pub fn byte_ranges(&self, feature: usize) -> Vec<Range<usize>> {
        self.occurrences[feature]
            .iter()
            .map(|&i| self.pieces[i].0.clone())
            .collect()
    }

    /// The whole text as consecutive byte ranges, each with its feature index (`None` for
    /// separators): the natural input for drawing the text with words coloured by weight.
    pub fn pieces(&self) -> &[(Range<usize>, Option<usize>)] {
        &self.pieces
    }

    /// The text with every occurrence of each switched-off word (`mask[f] == false`) removed
    /// and all separators kept.
    pub fn perturb(&self, mask: &[bool]) -> String {
        assert_eq!(
            mask.len(),
            self.words.len(),
            "mask length must equal the number of words"
        );
        self.pieces
            .iter()
            .filter(|(_, f)| f.is_none_or(|f| mask[f]))
            .map(|(r, _)| &self.raw[r.clone()])
            .collect()
    }
}

/// Result of [`explain_text`].
#[derive(Debug, Clone)]
pub struct TextExplanation {
    /// Feature indices in the explanations are word indices of this.
    pub features: Words,
    /// Samples and classifier outputs, reusable to explain further labels.
    pub neighbourhood: Neighbourhood,
    /// One explanation per requested label, in the order requested.
    pub explanations: Vec<Explanation>,
}

/// Explains a text classifier's prediction for `text` (`LimeTextExplainer.explain_instance`).
///
/// `classifier` maps a batch of strings to one probability row each; it is called with at
/// most `cfg.batch_size` strings at a time, and each distinct perturbed string only once.
/// Distances are cosine distances on the word masks × 100, as in the reference.
pub fn explain_text<E: Into<BoxError>>(
    text: &str,
    labels: &Labels,
    cfg: &LimeConfig,
    classifier: impl FnMut(&[String]) -> Result<Vec<Vec<f64>>, E>,
) -> Result<TextExplanation, LimeError> {
    if cfg.num_samples == 0 {
        return Err(LimeError::Invalid("num_samples must be at least 1".into()));
    }
    let features = Words::new(text);
    let data = sample_text_masks(features.num_words(), cfg.num_samples, &mut rng_from_seed(cfg.seed));
    let strings: Vec<String> = data.iter().map(|m| features.perturb(m)).collect();
    let (probs, evaluated) = evaluate_distinct(&strings, |i| strings[i].clone(), classifier, cfg.batch_size)?;
    let distances = cosine_distances(&data).into_iter().map(|d| d * 100.0).collect();
    let neighbourhood = Neighbourhood {
        data,
        probs,
        distances,
        evaluated,
    };
    let explanations = neighbourhood.explain_labels(labels, cfg)?;
    Ok(TextExplanation {
        features,
        neighbourhood,
        explanations,
    })
}

#[cfg(test)]
mod tests {
    use super::super::engine::FeatureSelection;
    use super::*;

    const JOEY: &str = "Oh my God, it’s Joey! Oh!";

    #[test]
    fn splits_like_python_re_w() {
        let t = Words::new(JOEY);
        // ’ (U+2019) is not a word character for Python's `\W+`, so "it’s" is two words.
        assert_eq!(t.words(), ["Oh", "my", "God", "it", "s", "Joey"]);
        assert_eq!(t.byte_ranges(0), vec![0..2, 24..26]);
        assert_eq!(&JOEY[t.byte_ranges(4)[0].clone()], "s");
        assert_eq!(
            t.pieces().iter().map(|(r, _)| &JOEY[r.clone()]).collect::<String>(),
            JOEY
        );
        assert_eq!(t.pieces().last().unwrap(), &(26..27, None));
        // Python's `\w` takes letters, numbers (also ², Ⅻ) and `_`, but not combining marks.
        let t = Words::new("snake_case x² Ⅻ naïve nai\u{308}ve");
        assert_eq!(t.words(), ["snake_case", "x²", "Ⅻ", "naïve", "nai", "ve"]);
        assert_eq!(Words::new("").num_words(), 0);
        assert_eq!(Words::new(" ?! ").pieces().len(), 1);
    }

    #[test]
    fn perturb_removes_every_occurrence_and_keeps_separators() {
        let t = Words::new(JOEY);
        assert_eq!(
            t.perturb(&[false, true, true, true, true, true]),
            " my God, it’s Joey! !"
        );
        assert_eq!(
            t.perturb(&[true, false, true, false, false, true]),
            "Oh  God, ’ Joey! Oh!"
        );
        assert_eq!(t.perturb(&[true; 6]), JOEY);
        assert_eq!(t.perturb(&[false; 6]), "  , ’ ! !");
    }

    /// Probability of class 0 = 0.2 + Σ weight of each word still present.
    fn bag_of_words_classifier<'a>(
        weights: &'a [(&'a str, f64)],
    ) -> impl FnMut(&[String]) -> Result<Vec<Vec<f64>>, BoxError> + 'a {
        move |batch| {
            Ok(batch
                .iter()
                .map(|s| {
                    let present = Words::new(s);
                    let p = 0.2
                        + weights
                            .iter()
                            .filter(|(w, _)| present.words().iter().any(|x| x == w))
                            .map(|x| x.1)
                            .sum::<f64>();
                    vec![p, 1.0 - p]
                })
                .collect())
        }
    }

    #[test]
    fn recovers_weights_of_a_bag_of_words_classifier() {
        let weights = [
            ("Oh", 0.3),
            ("my", -0.05),
            ("God", 0.2),
            ("it", 0.0),
            ("s", 0.02),
            ("Joey", -0.25),
        ];
        let mut inputs = 0;
        let mut classifier = bag_of_words_classifier(&weights);
        let counting = |b: &[String]| {
            inputs += b.len();
            classifier(b)
        };
        let cfg = LimeConfig {
            feature_selection: FeatureSelection::None,
            batch_size: 10,
            ..LimeConfig::text()
        };
        let ex = explain_text(JOEY, &Labels::Given(vec![0, 1]), &cfg, counting).unwrap();
        assert!(ex.neighbourhood.evaluated <= 64, "at most 2^6 distinct strings");
        assert_eq!(inputs, ex.neighbourhood.evaluated);
        assert_eq!(ex.neighbourhood.data.len(), 5000);
        for (row, d) in ex.neighbourhood.data.iter().zip(&ex.neighbourhood.distances) {
            let on = row.iter().filter(|b| **b).count() as f64;
            assert!(
                (d - 100.0 * (1.0 - (on / 6.0).sqrt())).abs() < 1e-9,
                "cosine distance × 100"
            );
        }
        for (e, sign) in ex.explanations.iter().zip([1.0, -1.0]) {
            for (f, (word, w)) in weights.iter().enumerate() {
                assert_eq!(ex.features.word(f), *word);
                assert!(
                    (e.weight_of(f) - sign * w).abs() < 0.01,
                    "{word}: {} vs {w}",
                    e.weight_of(f)
                );
            }
            assert!(e.score > 0.999);
        }
        let top = explain_text(
            JOEY,
            &Labels::Top(1),
            &LimeConfig::text(),
            bag_of_words_classifier(&weights),
        )
        .unwrap();
        assert_eq!(top.explanations[0].label, 1, "p(class 1) = 0.58 for the full text");
        assert_eq!(top.explanations[0].weights.len(), 6);
        assert_eq!(top.explanations[0].weights[0].0, 0, "'Oh' matters most");
    }

    #[test]
    fn seeds_and_degenerate_texts() {
        let weights = [("Oh", 0.3), ("God", 0.2), ("Joey", -0.25)];
        let run = |seed| {
            let cfg = LimeConfig {
                seed,
                num_samples: 300,
                ..LimeConfig::text()
            };
            explain_text(JOEY, &Labels::Given(vec![0]), &cfg, bag_of_words_classifier(&weights)).unwrap()
        };
        assert_eq!(run(4).explanations, run(4).explanations);
        assert_ne!(run(4).neighbourhood.data, run(5).neighbourhood.data);
        let empty = explain_text(
            "?!",
            &Labels::Given(vec![0]),
            &LimeConfig::text(),
            bag_of_words_classifier(&weights),
        );
        let empty = empty.unwrap();
        assert!(empty.explanations[0].weights.is_empty() && empty.neighbourhood.evaluated == 1);
        let failing = explain_text(JOEY, &Labels::Top(1), &LimeConfig::text(), |_: &[String]| {
            Err::<Vec<Vec<f64>>, _>("boom")
        });
        assert!(matches!(failing, Err(LimeError::Classifier(_))));
    }

    /// `cargo test -- --ignored --nocapture text_pipeline_timing`: the whole text pipeline
    /// (sampling, 5000 perturbed strings, de-duplication, fit) with a trivial classifier.
    #[test]
    #[ignore]
    fn text_pipeline_timing() {
        let text = "I said to him, you know what I think? We should all go to the beach, Joey!";
        assert_eq!(Words::new(text).num_words(), 15);
        let start = std::time::Instant::now();
        let ex = explain_text(text, &Labels::Given(vec![0]), &LimeConfig::text(), |b: &[String]| {
            Ok::<_, BoxError>(b.iter().map(|s| vec![s.len() as f64 / 100.0]).collect())
        })
        .unwrap();
        println!(
            "LIME text pipeline: {:.2} ms (5000 samples, 15 words, {} distinct)",
            start.elapsed().as_secs_f64() * 1e3,
            ex.neighbourhood.evaluated
        );
    }
}
