//! Transcripts: who said what, when — and, when the file has it, the ground-truth emotion.
//!
//! Every input format (SRT, WebVTT, MELD/IEMOCAP CSV, a MELD.Raw folder, or Whisper's
//! output) becomes the same [`Dialogue`], so nothing downstream knows where text came from.
//! Problems that can be repaired (reversed times, overlaps, empty cues, unknown labels)
//! become warnings on the dialogue; only an unusable file is an error.

pub mod csv;
pub mod meld_raw;
pub mod srt;
pub mod text;
pub mod vtt;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::emotion::Emotion;

/// One utterance of the dialogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    /// Start and end in seconds of the video (or of `clip` when set).
    pub start: f64,
    pub end: f64,
    pub speaker: Option<String>,
    pub text: String,
    /// Ground truth when the transcript has it.
    pub label: Option<Emotion>,
    /// For MELD.Raw: the clip holding this utterance (times are then relative to it).
    pub clip: Option<PathBuf>,
    /// The utterance's id in its source table (MELD `Utterance_ID`), when it has one.
    pub utt_id: Option<i64>,
}

impl Utterance {
    pub fn new(start: f64, end: f64, speaker: Option<String>, text: impl Into<String>) -> Self {
        Self {
            start,
            end,
            speaker,
            text: text.into(),
            label: None,
            clip: None,
            utt_id: None,
        }
    }

    pub fn duration(&self) -> f64 {
        (self.end - self.start).max(0.0)
    }
}

/// A dialogue: its utterances in order, and what was repaired on the way in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dialogue {
    pub utterances: Vec<Utterance>,
    pub warnings: Vec<String>,
    /// True when the text was produced by automatic transcription.
    pub transcribed: bool,
}

/// A transcript that cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    #[error("cannot read transcript {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("transcript {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

impl Dialogue {
    /// Distinct speakers in order of first appearance.
    pub fn speakers(&self) -> Vec<String> {
        distinct_speakers(self.utterances.iter().map(|u| u.speaker.as_ref()))
    }

    /// Repair what can be repaired and record it: empty texts are dropped, reversed
    /// times swapped, entries sorted by start, overlaps and entries past `duration`
    /// (when known) reported or clipped.
    pub fn normalise(mut self, duration: Option<f64>) -> Self {
        let mut kept = Vec::with_capacity(self.utterances.len());
        let mut too_short = Vec::new();
        for (i, mut u) in std::mem::take(&mut self.utterances).into_iter().enumerate() {
            let n = i + 1;
            u.text = u.text.trim().to_owned();
            if u.text.is_empty() {
                self.warnings.push(format!("entry {n}: empty text, skipped"));
                continue;
            }
            if !u.start.is_finite() || u.end.is_nan() || u.start < 0.0 {
                self.warnings.push(format!("entry {n}: invalid times, skipped"));
                continue;
            }
            if u.end < u.start {
                self.warnings
                    .push(format!("entry {n}: end before start, times swapped"));
                std::mem::swap(&mut u.start, &mut u.end);
            }
            // Shorter than a video frame: nothing to see or hear (10,000 cues of 1 ms took
            // 1.3 s each). Tables without times (every entry 0–0) are not timed, not short.
            let timed = u.start > 0.0 || u.end > 0.0;
            if timed && u.clip.is_none() && u.end - u.start < MIN_SECONDS {
                too_short.push(n);
                continue;
            }
            if let (Some(d), None) = (duration, &u.clip) {
                if u.start >= d {
                    self.warnings.push(format!(
                        "entry {n}: starts at {:.2}s, after the video ends ({d:.2}s), skipped",
                        u.start
                    ));
                    continue;
                }
                if u.end > d {
                    self.warnings
                        .push(format!("entry {n}: ends after the video, clipped to {d:.2}s"));
                    u.end = d;
                }
            }
            kept.push(u);
        }
        if kept
            .windows(2)
            .any(|w| w[1].start < w[0].start && w[0].clip == w[1].clip)
        {
            self.warnings
                .push("entries were out of order and have been sorted by start time".into());
            kept.sort_by(|a, b| a.start.total_cmp(&b.start));
        }
        for (i, w) in kept.windows(2).enumerate() {
            if w[0].clip == w[1].clip && w[1].start < w[0].end {
                self.warnings.push(format!(
                    "entries {} and {} overlap by {:.2}s",
                    i + 1,
                    i + 2,
                    w[0].end - w[1].start
                ));
            }
        }
        if !too_short.is_empty() {
            let shown: Vec<String> = too_short.iter().take(10).map(usize::to_string).collect();
            self.warnings.push(format!(
                "{} entries shorter than {:.0} ms (a video frame) skipped: entry {}{}",
                too_short.len(),
                MIN_SECONDS * 1000.0,
                shown.join(", "),
                if too_short.len() > 10 { ", …" } else { "" }
            ));
        }
        self.utterances = kept;
        self
    }
}

/// Distinct named speakers in order of first appearance.
pub fn distinct_speakers<'a>(speakers: impl Iterator<Item = Option<&'a String>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in speakers.flatten() {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// Shortest utterance kept: one frame at 25 fps.
pub const MIN_SECONDS: f64 = 0.04;

/// Largest transcript read: a 3-hour film's SRT is ~200 KB, MELD's train CSV 1.4 MB.
pub const MAX_TRANSCRIPT_BYTES: u64 = 64 << 20;

/// Load a transcript by its extension: `.srt`, `.vtt`, `.csv`/`.tsv`.
pub fn load(path: &Path) -> Result<Dialogue, TranscriptError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let raw = crate::fsutil::read_limited(path, MAX_TRANSCRIPT_BYTES).map_err(|source| TranscriptError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let (content, note) = text::decode(&raw);
    let invalid = |reason: String| TranscriptError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let mut dialogue = match ext.as_str() {
        "srt" => srt::parse(&content).map_err(invalid)?,
        "vtt" => vtt::parse(&content).map_err(invalid)?,
        "csv" | "tsv" => {
            let mut dialogues = csv::parse(&content).map_err(invalid)?;
            if dialogues.len() != 1 {
                let ids: Vec<String> = dialogues.iter().map(|(id, _)| id.clone()).collect();
                return Err(invalid(format!(
                    "holds {} dialogues ({}); open one dialogue's video with a CSV of that dialogue, or use `amuse analyze` on a MELD.Raw folder",
                    dialogues.len(),
                    ids.join(", ")
                )));
            }
            dialogues.remove(0).1
        }
        other => {
            return Err(invalid(format!(
                "unknown transcript type `.{other}` (expected .srt, .vtt or .csv)"
            )))
        }
    };
    if let Some(note) = note {
        dialogue.warnings.insert(0, note);
    }
    Ok(dialogue)
}

/// The transcript beside a video (`x.mp4` → `x.csv`, `x.srt`, `x.vtt`), if any. A CSV
/// comes first because it can carry ground-truth labels for the annotator view.
pub fn find_beside(video: &Path) -> Option<PathBuf> {
    ["csv", "srt", "vtt"]
        .iter()
        .map(|ext| video.with_extension(ext))
        .find(|p| p.is_file())
}

/// Split `Name: text` into speaker and text when the prefix looks like a name
/// (1–4 words, ≤ 32 characters, no sentence punctuation).
pub fn split_speaker(line: &str) -> (Option<String>, String) {
    if let Some((name, rest)) = line.split_once(':') {
        let name = name.trim();
        let plausible = !name.is_empty()
            && name.chars().count() <= 32
            && name.split_whitespace().count() <= 4
            && !name
                .chars()
                .any(|c| matches!(c, '.' | '!' | '?' | ',' | '"' | '[' | '('))
            && (!name.chars().any(|c| c.is_ascii_digit()) || numbered_name(name))
            && !rest.starts_with("//");
        if plausible {
            return (Some(name.to_owned()), rest.trim().to_owned());
        }
    }
    (None, line.trim().to_owned())
}

/// `Speaker 2`, `Voice 10`: a capitalised word and a number (what automatic transcription
/// names speakers), the only names allowed to hold digits.
fn numbered_name(name: &str) -> bool {
    let words: Vec<&str> = name.split_whitespace().collect();
    matches!(words.as_slice(), [w, n]
        if w.chars().all(char::is_alphabetic)
            && w.chars().next().is_some_and(char::is_uppercase)
            && n.len() <= 3
            && n.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaker_prefixes_are_recognised_but_not_times_or_urls() {
        assert_eq!(
            split_speaker("Grace: Hello there"),
            (Some("Grace".into()), "Hello there".into())
        );
        assert_eq!(
            split_speaker("The Interviewer: Yes."),
            (Some("The Interviewer".into()), "Yes.".into())
        );
        assert_eq!(split_speaker("Meet at 10:30 ok").0, None);
        assert_eq!(split_speaker("Speaker 2: Hi").0.as_deref(), Some("Speaker 2"));
        assert_eq!(split_speaker("at 10:30 ok").0, None);
        assert_eq!(split_speaker("see http://x.org").0, None);
        assert_eq!(split_speaker("Wait. Then: go").0, None);
    }

    #[test]
    fn entries_shorter_than_a_frame_are_skipped_with_one_warning() {
        let mut d = Dialogue::default();
        for i in 0..10_000 {
            let t = i as f64 * 0.001;
            d.utterances.push(Utterance::new(t, t + 0.001, None, "x"));
        }
        d.utterances.push(Utterance::new(10.0, 12.0, None, "kept"));
        let d = d.normalise(Some(20.0));
        assert_eq!(d.utterances.len(), 1);
        assert_eq!(d.warnings.len(), 1, "{:?}", &d.warnings[..3.min(d.warnings.len())]);
        assert!(
            d.warnings[0].starts_with("10000 entries shorter than 40 ms"),
            "{}",
            d.warnings[0]
        );
        // Untimed tables (every entry 0–0) are kept.
        let mut d = Dialogue::default();
        d.utterances.push(Utterance::new(0.0, 0.0, None, "no times"));
        assert_eq!(d.normalise(None).utterances.len(), 1);
    }

    #[test]
    fn normalise_repairs_and_reports() {
        let d = Dialogue {
            utterances: vec![
                Utterance::new(5.0, 4.0, None, "reversed"),
                Utterance::new(0.0, 2.0, None, "  "),
                Utterance::new(1.0, 3.0, None, "first"),
                Utterance::new(2.5, 3.5, None, "overlaps"),
                Utterance::new(9.0, 12.0, None, "clipped"),
                Utterance::new(20.0, 21.0, None, "past the end"),
            ],
            ..Default::default()
        }
        .normalise(Some(10.0));
        let texts: Vec<&str> = d.utterances.iter().map(|u| u.text.as_str()).collect();
        assert_eq!(texts, ["first", "overlaps", "reversed", "clipped"]);
        assert_eq!((d.utterances[2].start, d.utterances[2].end), (4.0, 5.0));
        assert_eq!(d.utterances[3].end, 10.0);
        let w = d.warnings.join("\n");
        for needle in [
            "empty text",
            "swapped",
            "overlap",
            "clipped",
            "after the video ends",
            "sorted",
        ] {
            assert!(w.contains(needle), "missing warning {needle}: {w}");
        }
    }
}
