//! Bytes to text, and subtitle timestamps to seconds.
//!
//! Subtitles in the wild come as UTF-8 (with or without BOM), UTF-16 with BOM, or legacy
//! 8-bit encodings (Windows-1252/Latin-1). We decode all of them rather than refuse, and say
//! so when we had to guess.

use encoding_rs::{UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

/// Decode a transcript file. Returns the text and, when not plain UTF-8, a note for the user.
pub fn decode(raw: &[u8]) -> (String, Option<String>) {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(raw) {
        let (text, had_errors) = enc.decode_without_bom_handling(&raw[bom_len..]);
        let note = if enc == UTF_8 {
            None
        } else {
            Some(format!("transcript decoded as {} (byte-order mark)", enc.name()))
        };
        let note = if had_errors {
            Some(format!(
                "transcript has invalid {} sequences, replaced with �",
                enc.name()
            ))
        } else {
            note
        };
        return (text.into_owned(), note);
    }
    // UTF-16 without BOM: many NUL bytes in alternating positions. Checked before UTF-8,
    // since ASCII text in UTF-16 is also valid UTF-8 (full of NUL characters).
    let nul_even = raw.iter().step_by(2).filter(|&&b| b == 0).count();
    let nul_odd = raw.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if raw.len() >= 4 && (nul_even > raw.len() / 4 || nul_odd > raw.len() / 4) {
        let enc = if nul_odd > nul_even { UTF_16LE } else { UTF_16BE };
        let (text, _) = enc.decode_without_bom_handling(raw);
        return (
            text.into_owned(),
            Some(format!("transcript decoded as {} (no byte-order mark)", enc.name())),
        );
    }
    if let Ok(text) = std::str::from_utf8(raw) {
        return (text.to_owned(), None);
    }
    let (text, _, _) = WINDOWS_1252.decode(raw);
    (
        text.into_owned(),
        Some("transcript is not UTF-8; decoded as Windows-1252/Latin-1".to_owned()),
    )
}

/// Parse `HH:MM:SS,mmm`, `HH:MM:SS.mmm`, `MM:SS.mmm` or plain seconds (`12.5`) to seconds.
pub fn parse_timestamp(s: &str) -> Option<f64> {
    let s = s.trim();
    // "-00:00:03" would otherwise parse as -0 h + 3 s, silently dropping the sign.
    if s.is_empty() || s.contains('-') {
        return None;
    }
    let s = s.replace(',', ".");
    let parts: Vec<&str> = s.split(':').collect();
    let nums: Option<Vec<f64>> = parts
        .iter()
        .map(|p| p.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0))
        .collect();
    let nums = nums?;
    match nums.as_slice() {
        [sec] => Some(*sec),
        [m, sec] if *sec < 60.0 => Some(m * 60.0 + sec),
        [h, m, sec] if *sec < 60.0 && *m < 60.0 => Some(h * 3600.0 + m * 60.0 + sec),
        _ => None,
    }
}

/// Format seconds as an SRT timestamp `HH:MM:SS,mmm`.
pub fn format_srt_time(seconds: f64) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02},{:03}",
        ms / 3_600_000,
        (ms / 60_000) % 60,
        (ms / 1000) % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("00:16:16,059"), Some(976.059));
        assert_eq!(parse_timestamp("01:02.500"), Some(62.5));
        assert_eq!(parse_timestamp("3.25"), Some(3.25));
        assert_eq!(parse_timestamp("-00:00:03,000"), None, "the sign is not dropped");
        assert_eq!(parse_timestamp("00:-1:03"), None);
        assert_eq!(parse_timestamp("00:61:00,000"), None);
        assert_eq!(parse_timestamp("aa:bb"), None);
        assert_eq!(parse_timestamp("-1"), None);
        assert_eq!(format_srt_time(976.059), "00:16:16,059");
    }

    #[test]
    fn encodings() {
        assert_eq!(decode("café".as_bytes()), ("café".into(), None));
        let (t, note) = decode(&[0x63, 0x61, 0x66, 0xe9]);
        assert_eq!(t, "café");
        assert!(note.unwrap().contains("Windows-1252"));
        let mut utf16 = vec![0xff, 0xfe];
        for u in "Hi ’".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let (t, note) = decode(&utf16);
        assert_eq!(t, "Hi ’");
        assert!(note.unwrap().contains("UTF-16LE"));
        let mut no_bom = Vec::new();
        for u in "1\n00:00:01,000".encode_utf16() {
            no_bom.extend_from_slice(&u.to_le_bytes());
        }
        let (t, note) = decode(&no_bom);
        assert_eq!(t, "1\n00:00:01,000", "ASCII in UTF-16 is not taken for UTF-8 with NULs");
        assert!(note.unwrap().contains("no byte-order mark"));
        let (t, note) = decode(&[0xef, 0xbb, 0xbf, b'o', b'k']);
        assert_eq!((t.as_str(), note), ("ok", None));
    }
}
