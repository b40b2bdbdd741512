//! ELAN `.eaf` (EAF 3.0 XML): one time slot per utterance boundary (milliseconds), a tier per
//! speaker with the transcript, one tier with the predictions and one with the annotator's
//! corrections, so the analysis can be checked and refined in ELAN.

use std::fmt::Write;
use std::path::Path;

use super::Row;

/// Tier names besides the speakers'.
pub const PREDICTION_TIER: &str = "AMuSE prediction";
pub const CORRECTION_TIER: &str = "correction";
/// The tier of utterances without a speaker name.
pub const UNKNOWN_SPEAKER: &str = "unknown speaker";

/// Escape text for XML attribute values and content; characters XML 1.0 forbids (control
/// characters other than tab, newline, carriage return) are dropped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The text of a correction annotation: the label, "unsure" and the note when present.
pub fn correction_text(r: &Row) -> Option<String> {
    let mut parts: Vec<String> = r.correction.iter().cloned().collect();
    if r.unsure {
        parts.push("unsure".into());
    }
    if !r.note.is_empty() {
        parts.push(format!("note: {}", r.note));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The text of a prediction annotation.
pub fn prediction_text(r: &Row) -> String {
    format!("{} {:.0}%", r.prediction, r.confidence * 100.0)
}

/// Start and end of a row in whole milliseconds (end after start, as ELAN requires).
pub fn millis(r: &Row) -> (u64, u64) {
    let start = (r.start.max(0.0) * 1000.0).round() as u64;
    let end = ((r.end.max(0.0) * 1000.0).round() as u64).max(start + 1);
    (start, end)
}

/// The speaker tier of a row.
pub fn speaker_tier(r: &Row) -> &str {
    r.speaker
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(UNKNOWN_SPEAKER)
}

pub fn write(rows: &[Row], video: Option<&Path>) -> String {
    let mut x = String::new();
    let _ = writeln!(x, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        x,
        r#"<ANNOTATION_DOCUMENT AUTHOR="amuse" DATE="{}" FORMAT="3.0" VERSION="3.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd">"#,
        now_iso8601()
    );
    let _ = writeln!(x, r#"  <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">"#);
    if let Some(v) = video {
        let abs = std::fs::canonicalize(v).unwrap_or_else(|_| v.to_path_buf());
        let name = v
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            x,
            r#"    <MEDIA_DESCRIPTOR MEDIA_URL="file://{}" MIME_TYPE="video/mp4" RELATIVE_MEDIA_URL="./{}"/>"#,
            escape(&abs.display().to_string()),
            escape(&name)
        );
    }
    let _ = writeln!(x, "  </HEADER>\n  <TIME_ORDER>");
    for (i, r) in rows.iter().enumerate() {
        let (s, e) = millis(r);
        let _ = writeln!(x, r#"    <TIME_SLOT TIME_SLOT_ID="ts{}" TIME_VALUE="{s}"/>"#, 2 * i + 1);
        let _ = writeln!(x, r#"    <TIME_SLOT TIME_SLOT_ID="ts{}" TIME_VALUE="{e}"/>"#, 2 * i + 2);
    }
    let _ = writeln!(x, "  </TIME_ORDER>");
    let mut speakers: Vec<&str> = Vec::new();
    for r in rows {
        let s = speaker_tier(r);
        if !speakers.contains(&s) {
            speakers.push(s);
        }
    }
    let mut id = 0usize;
    let mut tier = |x: &mut String, name: &str, values: &mut dyn Iterator<Item = (usize, String)>| {
        let _ = writeln!(
            x,
            r#"  <TIER LINGUISTIC_TYPE_REF="default-lt" TIER_ID="{}">"#,
            escape(name)
        );
        for (i, value) in values {
            id += 1;
            let _ = writeln!(
                x,
                r#"    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a{id}" TIME_SLOT_REF1="ts{}" TIME_SLOT_REF2="ts{}"><ANNOTATION_VALUE>{}</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>"#,
                2 * i + 1,
                2 * i + 2,
                escape(&value)
            );
        }
        let _ = writeln!(x, "  </TIER>");
    };
    for s in &speakers {
        let mut it = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| speaker_tier(r) == *s)
            .map(|(i, r)| (i, r.text.clone()));
        tier(&mut x, s, &mut it);
    }
    tier(
        &mut x,
        PREDICTION_TIER,
        &mut rows.iter().enumerate().map(|(i, r)| (i, prediction_text(r))),
    );
    tier(
        &mut x,
        CORRECTION_TIER,
        &mut rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| correction_text(r).map(|c| (i, c))),
    );
    let _ = writeln!(
        x,
        r#"  <LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="default-lt" TIME_ALIGNABLE="true"/>"#
    );
    let _ = writeln!(x, "</ANNOTATION_DOCUMENT>");
    x
}

/// The current UTC time as `YYYY-MM-DDThh:mm:ss+00:00` (EAF's DATE attribute).
fn now_iso8601() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
