//! Speakers of a dialogue for the model's speaker context and for display: the
//! transcript's names when it has any, otherwise groups of utterances with the same voice
//! ("Voice 1", "Voice 2", …; see [`crate::features::speakers`]).

use tch::{Device, Kind};

use crate::features::extract::UtteranceFeatures;
use crate::features::speakers;
use crate::media::transcript::Dialogue;

/// Each utterance's voice vector as plain floats (`None` without audio).
pub fn vectors(features: &[UtteranceFeatures]) -> Vec<Option<Vec<f32>>> {
    features
        .iter()
        .map(|f| {
            f.voice
                .as_ref()
                .and_then(|v| Vec::<f32>::try_from(v.to_device(Device::Cpu).to_kind(Kind::Float).view([-1])).ok())
        })
        .collect()
}

/// Speaker of each utterance: from the transcript when it names anyone, else by voice.
pub fn names(dialogue: &Dialogue, features: &[UtteranceFeatures]) -> Vec<Option<String>> {
    let given: Vec<Option<String>> = dialogue.utterances.iter().map(|u| u.speaker.clone()).collect();
    if given.iter().any(Option::is_some) {
        return given;
    }
    speakers::name_by_voice(&vectors(features), speakers::DEFAULT_THRESHOLD).unwrap_or(given)
}

/// A note for the results when the speakers were found by voice.
pub fn note(dialogue: &Dialogue, names: &[Option<String>]) -> Option<String> {
    if dialogue.utterances.iter().any(|u| u.speaker.is_some()) {
        return None;
    }
    let mut distinct: Vec<&String> = names.iter().flatten().collect();
    distinct.sort();
    distinct.dedup();
    (!distinct.is_empty()).then(|| {
        format!(
            "the transcript names no speakers: utterances grouped by voice into {} speaker(s)",
            distinct.len()
        )
    })
}
