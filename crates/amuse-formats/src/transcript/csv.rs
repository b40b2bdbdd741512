//! Tabular transcripts: MELD's `*_sent_emo.csv` and IEMOCAP-style `text, speaker, start,
//! end, label` tables, comma- or tab-separated. Columns are found by name
//! (case-insensitive), so column order and extra columns do not matter.

use std::collections::BTreeMap;

use super::text::parse_timestamp;
use super::{Dialogue, Utterance};
use crate::emotion::Emotion;

const TEXT: &[&str] = &["utterance", "text", "transcript", "sentence"];
const SPEAKER: &[&str] = &["speaker", "name"];
const LABEL: &[&str] = &["emotion", "label", "emotion_label"];
const DIALOGUE: &[&str] = &["dialogue_id", "dialogue", "dialog_id", "session"];
const UTTERANCE: &[&str] = &["utterance_id", "utt_id", "turn"];
const START: &[&str] = &["starttime", "start", "start_time", "begin"];
const END: &[&str] = &["endtime", "end", "end_time", "stop"];

/// The field separator of a table, from its header line: the most frequent of comma, tab and
/// semicolon outside quotes (a comma on a tie: the usual CSV).
fn delimiter_of(header: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b'\t', 0), (b';', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in counts.iter_mut() {
                if *d == b {
                    *n += 1;
                }
            }
        }
    }
    counts
        .iter()
        .fold((b',', 0), |best, &(d, n)| if n > best.1 { (d, n) } else { best })
        .0
}

/// Parse a table into its dialogues, `(dialogue id, dialogue)` in order of first appearance
/// (one dialogue with id `""` when there is no dialogue column).
pub fn parse(content: &str) -> Result<Vec<(String, Dialogue)>, String> {
    let delimiter = delimiter_of(content.lines().next().unwrap_or(""));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(content.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("unreadable header: {e}"))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let col = |names: &[&str]| names.iter().find_map(|n| headers.iter().position(|h| h == n));
    let text_col = col(TEXT).ok_or_else(|| {
        format!(
            "no text column (expected one of: {}); found columns: {}",
            TEXT.join(", "),
            headers.join(", ")
        )
    })?;
    let (speaker_col, label_col, dia_col, utt_col, start_col, end_col) = (
        col(SPEAKER),
        col(LABEL),
        col(DIALOGUE),
        col(UTTERANCE),
        col(START),
        col(END),
    );

    let mut order: Vec<String> = Vec::new();
    let mut groups: BTreeMap<String, (Dialogue, Vec<(i64, Utterance)>)> = BTreeMap::new();
    let mut unknown_labels: BTreeMap<String, usize> = BTreeMap::new();
    for (row_no, record) in reader.records().enumerate() {
        let line = row_no + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let id = String::new();
                groups
                    .entry(id.clone())
                    .or_default()
                    .0
                    .warnings
                    .push(format!("line {line}: unreadable row ({e}), skipped"));
                if !order.contains(&id) {
                    order.push(id);
                }
                continue;
            }
        };
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).map(str::trim).filter(|s| !s.is_empty());
        let id = get(dia_col).unwrap_or("").to_owned();
        if !order.contains(&id) {
            order.push(id.clone());
        }
        let (dialogue, rows) = groups.entry(id).or_default();
        let Some(text) = get(Some(text_col)) else {
            dialogue.warnings.push(format!("line {line}: empty text, skipped"));
            continue;
        };
        for (what, c) in [("start", start_col), ("end", end_col)] {
            if let Some(t) = get(c).filter(|t| t.starts_with('-')) {
                return Err(format!(
                    "line {line}: negative {what} time `{t}`: times are counted from the start of the video"
                ));
            }
        }
        let start = get(start_col).and_then(parse_timestamp);
        let end = get(end_col).and_then(parse_timestamp);
        if (start_col.is_some() || end_col.is_some()) && (start.is_none() || end.is_none()) {
            dialogue
                .warnings
                .push(format!("line {line}: unreadable start/end time"));
        }
        let mut u = Utterance::new(
            start.unwrap_or(0.0),
            end.unwrap_or(0.0),
            get(speaker_col).map(str::to_owned),
            text,
        );
        if let Some(label) = get(label_col) {
            u.label = Emotion::parse(label);
            if u.label.is_none() {
                *unknown_labels.entry(label.to_owned()).or_default() += 1;
            }
        }
        u.utt_id = get(utt_col).and_then(|s| s.parse::<i64>().ok());
        let order_key = u.utt_id.unwrap_or(rows.len() as i64);
        rows.push((order_key, u));
    }
    if start_col.is_none() || end_col.is_none() {
        for (d, _) in groups.values_mut() {
            d.warnings
                .push("no start/end time columns: utterances have no times".into());
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for id in order {
        let (mut dialogue, mut rows) = groups.remove(&id).unwrap_or_default();
        if rows.is_empty() {
            continue;
        }
        rows.sort_by_key(|(k, _)| *k);
        dialogue.utterances = rows.into_iter().map(|(_, u)| u).collect();
        for (label, n) in &unknown_labels {
            dialogue.warnings.push(format!(
                "label `{label}` is not one of the 7 MELD emotions ({n} rows): kept without ground truth"
            ));
        }
        out.push((id, dialogue));
    }
    if out.is_empty() {
        return Err("the table has no utterance rows".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meld_rows_group_by_dialogue_and_sort_by_utterance() {
        let csv = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n\
                   2,You must’ve had your hands full.,The Interviewer,neutral,neutral,0,1,8,21,\"00:16:21,940\",\"00:16:23,442\"\n\
                   1,\"also I was the point person, ok\",Chandler,neutral,neutral,0,0,8,21,\"00:16:16,059\",\"00:16:21,731\"\n\
                   3,Oh my God!,Monica,surprise,positive,1,0,8,21,\"00:01:00,000\",\"00:01:01,000\"\n";
        let ds = parse(csv).unwrap();
        assert_eq!(ds.len(), 2);
        let (id, d) = &ds[0];
        assert_eq!(id, "0");
        assert_eq!(d.utterances[0].speaker.as_deref(), Some("Chandler"));
        assert_eq!(d.utterances[0].text, "also I was the point person, ok");
        assert!((d.utterances[0].start - 976.059).abs() < 1e-9);
        assert_eq!(d.utterances[1].label, Some(Emotion::Neutral));
        assert_eq!(ds[1].1.utterances[0].label, Some(Emotion::Surprise));
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    }

    #[test]
    fn iemocap_style_tsv_with_unknown_labels() {
        let tsv = "text\tspeaker\tstart\tend\tlabel\nHi there\tM\t0.5\t1.5\thap\nNo way\tF\t1.6\t2.0\tfru\n";
        let ds = parse(tsv).unwrap();
        let d = &ds[0].1;
        assert_eq!(d.utterances.len(), 2);
        assert_eq!(d.utterances[0].label, Some(Emotion::Joy));
        assert_eq!(d.utterances[1].label, None);
        assert!(d.warnings.iter().any(|w| w.contains("`fru`")));
        assert_eq!((d.utterances[1].start, d.utterances[1].end), (1.6, 2.0));
    }

    #[test]
    fn semicolon_tables_are_read_like_comma_ones() {
        let csv = "Sr No.;Utterance;Speaker;Emotion;StartTime;EndTime\n\
                   1;\"Well; I never\";Monica;surprise;00:00:01,000;00:00:02,500\n";
        let ds = parse(csv).unwrap();
        let u = &ds[0].1.utterances[0];
        assert_eq!(u.text, "Well; I never");
        assert_eq!(u.speaker.as_deref(), Some("Monica"));
        assert_eq!((u.start, u.end), (1.0, 2.5));
        assert_eq!(delimiter_of("a,b;c,d"), b',');
        assert_eq!(delimiter_of("text\tspeaker\tstart"), b'\t');
        assert_eq!(delimiter_of("\"a;b\",c"), b',', "separators inside quotes do not count");
    }

    #[test]
    fn negative_times_are_refused_with_the_line() {
        let csv = "Utterance,Speaker,StartTime,EndTime\nHi,A,\"00:00:01,000\",\"00:00:02,000\"\n\
                   Oh,B,\"-00:00:03,000\",\"00:00:04,000\"\n";
        let err = parse(csv).unwrap_err();
        assert!(err.contains("line 3") && err.contains("negative start time"), "{err}");
    }

    #[test]
    fn missing_text_column_is_a_clear_error() {
        let err = parse("Speaker,Emotion\nA,joy\n").unwrap_err();
        assert!(err.contains("no text column") && err.contains("speaker"), "{err}");
        assert!(parse("Utterance,Speaker\n").is_err());
    }
}
