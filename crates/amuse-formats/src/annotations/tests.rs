//! Tests of the annotation model: undo/redo, re-keying after re-segmentation, refusals.

use super::*;

fn key(i: usize, start: f64, text: &str) -> UtteranceKey {
    UtteranceKey::new(i, start, text)
}

#[test]
fn edits_undo_redo_and_round_trip() {
    let mut a = Annotations::new(LabelSet::meld());
    let k = key(2, 4.0, "Oh my God!");
    assert!(a.set_correction(&k, Some("surprise")).unwrap());
    assert!(
        !a.set_correction(&k, Some("surprise")).unwrap(),
        "no-op edits are not recorded"
    );
    a.toggle_unsure(&k).unwrap();
    a.set_note(&k, "laughs, could be joy  ").unwrap();
    assert_eq!(a.get(&k).note, "laughs, could be joy");
    assert_eq!(a.get(&k).emotion(), Some(Emotion::Surprise));
    let back = parse(&a.to_json()).unwrap();
    assert_eq!(back, a);
    assert_eq!(a.undo(), Some(k.clone()));
    assert_eq!(a.undo(), Some(k.clone()));
    assert_eq!(a.get(&k).correction.as_deref(), Some("surprise"));
    assert!(!a.get(&k).unsure);
    a.redo();
    assert!(a.get(&k).unsure);
    a.undo();
    a.undo();
    assert!(a.entries.is_empty(), "undoing everything leaves no entry");
    assert!(a.undo().is_none());
    // A new edit clears the redo stack.
    a.set_correction(&k, Some("joy")).unwrap();
    assert!(a.redo().is_none());
    let err = a.set_correction(&k, Some("excited")).unwrap_err();
    assert!(err.to_string().contains("not in the label set"), "{err}");
}

#[test]
fn corrections_follow_their_line_when_the_transcript_is_resegmented() {
    let mut a = Annotations::new(LabelSet::iemocap());
    a.set_correction(&key(3, 10.0, "I can't  believe it."), Some("frustrated"))
        .unwrap();
    // A line was inserted before it: same text and start, new index.
    assert_eq!(
        a.get(&key(4, 10.1, "I can't believe it.")).correction.as_deref(),
        Some("frustrated")
    );
    assert_eq!(a.get(&key(4, 10.1, "I can't believe it.")).emotion(), None);
    // Another line now at index 3 does not inherit it.
    assert!(a.get(&key(3, 10.0, "Something else.")).is_empty());
    assert_eq!(a.orphans(&[key(3, 10.0, "Something else.")]).len(), 1);
    assert!(a.orphans(&[key(4, 10.1, "I can't believe it.")]).is_empty());
}

#[test]
fn bad_bytes_are_refused_with_a_reason() {
    let cases: [(&[u8], &str); 6] = [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"{\"format\": \"amuse-annotations\"", "not valid"),
        (b"{\"format\": \"elan\"}", "\"elan\" file"),
        (b"[1, 2]", "not amuse annotations"),
        (
            b"{\"format\":\"amuse-annotations\",\"version\":9,\"label_set\":{\"name\":\"x\",\"labels\":[\"a\"]},\"entries\":[]}",
            "newer",
        ),
        (
            b"{\"format\":\"amuse-annotations\",\"version\":1,\"label_set\":{\"name\":\"meld\",\"labels\":[\"joy\"]},\"entries\":[{\"key\":{\"index\":0,\"start\":0.0,\"text_hash\":\"0\"},\"correction\":\"rage\"}]}",
            "\"rage\" is not in the label set",
        ),
    ];
    for (bytes, want) in cases {
        let err = parse(bytes).unwrap_err().to_string();
        assert!(err.contains(want), "{err:?} should mention {want:?}");
    }
}

#[test]
fn text_hash_ignores_spacing_only() {
    assert_eq!(text_hash(" a  b\n"), text_hash("a b"));
    assert_ne!(text_hash("a b"), text_hash("ab"));
    assert_eq!(text_hash("").len(), 16);
}

#[test]
fn label_sets_by_name() {
    assert_eq!(LabelSet::by_name("IEMOCAP"), Some(LabelSet::iemocap()));
    assert_eq!(LabelSet::by_name("meld"), Some(LabelSet::meld()));
    assert_eq!(LabelSet::by_name("ravdess"), None);
    assert_eq!(LabelSet::iemocap().labels[4], "excited", "key 5 in the IEMOCAP set");
}
