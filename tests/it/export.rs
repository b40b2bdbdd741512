//! Round trips of the exports on a dialogue with awkward text (XML and CSV metacharacters,
//! quotes, a newline, non-Latin script), corrections, an unsure flag, a note and word weights:
//! CSV and JSON are read back equal; the ELAN file is parsed as XML and its time slots, tiers
//! and annotation texts are read back.

use std::collections::HashMap;

use amuse::analysis::explain_words::WordExplanation;
use amuse::analysis::fit::Fit;
use amuse::analysis::result::{DialogueResult, UtteranceResult};
use amuse::emotion::Emotion;
use amuse::export::{self, eaf, Format, Row, Source};
use amuse_formats::annotations::{Annotations, LabelSet};

fn utterance(
    start: f64,
    end: f64,
    speaker: Option<&str>,
    text: &str,
    top: usize,
    label: Option<Emotion>,
) -> UtteranceResult {
    let mut probs = [0.02f32; 7];
    probs[top] = 0.88;
    let visual = [0.1f32, 0.4, 0.1, 0.1, 0.1, 0.1, 0.1];
    // Built from JSON so that fields added later with defaults do not break the test.
    serde_json::from_value(serde_json::json!({
        "start": start,
        "end": end,
        "speaker": speaker,
        "text": text,
        "label": label,
        "probs": probs,
        "modality_probs": [probs, null, visual],
        "keyframe_times": [],
        "keyframes": [],
        "audio_seconds": end - start,
        "face_expression": null,
    }))
    .unwrap()
}

fn dialogue() -> (DialogueResult, Annotations, HashMap<usize, WordExplanation>) {
    let result = DialogueResult {
        utterances: vec![
            utterance(
                0.0,
                1.234,
                Some("Ross & <Rachel>"),
                "She said \"no\", then 'yes' & left.",
                4,
                Some(Emotion::Joy),
            ),
            utterance(
                1.3,
                2.0004,
                None,
                "Line one,\nline two; a < b > c",
                6,
                Some(Emotion::Sadness),
            ),
            utterance(2.5, 3.1, Some("Ross & <Rachel>"), "Ça va? 你好 — fine.", 0, None),
            utterance(3.2, 3.2, Some("Monica"), "Oh.", 1, Some(Emotion::Surprise)),
        ],
        checkpoint: "models/amuse".into(),
        ..Default::default()
    };
    let mut a = Annotations::new(LabelSet::meld());
    let k = |i: usize| export::key(i, &result.utterances[i]);
    a.set_correction(&k(1), Some("anger")).unwrap();
    a.toggle_unsure(&k(1)).unwrap();
    a.set_note(&k(1), "shouting & \"crying\" <both>").unwrap();
    a.set_correction(&k(2), Some("fear")).unwrap();
    let mut ex = HashMap::new();
    ex.insert(
        0,
        WordExplanation {
            utterance: 0,
            pieces: Vec::new(),
            top: vec![("yes".into(), 0.25), ("no".into(), -0.125)],
            fit: Fit {
                label: Emotion::Joy,
                intercept: 0.1,
                score: 0.5,
                local_pred: 0.7,
                samples: 100,
                evaluated: 50,
                seconds: 1.0,
            },
        },
    );
    (result, a, ex)
}

fn source() -> Source<'static> {
    Source {
        video: Some(std::path::Path::new("/tmp/episode & co.mp4")),
        checkpoint: "models/amuse",
        label_set: "meld",
    }
}

#[test]
fn rows_carry_corrections_truth_and_explanations() {
    let (result, a, ex) = dialogue();
    let rows = export::rows(&result, Some(&a), &ex);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].prediction, Emotion::Joy);
    assert_eq!(rows[0].explanation.len(), 2);
    assert_eq!(rows[1].correction.as_deref(), Some("anger"));
    assert!(rows[1].unsure);
    assert_eq!(
        rows[1].truth(),
        Some(Emotion::Anger),
        "the correction overrides the transcript"
    );
    assert_eq!(rows[2].truth(), Some(Emotion::Fear));
    assert_eq!(
        rows[0].modality_predictions,
        [Some(Emotion::Joy), None, Some(Emotion::Surprise)]
    );
    // Agreement: truths joy/anger/fear/surprise vs predictions joy/anger/neutral/surprise.
    let report = amuse::export::agreement::of_rows(&rows).unwrap();
    assert_eq!(report.n, 4);
    assert!((report.accuracy - 0.75).abs() < 1e-12);
    assert_eq!(report.confusion[Emotion::Fear.index()][Emotion::Neutral.index()], 1);
}

#[test]
fn csv_and_json_read_back_equal() {
    let (result, a, ex) = dialogue();
    let rows = export::rows(&result, Some(&a), &ex);
    let csv = export::render(Format::Csv, &rows, &source()).unwrap();
    let back: Vec<Row> = export::csv::read(&csv).unwrap();
    assert_eq!(back, rows);
    let header = String::from_utf8_lossy(&csv).lines().next().unwrap().to_owned();
    assert!(
        header.starts_with("index,start,end,speaker,text,prediction,confidence,p_neutral"),
        "{header}"
    );

    let json = export::render(Format::Json, &rows, &source()).unwrap();
    let doc = export::json::read(&json).expect("a complete export");
    assert_eq!(doc.utterances, rows);
    assert_eq!(doc.video.as_deref(), Some("/tmp/episode & co.mp4"));
    assert!(doc.agreement.is_some());
    assert!(
        export::json::read(&json[..json.len() / 2]).is_none(),
        "a truncated file is not complete"
    );
}

#[test]
fn eaf_is_xml_with_the_same_tiers_times_and_texts() {
    let (result, a, ex) = dialogue();
    let rows = export::rows(&result, Some(&a), &ex);
    let xml = String::from_utf8(export::render(Format::Eaf, &rows, &source()).unwrap()).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "ANNOTATION_DOCUMENT");
    assert_eq!(root.attribute("FORMAT"), Some("3.0"));
    let date = root.attribute("DATE").unwrap();
    assert!(
        date.len() == 25 && date.starts_with("20") && date.ends_with("+00:00"),
        "{date}"
    );
    let media = root.descendants().find(|n| n.has_tag_name("MEDIA_DESCRIPTOR")).unwrap();
    assert_eq!(media.attribute("RELATIVE_MEDIA_URL"), Some("./episode & co.mp4"));
    let slots: HashMap<&str, u64> = root
        .descendants()
        .filter(|n| n.has_tag_name("TIME_SLOT"))
        .map(|n| {
            (
                n.attribute("TIME_SLOT_ID").unwrap(),
                n.attribute("TIME_VALUE").unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(slots.len(), 8);
    // Every tier, re-read as (start ms, end ms, text).
    let mut tiers: HashMap<String, Vec<(u64, u64, String)>> = HashMap::new();
    let mut order = Vec::new();
    for t in root.children().filter(|n| n.has_tag_name("TIER")) {
        assert_eq!(t.attribute("LINGUISTIC_TYPE_REF"), Some("default-lt"));
        let id = t.attribute("TIER_ID").unwrap().to_owned();
        order.push(id.clone());
        let anns = t
            .descendants()
            .filter(|n| n.has_tag_name("ALIGNABLE_ANNOTATION"))
            .map(|n| {
                let s = slots[n.attribute("TIME_SLOT_REF1").unwrap()];
                let e = slots[n.attribute("TIME_SLOT_REF2").unwrap()];
                let v = n.children().find(|c| c.has_tag_name("ANNOTATION_VALUE")).unwrap();
                (s, e, v.text().unwrap_or("").to_owned())
            })
            .collect();
        tiers.insert(id, anns);
    }
    assert_eq!(
        order,
        [
            "Ross & <Rachel>",
            "unknown speaker",
            "Monica",
            "AMuSE prediction",
            "correction"
        ]
    );
    assert_eq!(
        tiers["Ross & <Rachel>"],
        [
            (0, 1234, "She said \"no\", then 'yes' & left.".to_owned()),
            (2500, 3100, "Ça va? 你好 — fine.".to_owned())
        ]
    );
    assert_eq!(
        tiers["unknown speaker"],
        [(1300, 2000, "Line one,\nline two; a < b > c".to_owned())]
    );
    assert_eq!(
        tiers["Monica"],
        [(3200, 3201, "Oh.".to_owned())],
        "a zero-length line gets 1 ms"
    );
    let predictions: Vec<&str> = tiers["AMuSE prediction"].iter().map(|t| t.2.as_str()).collect();
    assert_eq!(predictions, ["joy 88%", "anger 88%", "neutral 88%", "surprise 88%"]);
    assert_eq!(
        tiers["correction"],
        [
            (
                1300,
                2000,
                "anger; unsure; note: shouting & \"crying\" <both>".to_owned()
            ),
            (2500, 3100, "fear".to_owned())
        ]
    );
    let ids: Vec<&str> = root
        .descendants()
        .filter_map(|n| n.attribute("ANNOTATION_ID"))
        .collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "annotation ids are unique");
    assert_eq!(
        eaf::escape("a\u{1}b<"),
        "ab&lt;",
        "control characters XML forbids are dropped"
    );
}

#[test]
fn the_format_follows_the_file_name_and_saves_atomically() {
    let (result, a, ex) = dialogue();
    let rows = export::rows(&result, Some(&a), &ex);
    let dir = tempfile::tempdir().unwrap();
    for f in Format::ALL {
        let p = dir.path().join(format!("out.{}", f.extension()));
        export::save(&p, &rows, &source()).unwrap();
        assert!(std::fs::metadata(&p).unwrap().len() > 100);
    }
    let err = export::save(&dir.path().join("out.txt"), &rows, &source()).unwrap_err();
    assert!(err.to_string().contains("use a .csv, .json or .eaf"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

/// The word and segment explanations share one `Fit` (flattened when serialised): their JSON
/// keeps the flat keys it had before, and reads back equal.
#[test]
fn explanation_json_keeps_its_flat_keys() {
    use amuse::analysis::explain_audio::{SegmentExplanation, SegmentWeight};
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
        k.sort();
        k
    };
    let fit = [
        "evaluated",
        "intercept",
        "label",
        "local_pred",
        "samples",
        "score",
        "seconds",
    ];
    let expect = |own: &[&str]| {
        let mut k: Vec<String> = own.iter().chain(&fit).map(|s| s.to_string()).collect();
        k.sort();
        k
    };
    let (_, _, ex) = dialogue();
    let words = &ex[&0];
    let json = serde_json::to_value(words).unwrap();
    assert_eq!(keys(&json), expect(&["utterance", "pieces", "top"]));
    assert_eq!(json["label"], "joy");
    assert_eq!(json["samples"], 100);
    let back: WordExplanation = serde_json::from_value(json).unwrap();
    assert_eq!(&back, words);

    let segments = SegmentExplanation {
        utterance: 1,
        segments: vec![SegmentWeight {
            start: 0.5,
            end: 1.0,
            weight: Some(-0.2),
        }],
        fit: words.fit.clone(),
    };
    let json = serde_json::to_value(&segments).unwrap();
    assert_eq!(keys(&json), expect(&["utterance", "segments"]));
    assert_eq!(json["evaluated"], 50);
    let back: SegmentExplanation = serde_json::from_value(json).unwrap();
    assert_eq!(back, segments);
}
