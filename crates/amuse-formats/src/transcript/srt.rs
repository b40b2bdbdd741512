//! SubRip (`.srt`): numbered cues, `start --> end`, text lines; `Name: text` gives the speaker.

use super::text::parse_timestamp;
use super::{split_speaker, Dialogue, Utterance};

/// Parse SRT text. Malformed cues are skipped with a warning; a file with no usable cue
/// at all is an error.
pub fn parse(content: &str) -> Result<Dialogue, String> {
    let mut dialogue = Dialogue::default();
    let content = content.replace("\r\n", "\n").replace('\r', "\n");
    let mut cue_no = 0usize;
    for block in content.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        cue_no += 1;
        let mut lines = block.lines();
        let mut first = lines.next().unwrap_or("");
        if !first.contains("-->") {
            // The cue number (or junk) line.
            first = lines.next().unwrap_or("");
        }
        let Some((a, b)) = first.split_once("-->") else {
            dialogue
                .warnings
                .push(format!("cue {cue_no}: no `start --> end` line, skipped"));
            continue;
        };
        // Position settings may follow the end time (`X1:… Y1:…`): keep the first token.
        let end_token = b.split_whitespace().next().unwrap_or("");
        let (Some(start), Some(end)) = (parse_timestamp(a), parse_timestamp(end_token)) else {
            dialogue
                .warnings
                .push(format!("cue {cue_no}: unreadable times `{}`, skipped", first.trim()));
            continue;
        };
        let text_lines: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
        let joined = strip_tags(&text_lines.join(" "));
        let (speaker, text) = split_speaker(&joined);
        dialogue.utterances.push(Utterance::new(start, end, speaker, text));
    }
    if dialogue.utterances.is_empty() {
        return Err("no subtitle cue could be read (is this an SRT file?)".into());
    }
    Ok(dialogue)
}

/// Remove `<i>`, `<font …>` and `{\an8}`-style markup.
pub fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth_angle = false;
    let mut depth_brace = false;
    for c in s.chars() {
        match c {
            '<' => depth_angle = true,
            '>' if depth_angle => depth_angle = false,
            '{' => depth_brace = true,
            '}' if depth_brace => depth_brace = false,
            _ if !depth_angle && !depth_brace => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_speakers_tags_and_crlf() {
        let srt = "1\r\n00:00:01,000 --> 00:00:02,500\r\nGrace: <i>Hello</i> there!\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000 X1:10\r\nNo speaker here\r\nsecond line\r\n";
        let d = parse(srt).unwrap();
        assert_eq!(d.utterances.len(), 2);
        assert_eq!(d.utterances[0].speaker.as_deref(), Some("Grace"));
        assert_eq!(d.utterances[0].text, "Hello there!");
        assert_eq!((d.utterances[0].start, d.utterances[0].end), (1.0, 2.5));
        assert_eq!(d.utterances[1].text, "No speaker here second line");
        assert!(d.warnings.is_empty());
    }

    #[test]
    fn bad_cues_warn_and_garbage_fails() {
        let d = parse("1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\nbroken line\ntext\n\n3\n99:xx --> 1\nt\n").unwrap();
        assert_eq!(d.utterances.len(), 1);
        assert_eq!(d.warnings.len(), 2);
        assert!(parse("just some text\nwith no times").is_err());
        assert!(parse("").is_err());
    }
}
