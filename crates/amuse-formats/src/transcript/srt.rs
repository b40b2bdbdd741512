//! SubRip (`.srt`): numbered cues, `start --> end`, text lines; `Name: text` gives the speaker.

use std::path::Path;

use super::text::{format_srt_time, parse_timestamp};
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
        let text_lines: Vec<String> = lines
            .map(|l| decode_entities(&strip_tags(l)))
            .filter(|l| !l.is_empty())
            .collect();
        // Dialogue dashes: each `- ` line is another speaker's turn within the cue's time.
        let turns: Vec<&str> = text_lines.iter().filter_map(|l| dash_turn(l)).collect();
        if turns.len() >= 2 && turns.len() == text_lines.len() {
            let chars: Vec<f64> = turns.iter().map(|t| t.chars().count().max(1) as f64).collect();
            let total: f64 = chars.iter().sum();
            let mut at = start;
            for (turn, n) in turns.iter().zip(&chars) {
                let until = at + (end - start) * n / total;
                let (speaker, text) = split_speaker(turn);
                dialogue.utterances.push(Utterance::new(at, until, speaker, text));
                at = until;
            }
            dialogue.warnings.push(format!(
                "cue {cue_no}: {} dialogue-dash turns split into utterances (times shared by length)",
                turns.len()
            ));
            continue;
        }
        let joined = text_lines
            .iter()
            .map(|l| dash_turn(l).unwrap_or(l))
            .collect::<Vec<_>>()
            .join(" ");
        let (speaker, text) = split_speaker(&joined);
        dialogue.utterances.push(Utterance::new(start, end, speaker, text));
    }
    if dialogue.utterances.is_empty() {
        return Err("no subtitle cue could be read (is this an SRT file?)".into());
    }
    Ok(dialogue)
}

/// SRT text of a dialogue: one cue per utterance, `Speaker: text` when it has a speaker
/// (what [`parse`] reads back). Line breaks inside a text become spaces.
pub fn render(dialogue: &Dialogue) -> String {
    let mut out = String::new();
    for (i, u) in dialogue.utterances.iter().enumerate() {
        let text = u.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let line = match &u.speaker {
            Some(s) => format!("{s}: {text}"),
            None => text,
        };
        out.push_str(&format!(
            "{}\n{} --> {}\n{line}\n\n",
            i + 1,
            format_srt_time(u.start),
            format_srt_time(u.end)
        ));
    }
    out
}

/// Write `dialogue` as SRT to `path` atomically; an existing file is kept unless `force`.
pub fn write(path: &Path, dialogue: &Dialogue, force: bool) -> std::io::Result<()> {
    if !force && path.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} exists; pass --force to replace it", path.display()),
        ));
    }
    crate::fsutil::write_atomic(path, render(dialogue).as_bytes())
}

/// The text of a line opened by a dialogue dash (`- `, `– `, `— `), else `None`.
fn dash_turn(line: &str) -> Option<&str> {
    let rest = line.strip_prefix(['-', '–', '—'])?;
    let rest = rest.trim_start();
    (!rest.is_empty() && !rest.starts_with('-')).then_some(rest)
}

/// Decode the HTML character references subtitle editors write (`&amp;`, `&quot;`,
/// `&#39;`, `&#x2019;`, `&nbsp;`); anything else is kept as written.
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').filter(|&j| j <= 10).and_then(|j| {
            let name = &rest[1..j];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, j))
        });
        match decoded {
            Some((c, j)) => {
                out.push(c);
                rest = &rest[j + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
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
    fn entities_are_decoded_and_dialogue_dashes_split_turns() {
        let srt = "1\n00:00:01,000 --> 00:00:03,000\n- Cam: Congratulations.\n- Eileen: Thanks &amp; see you.\n\n\
                   2\n00:00:04,000 --> 00:00:05,000\n- Cam: Tom &#39;n&#x27; Jerry &lt;3 &nbsp;&bogus; &\n";
        let d = parse(srt).unwrap();
        assert_eq!(d.utterances.len(), 3, "{:?}", d.utterances);
        let (a, b, c) = (&d.utterances[0], &d.utterances[1], &d.utterances[2]);
        assert_eq!(
            (a.speaker.as_deref(), a.text.as_str()),
            (Some("Cam"), "Congratulations.")
        );
        assert_eq!(
            (b.speaker.as_deref(), b.text.as_str()),
            (Some("Eileen"), "Thanks & see you.")
        );
        assert_eq!((a.start, b.end), (1.0, 3.0));
        assert!(
            a.end > 1.0 && a.end < 3.0 && a.end == b.start,
            "the cue's time is shared"
        );
        assert_eq!(c.speaker.as_deref(), Some("Cam"), "a lone dash is not part of the name");
        assert_eq!(c.text, "Tom 'n' Jerry <3 &bogus; &");
        assert!(d.warnings.iter().any(|w| w.contains("dialogue-dash")));
    }

    #[test]
    fn bad_cues_warn_and_garbage_fails() {
        let d = parse("1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\nbroken line\ntext\n\n3\n99:xx --> 1\nt\n").unwrap();
        assert_eq!(d.utterances.len(), 1);
        assert_eq!(d.warnings.len(), 2);
        assert!(parse("just some text\nwith no times").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn written_srt_reads_back_and_is_not_overwritten_without_force() {
        let mut d = Dialogue::default();
        d.utterances
            .push(Utterance::new(0.5, 2.25, Some("Speaker 1".into()), "Hello there."));
        d.utterances.push(Utterance::new(3.0, 4.0, None, "Plain\nline"));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.srt");
        write(&p, &d, false).unwrap();
        let back = parse(&std::fs::read_to_string(&p).unwrap()).unwrap();
        assert_eq!(back.utterances[0], d.utterances[0]);
        assert_eq!(back.utterances[1].text, "Plain line");
        let err = write(&p, &Dialogue::default(), false).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        write(&p, &Dialogue::default(), true).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "");
    }
}
