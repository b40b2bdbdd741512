//! A MELD.Raw folder: one clip per utterance (`dia{D}_utt{U}.mp4`) beside the split's CSV.
//! A dialogue is its clips in utterance order; each utterance spans its whole clip.

use std::path::{Path, PathBuf};

use super::{csv, text, Dialogue, TranscriptError};

/// Whether a file name is a MELD.Raw clip's (`dia{D}_utt{U}.mp4`, any case).
pub fn is_clip_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("dia") && n.contains("_utt") && n.ends_with(".mp4")
}

/// One dialogue of the folder with its id.
#[derive(Debug)]
pub struct RawDialogue {
    pub id: String,
    pub dialogue: Dialogue,
}

/// Load every dialogue of a MELD.Raw split folder. `csv_path` defaults to the only
/// `*.csv` in the folder. Utterances whose clip is missing are dropped with a warning.
pub fn load(dir: &Path, csv_path: Option<&Path>) -> Result<Vec<RawDialogue>, TranscriptError> {
    let invalid = |reason: String| TranscriptError::Invalid {
        path: dir.to_path_buf(),
        reason,
    };
    let csv_path: PathBuf = match csv_path {
        Some(p) => p.to_path_buf(),
        None => {
            let csvs: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|source| TranscriptError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")))
                .collect();
            match csvs.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(invalid(
                        "no .csv transcript in the folder; pass it with --transcript".into(),
                    ))
                }
                _ => {
                    return Err(invalid(
                        "several .csv files in the folder; choose one with --transcript".into(),
                    ))
                }
            }
        }
    };
    let raw = std::fs::read(&csv_path).map_err(|source| TranscriptError::Io {
        path: csv_path.clone(),
        source,
    })?;
    let (content, _) = text::decode(&raw);
    let groups = csv::parse(&content).map_err(invalid)?;
    let mut out = Vec::new();
    for (id, mut dialogue) in groups {
        // Each utterance spans its whole clip: a table without times is the normal case here.
        dialogue.warnings.retain(|w| !w.contains("no start/end time columns"));
        let mut kept = Vec::new();
        for (i, mut u) in std::mem::take(&mut dialogue.utterances).into_iter().enumerate() {
            let clip = dir.join(format!("dia{id}_utt{}.mp4", u.utt_id.unwrap_or(i as i64)));
            if !clip.is_file() {
                dialogue
                    .warnings
                    .push(format!("clip {} is missing: utterance skipped", clip.display()));
                continue;
            }
            u.start = 0.0;
            u.end = f64::INFINITY; // the whole clip; the decoder clips to its real length
            u.clip = Some(clip);
            kept.push(u);
        }
        dialogue.utterances = kept;
        if !dialogue.utterances.is_empty() {
            out.push(RawDialogue { id, dialogue });
        }
    }
    if out.is_empty() {
        return Err(invalid("no utterance clip of the CSV was found in the folder".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn clip_names_are_meld_raws_in_any_case() {
        assert!(super::is_clip_name("dia12_utt3.mp4"));
        assert!(super::is_clip_name("DIA0_UTT0.MP4"));
        assert!(!super::is_clip_name("dia12_utt3.mkv"));
        assert!(!super::is_clip_name("episode.mp4"));
    }
}
