//! The seven MELD emotion classes, the label set the shipped model predicts.
//!
//! The order is the one used throughout the project (model outputs, CSV exports, the
//! 1–7 keys of the annotator). Labels from other corpora are mapped onto it by name
//! (RAVDESS "calm" → neutral, "happy" → joy, …); IEMOCAP's "excited"/"frustrated" have
//! no MELD equivalent and are kept as unknown labels rather than guessed.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Emotion {
    Neutral,
    Surprise,
    Fear,
    Sadness,
    Joy,
    Disgust,
    Anger,
}

impl Emotion {
    pub const ALL: [Emotion; 7] = [
        Emotion::Neutral,
        Emotion::Surprise,
        Emotion::Fear,
        Emotion::Sadness,
        Emotion::Joy,
        Emotion::Disgust,
        Emotion::Anger,
    ];
    pub const COUNT: usize = 7;

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(i: usize) -> Option<Self> {
        Self::ALL.get(i).copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            Emotion::Neutral => "neutral",
            Emotion::Surprise => "surprise",
            Emotion::Fear => "fear",
            Emotion::Sadness => "sadness",
            Emotion::Joy => "joy",
            Emotion::Disgust => "disgust",
            Emotion::Anger => "anger",
        }
    }

    /// Parse a label by name, accepting common synonyms and abbreviations
    /// (case-insensitive): `happy`, `hap`, `angry`, `ang`, `sad`, `surprised`, `fearful`, `calm`, `neu`…
    pub fn parse(label: &str) -> Option<Self> {
        let l = label.trim().to_ascii_lowercase();
        Some(match l.as_str() {
            "neutral" | "neu" | "calm" => Emotion::Neutral,
            "surprise" | "surprised" | "sur" => Emotion::Surprise,
            "fear" | "fearful" | "fea" | "afraid" => Emotion::Fear,
            "sadness" | "sad" => Emotion::Sadness,
            "joy" | "happy" | "hap" | "happiness" => Emotion::Joy,
            "disgust" | "disgusted" | "dis" => Emotion::Disgust,
            "anger" | "angry" | "ang" => Emotion::Anger,
            _ => return None,
        })
    }

    /// A colour for this emotion in the viewer (RGB).
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Emotion::Neutral => [150, 150, 150],
            Emotion::Surprise => [240, 170, 40],
            Emotion::Fear => [140, 90, 200],
            Emotion::Sadness => [70, 120, 210],
            Emotion::Joy => [250, 210, 50],
            Emotion::Disgust => [90, 160, 80],
            Emotion::Anger => [220, 60, 50],
        }
    }
}

impl std::fmt::Display for Emotion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_synonyms_map() {
        for e in Emotion::ALL {
            assert_eq!(Emotion::parse(e.name()), Some(e));
            assert_eq!(Emotion::from_index(e.index()), Some(e));
        }
        assert_eq!(Emotion::parse(" Happy "), Some(Emotion::Joy));
        assert_eq!(Emotion::parse("calm"), Some(Emotion::Neutral));
        assert_eq!(Emotion::parse("frustrated"), None);
        assert_eq!(Emotion::from_index(7), None);
    }
}
