//! Entry points that push arbitrary bytes through each user-file parser the way the tool
//! reads them (bytes → text decoding → parser → repair), and check what the rest of the
//! pipeline relies on. Shared by the cargo-fuzz targets in `fuzz/` and by the test that
//! replays the committed corpora, so CI (which does not fuzz) still runs every saved input.
//!
//! Each function must never panic: a parser may refuse an input, but only with an error.

use crate::annotations;
use crate::transcript::{csv, srt, text, vtt, Dialogue};

/// The MELD `*_sent_emo.csv` header (prepended by [`csv_table`] when the first byte asks).
pub const MELD_HEADER: &str =
    "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n";
/// An IEMOCAP-style tab-separated header.
pub const IEMOCAP_HEADER: &str = "text\tspeaker\tstart\tend\tlabel\n";

/// An SRT file.
pub fn srt(bytes: &[u8]) {
    let (content, _) = text::decode(bytes);
    if let Ok(d) = srt::parse(&content) {
        check(d);
    }
}

/// A WebVTT file.
pub fn vtt(bytes: &[u8]) {
    let (content, _) = text::decode(bytes);
    if let Ok(d) = vtt::parse(&content) {
        check(d);
    }
}

/// A CSV/TSV table. The first byte picks the style so the fuzzer spends its time on rows,
/// not on rediscovering column names: `0` MELD header, `1` IEMOCAP header, otherwise the
/// bytes are the whole file.
pub fn csv_table(bytes: &[u8]) {
    let (header, body) = match bytes.split_first() {
        Some((0, rest)) => (MELD_HEADER, rest),
        Some((1, rest)) => (IEMOCAP_HEADER, rest),
        _ => ("", bytes),
    };
    let (content, _) = text::decode(body);
    if let Ok(dialogues) = csv::parse(&format!("{header}{content}")) {
        assert!(!dialogues.is_empty(), "Ok with no dialogue");
        for (_, d) in dialogues {
            check(d);
        }
    }
}

/// An annotation sidecar (`<video>.amuse.json`). What is accepted must survive the
/// editor's operations, and what is then saved must read back.
pub fn annotation_sidecar(bytes: &[u8]) {
    let Ok(mut a) = annotations::parse(bytes) else { return };
    let saved = a.to_json();
    let again = annotations::parse(&saved).expect("a parsed sidecar, saved again, reads back");
    assert_eq!(again.entries.len(), a.entries.len(), "entries lost in a save");
    while a.undo().is_some() {}
    while a.redo().is_some() {}
    annotations::parse(&a.to_json()).expect("after undo/redo the sidecar still reads back");
}

/// What downstream code relies on after [`Dialogue::normalise`]: finite, non-negative,
/// ordered times within the video, no empty text; and the SRT writer accepts the result.
fn check(d: Dialogue) {
    let duration = 60.0;
    let d = d.normalise(Some(duration));
    for u in &d.utterances {
        assert!(
            u.start.is_finite() && u.start >= 0.0 && u.start < duration,
            "start {}",
            u.start
        );
        assert!(
            u.end >= u.start && u.end <= duration,
            "end {} (start {})",
            u.end,
            u.start
        );
        assert!(!u.text.trim().is_empty(), "empty text kept");
    }
    assert!(d.utterances.windows(2).all(|w| w[0].start <= w[1].start), "not sorted");
    let rendered = srt::render(&d);
    if !d.utterances.is_empty() {
        let back = srt::parse(&rendered).expect("the SRT writer's output reads back");
        assert_eq!(back.utterances.len(), d.utterances.len(), "round trip lost cues");
    }
}
