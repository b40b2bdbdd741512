//! EmoDB (Burkhardt et al. 2005, the Berlin Database of Emotional Speech): acted German
//! speech of 10 speakers, `<data>/emodb16k/SSTTTEV.flac` (speaker, text code, emotion letter,
//! version). Each clip is a one-utterance dialogue with its audio and no text (the sentences
//! are German and emotionally neutral, and the text encoder reads English), so it measures
//! what the voice alone gives. Split by speaker, never by file: dev speakers 03 and 16.

use std::path::PathBuf;

use super::corpora::AudioAugment;
use super::data::{augmented_suffix, clip_features, data_dir, AudioEncoderRef, Corpus};
use crate::emotion::Emotion;
use crate::manifest::ModelStore;
use crate::model::batch::UtteranceInput;
use anyhow::{bail, Context, Result};

/// The dev speakers (one male, one female; 101 clips in MELD's classes).
pub const DEV_SPEAKERS: [u32; 2] = [3, 16];

/// EmoDB's emotion letter mapped to MELD's classes (boredom, `L`, has none).
pub fn label(letter: char) -> Option<Emotion> {
    Some(match letter {
        'W' => Emotion::Anger,
        'E' => Emotion::Disgust,
        'A' => Emotion::Fear,
        'F' => Emotion::Joy,
        'T' => Emotion::Sadness,
        'N' => Emotion::Neutral,
        _ => return None,
    })
}

/// Speaker and MELD class of a file name `SSTTTEV`, when it has one.
fn parse(stem: &str) -> Option<(u32, Emotion)> {
    let speaker = stem.get(..2)?.parse().ok()?;
    label(stem.chars().nth(5)?).map(|e| (speaker, e))
}

/// The clips of `split` (`train`: every speaker but [`DEV_SPEAKERS`]; `dev`: those two),
/// followed by augmented copies of them with `augment`.
pub fn corpus(
    store: &ModelStore,
    speech: &AudioEncoderRef<'_>,
    split: &str,
    augment: Option<&AudioAugment>,
) -> Result<Corpus> {
    let dev = match split {
        "train" => false,
        "dev" => true,
        other => bail!("EmoDB splits here are train and dev (speakers 03 and 16), not {other}"),
    };
    let root = data_dir().join("emodb16k");
    let entries = std::fs::read_dir(&root).with_context(|| format!("reading {}", root.display()))?;
    let mut files: Vec<(PathBuf, u32, Emotion)> = entries
        .flatten()
        .map(|e| e.path())
        .filter_map(|p| {
            let (speaker, emotion) = parse(p.file_stem()?.to_str()?)?;
            (DEV_SPEAKERS.contains(&speaker) == dev).then_some((p, speaker, emotion))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no EmoDB clips (SSTTTEV.flac) found under {}", root.display());
    }
    let paths: Vec<PathBuf> = files.iter().map(|f| f.0.clone()).collect();
    let clips = clip_features(store, speech, &format!("emodb-{split}"), &paths, augment)?;
    let dialogues = clips
        .into_iter()
        .map(|(i, a)| {
            let (_, speaker, emotion) = &files[i];
            vec![UtteranceInput {
                text: None,
                audio: Some(a),
                face: None,
                back: None,
                speaker: Some(format!("emodb{speaker:02}")),
                label: Some(emotion.index() as i64),
            }]
        })
        .collect();
    Ok(Corpus {
        copies: augment.map_or(0, |a| a.copies),
        name: format!(
            "EmoDB {} (speakers {}){}",
            split,
            if dev { "03, 16" } else { "all but 03, 16" },
            augment.map(augmented_suffix).unwrap_or_default()
        ),
        dialogues,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_give_speaker_and_class() {
        assert_eq!(parse("03a01Wa"), Some((3, Emotion::Anger)));
        assert_eq!(parse("16b10Fb"), Some((16, Emotion::Joy)));
        assert_eq!(parse("08a02Lc"), None, "boredom has no MELD class");
        assert_eq!(parse("x"), None);
    }
}
