//! IEMOCAP's faces: the dialogue videos (`Session{s}/dialog/avi/DivX/<dialog>.avi`) through
//! the viewer's own pipeline (keyframes, MTCNN, the expression encoder, back frames, cached),
//! each utterance reading the face on its speaker's side of the frame.
//!
//! Whose face is whose: IEMOCAP's videos show both actors of a session side by side. The
//! dialogue's name says which one wore the motion-capture markers (`Ses01F_impro01`: the
//! woman, `Ses02M_…`: the man); public IEMOCAP face-extraction scripts crop that actor
//! from the left half and the other from the right half, and [`Lead::Left`] does the same.
//! The release is not on the machines this was written on, so the rule could not be checked
//! against its videos here: [`Lead::Right`] swaps the sides, and a speaker's side that holds
//! no face gives no face (never the other actor's, [`Pick::Side`]).
//!
//! Text and audio stay those of [`super::iemocap`] (the transcriptions and each speaker's
//! own microphone); the extraction here decodes no audio.
//!
//! [`Pick::Side`]: crate::media::faces::split::Pick::Side

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::iemocap::Dialogue;
use crate::features::cache;
use crate::features::extract::{Encoders, ExtractOptions};
use crate::features::visual::VisualFeatures;
use crate::manifest::ModelStore;
use crate::media::transcript;
use crate::model::batch::UtteranceInput;
use crate::progress::CancelToken;

/// Where the actor who wore the markers (the dialogue name's letter) sits in the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lead {
    /// Left half (the convention of public IEMOCAP face crops).
    #[default]
    Left,
    /// Right half.
    Right,
}

/// `--iemocap-faces`: read the videos' faces, and which side the marker-wearer is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Faces {
    /// Faces from the videos, the marker-wearer on the left (public scripts' convention).
    #[default]
    LeadLeft,
    /// Faces from the videos, the marker-wearer on the right.
    LeadRight,
    /// Text and audio only.
    Off,
}

impl Faces {
    pub fn lead(self) -> Option<Lead> {
        match self {
            Self::LeadLeft => Some(Lead::Left),
            Self::LeadRight => Some(Lead::Right),
            Self::Off => None,
        }
    }
}

/// `Session{s}/dialog/avi/DivX/<dialog>.avi` under the release folder `root`.
pub fn video_path(root: &Path, d: &Dialogue) -> PathBuf {
    root.join(format!("Session{}/dialog/avi/DivX/{}.avi", d.session, d.name))
}

/// Each speaker's side of the frame (fractions of its width): the marker-wearer's is
/// `lead`'s half, the other actor's the other half. None for a dialogue whose name does not
/// say who wore the markers (not `Ses..F_`/`Ses..M_`): its speakers take the largest face.
pub fn sides(d: &Dialogue, lead: Lead) -> Vec<(String, [f32; 2])> {
    let (left, right) = ([0.0, 0.5], [0.5, 1.0]);
    let lead_letter = d.name.chars().nth(5);
    if !matches!(lead_letter, Some('F' | 'M')) {
        return Vec::new();
    }
    let mut out: Vec<(String, [f32; 2])> = Vec::new();
    for u in &d.utterances {
        if out.iter().any(|(s, _)| *s == u.speaker) {
            continue;
        }
        let is_lead = u.speaker.chars().nth(5) == lead_letter;
        let side = match (is_lead, lead) {
            (true, Lead::Left) | (false, Lead::Right) => left,
            _ => right,
        };
        out.push((u.speaker.clone(), side));
    }
    out
}

/// The dialogue as the pipeline reads it: each utterance's span of the video and speaker.
fn transcript_of(d: &Dialogue) -> transcript::Dialogue {
    transcript::Dialogue {
        utterances: d
            .utterances
            .iter()
            .map(|u| transcript::Utterance::new(u.start, u.end, Some(u.speaker.clone()), u.text.clone()))
            .collect(),
        warnings: Vec::new(),
        transcribed: false,
    }
}

/// Each utterance's visual features from the dialogue's video (`None` per utterance: no
/// keyframe decoded), through the feature cache. Fails when the video cannot be read.
pub fn visual(
    store: &ModelStore,
    enc: &Encoders,
    video: &Path,
    d: &Dialogue,
    lead: Lead,
) -> Result<(Vec<Option<VisualFeatures>>, Vec<String>)> {
    let opts = ExtractOptions {
        audio: false,
        speaker_sides: sides(d, lead),
        ..ExtractOptions::default()
    };
    let (features, notes, _) = cache::load_or_extract(
        store,
        enc,
        Some(video),
        &transcript_of(d),
        &opts,
        &cache::default_dir(),
        &mut |_| {},
        &CancelToken::default(),
    )?;
    Ok((features.into_iter().map(|f| f.visual).collect(), notes))
}

/// Give the utterances of `dialogues` (as `inputs`, in the same order) the faces and back
/// frames of their videos. Dialogues without a video, or whose video cannot be read, keep
/// text and audio only, with a warning.
pub fn attach(
    store: &ModelStore,
    enc: &Encoders,
    root: &Path,
    dialogues: &[Dialogue],
    inputs: &mut [Vec<UtteranceInput>],
    lead: Lead,
) {
    let pb = super::data::bar(dialogues.len(), "IEMOCAP faces");
    let mut without: Vec<PathBuf> = Vec::new();
    for (d, us) in dialogues.iter().zip(inputs.iter_mut()) {
        let video = video_path(root, d);
        if !video.is_file() {
            without.push(video);
            pb.inc(1);
            continue;
        }
        match visual(store, enc, &video, d, lead) {
            Ok((visual, notes)) => {
                for n in notes {
                    pb.suspend(|| eprintln!("note: IEMOCAP {}: {n}", d.name));
                }
                for (u, v) in us.iter_mut().zip(&visual) {
                    (u.face, u.back) = super::meld_raw::face_and_back(v.as_ref());
                }
            }
            Err(e) => pb.suspend(|| {
                eprintln!(
                    "warning: IEMOCAP {}: cannot read {} ({e:#}): its utterances keep text and audio only",
                    d.name,
                    video.display()
                )
            }),
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    if let Some(first) = without.first() {
        eprintln!(
            "warning: {} of {} IEMOCAP dialogues have no video (e.g. no {}): their utterances keep text and audio only",
            without.len(),
            dialogues.len(),
            first.display()
        );
    }
}

/// Whether any dialogue of `dialogues` has its video under `root`.
pub fn any_video(root: &Path, dialogues: &[Dialogue]) -> bool {
    dialogues.iter().any(|d| video_path(root, d).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::iemocap::Utterance;

    fn dialogue(name: &str, speakers: &[&str]) -> Dialogue {
        let utterance = |s: &&str| Utterance {
            id: format!("{name}_{}000", &s[5..]),
            speaker: (*s).to_owned(),
            start: 0.0,
            end: 1.0,
            label: None,
            text: String::new(),
            wav: PathBuf::new(),
        };
        Dialogue {
            session: 1,
            name: name.to_owned(),
            utterances: speakers.iter().map(utterance).collect(),
        }
    }

    #[test]
    fn the_marker_wearer_sits_on_the_lead_side() {
        let (l, r) = ([0.0, 0.5], [0.5, 1.0]);
        let d = dialogue("Ses01F_impro01", &["Ses01M", "Ses01F", "Ses01M"]);
        assert_eq!(sides(&d, Lead::Left), [("Ses01M".into(), r), ("Ses01F".into(), l)]);
        assert_eq!(sides(&d, Lead::Right), [("Ses01M".into(), l), ("Ses01F".into(), r)]);
        let d = dialogue("Ses02M_script01_1", &["Ses02F", "Ses02M"]);
        assert_eq!(sides(&d, Lead::Left), [("Ses02F".into(), r), ("Ses02M".into(), l)]);
        // A renamed dialogue says nothing about the markers: no side is guessed.
        assert!(sides(&dialogue("my_dialogue", &["Ses02F"]), Lead::Left).is_empty());
    }
}
