//! WebVTT (`.vtt`): `WEBVTT` header, cues with optional ids, `<v Name>` voice spans or
//! `Name: text` for speakers; NOTE/STYLE/REGION blocks ignored.

use super::srt::strip_tags;
use super::text::parse_timestamp;
use super::{split_speaker, Dialogue, Utterance};

pub fn parse(content: &str) -> Result<Dialogue, String> {
    let content = content.replace("\r\n", "\n").replace('\r', "\n");
    if !content.trim_start().starts_with("WEBVTT") {
        return Err("missing the `WEBVTT` header (is this a WebVTT file?)".into());
    }
    let mut dialogue = Dialogue::default();
    for (i, block) in content
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .enumerate()
    {
        if i == 0 && block.starts_with("WEBVTT") && !block.contains("-->") {
            continue;
        }
        if ["NOTE", "STYLE", "REGION"].iter().any(|k| block.starts_with(k)) {
            continue;
        }
        let mut lines = block.lines().skip_while(|l| l.starts_with("WEBVTT"));
        let Some(mut timing) = lines.next() else { continue };
        if !timing.contains("-->") {
            timing = lines.next().unwrap_or("");
        }
        let Some((a, b)) = timing.split_once("-->") else {
            dialogue
                .warnings
                .push(format!("cue {}: no `start --> end` line, skipped", i + 1));
            continue;
        };
        let (Some(start), Some(end)) = (
            parse_timestamp(a),
            parse_timestamp(b.split_whitespace().next().unwrap_or("")),
        ) else {
            dialogue
                .warnings
                .push(format!("cue {}: unreadable times `{}`, skipped", i + 1, timing.trim()));
            continue;
        };
        let raw: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
        let raw = raw.join(" ");
        let (speaker, text) = match voice(&raw) {
            Some(name) => (Some(name), strip_tags(&raw)),
            None => split_speaker(&strip_tags(&raw)),
        };
        dialogue.utterances.push(Utterance::new(start, end, speaker, text));
    }
    if dialogue.utterances.is_empty() {
        return Err("no cue could be read".into());
    }
    Ok(dialogue)
}

/// The name of the first `<v Name>` (or `<v.class Name>`) span.
fn voice(s: &str) -> Option<String> {
    let start = s.find("<v")?;
    let rest = &s[start + 2..];
    if !rest.starts_with([' ', '.']) {
        return None;
    }
    let end = rest.find('>')?;
    let inner = &rest[..end];
    let name = if let Some(stripped) = inner.strip_prefix('.') {
        stripped.split_once(' ').map(|(_, n)| n).unwrap_or("")
    } else {
        inner
    };
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voices_ids_and_short_times() {
        let vtt = "WEBVTT - demo\n\nNOTE a comment\n\nintro\n00:01.000 --> 00:02.000 align:start\n<v Eileen>We made it!</v>\n\n00:00:03.000 --> 00:00:04.500\nCam: What now?\n\n00:05.000 --> 00:06.000\n<v.loud Grace Hopper>Careful.\n";
        let d = parse(vtt).unwrap();
        let got: Vec<(Option<&str>, &str, f64)> = d
            .utterances
            .iter()
            .map(|u| (u.speaker.as_deref(), u.text.as_str(), u.start))
            .collect();
        assert_eq!(
            got,
            [
                (Some("Eileen"), "We made it!", 1.0),
                (Some("Cam"), "What now?", 3.0),
                (Some("Grace Hopper"), "Careful.", 5.0)
            ]
        );
    }

    #[test]
    fn header_required() {
        assert!(parse("00:01.000 --> 00:02.000\nhi").is_err());
        assert!(parse("WEBVTT\n\n").is_err());
    }
}
