//! Cross-corpus samples: no corpus here has real aligned words, expressive voices *and*
//! faces, so the fusion learns to combine them from samples that join one corpus's
//! modality with another's by label. They are synthetic (that voice did not say those
//! words, that face did not hear them) and are documented as such in the model card.
//!
//! Two kinds:
//! * [`join`]: the modalities agree (a face with a voice of the same label);
//! * [`with_words`]: a voice or a face joined with MELD words, where the **words' label is
//!   the target** and the other modality agrees with it only with probability `agree`.
//!   Trained on agreeing pairs alone, the model learned to follow whichever modality it
//!   hears most confidently, and a voice out of its acted domain (the demo's synthetic
//!   speech) overruled clearly emotional words; in real conversations the words carry most
//!   of the signal (text is by far the strongest single modality on MELD), so a voice that
//!   disagrees with them should inform, not overrule.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use tch::Tensor;

use super::corpora::Dataset;
use super::data::Corpus;
use crate::model::amuse::Modality;
use crate::model::batch::UtteranceInput;

/// Cross-corpus label-matched samples: every utterance of `base` (e.g. a RAVDESS clip, whose
/// text is emotionally neutral, or a FER+ face) joined with the modalities `take` (names of
/// [`Modality`]) of a random utterance of `donor` (e.g. MELD) that has
/// the same label, as one-utterance dialogues.
///
/// Why: no corpus here has real aligned text, expressive audio *and* faces. Trained on MELD
/// (text only) and RAVDESS (audio with neutral text), a model learns that "audio present"
/// means "ignore the words", and then ignores clearly emotional words whenever a video has
/// sound; a face branch trained on faces alone never learns to share a decision. These
/// samples, where the modalities agree, teach the fusion that each can inform. They are
/// synthetic (that voice did not say those words, that face did not hear them) and are
/// documented as such in the model card.
pub fn join(base: &Corpus, donor: &Corpus, take: &[Modality], seed: u64) -> Corpus {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut by_label: std::collections::HashMap<i64, Vec<&UtteranceInput>> = std::collections::HashMap::new();
    for u in donor.dialogues.iter().flatten() {
        if let Some(l) = u.label {
            by_label.entry(l).or_default().push(u);
        }
    }
    let has = |m: Modality| take.contains(&m);
    let pick = |own: &Option<Tensor>, theirs: &Option<Tensor>, m: Modality| {
        if has(m) { theirs } else { own }.as_ref().map(Tensor::shallow_clone)
    };
    let dialogues: Vec<Vec<UtteranceInput>> = base
        .dialogues
        .iter()
        .flatten()
        .filter_map(|u| {
            let d = by_label.get(&u.label?)?.choose(&mut rng)?;
            Some(vec![UtteranceInput {
                text: pick(&u.text, &d.text, Modality::Text),
                audio: pick(&u.audio, &d.audio, Modality::Audio),
                face: pick(&u.face, &d.face, Modality::Visual),
                back: pick(&u.back, &d.back, Modality::Visual),
                speaker: u.speaker.clone(),
                label: u.label,
            }])
        })
        .collect();
    // Copies stay in their blocks when every utterance found a donor.
    let aligned = dialogues.len() == base.dialogues.len() && base.dialogues.iter().all(|d| d.len() == 1);
    Corpus {
        name: format!(
            "{} × {} {} (label-matched pairs)",
            base.name,
            donor.name,
            crate::model::amuse::join(take, "+")
        ),
        copies: if aligned { base.copies } else { 0 },
        dialogues,
    }
}

/// [`join`] for the audio pairs: every clip of `audio` with the text of a same-label
/// utterance of `text`.
pub fn label_pairs(audio: &Corpus, text: &Corpus, seed: u64) -> Corpus {
    join(audio, text, &[Modality::Text], seed)
}

/// Every utterance of `other` (a voice clip, a face) joined with the words of a random
/// utterance of `words` (MELD) whose label is the target: the clip's own label with
/// probability `agree`, else another label drawn uniformly. The sample is labelled by the
/// words. `agree = 1` gives label-matched pairs.
pub fn with_words(other: &Corpus, words: &Corpus, agree: f64, seed: u64) -> Corpus {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut by_label: std::collections::BTreeMap<i64, Vec<&Tensor>> = std::collections::BTreeMap::new();
    for u in words.dialogues.iter().flatten() {
        if let (Some(l), Some(t)) = (u.label, &u.text) {
            by_label.entry(l).or_default().push(t);
        }
    }
    let labels: Vec<i64> = by_label.keys().copied().collect();
    let dialogues: Vec<Vec<UtteranceInput>> = other
        .dialogues
        .iter()
        .flatten()
        .filter_map(|u| {
            let own = u.label?;
            let target = if rng.random_bool(agree.clamp(0.0, 1.0)) {
                own
            } else {
                let others: Vec<i64> = labels.iter().copied().filter(|&l| l != own).collect();
                *others.choose(&mut rng)?
            };
            let t = by_label.get(&target)?.choose(&mut rng)?;
            Some(vec![UtteranceInput {
                text: Some(t.shallow_clone()),
                ..u.only(|m| m != Modality::Text)
            }
            .labelled(target)])
        })
        .collect();
    let aligned = dialogues.len() == other.dialogues.len() && other.dialogues.iter().all(|d| d.len() == 1);
    let how = if agree >= 1.0 {
        "label-matched".to_owned()
    } else {
        format!("agreeing with the words' label {:.0} % of the time", agree * 100.0)
    };
    Corpus {
        name: format!("{} × {} text ({how}; labelled by the words)", other.name, words.name),
        copies: if aligned { other.copies } else { 0 },
        dialogues,
    }
}

/// The cross-corpus samples of a training run over `data` (corpora by position in `sets`):
/// voices with MELD's words; faces (each joins one donor, in turn, since faces are many)
/// with MELD's words, RAVDESS's voice and words, or EmoDB's voice.
pub fn of(data: &[Dataset], sets: &[Corpus], agree: f64, seed: u64) -> Vec<Corpus> {
    let at = |d: Dataset| data.iter().position(|x| *x == d).map(|i| &sets[i]);
    let mut out = Vec::new();
    if let Some(meld) = at(Dataset::Meld) {
        for audio in [Dataset::Ravdess, Dataset::Emodb] {
            if let Some(a) = at(audio) {
                out.push(with_words(a, meld, agree, seed));
            }
        }
    }
    if let Some(faces) = at(Dataset::Ferplus) {
        let donors: Vec<(Dataset, &Corpus)> = [Dataset::Meld, Dataset::Ravdess, Dataset::Emodb]
            .into_iter()
            .filter_map(|d| at(d).map(|c| (d, c)))
            .collect();
        for (r, (d, donor)) in donors.iter().enumerate() {
            let share = faces.every(donors.len(), r);
            let s = seed.wrapping_add(r as u64 + 1);
            out.push(match d {
                Dataset::Meld => with_words(&share, donor, agree, s),
                Dataset::Ravdess => join(&share, donor, &[Modality::Text, Modality::Audio], s),
                _ => join(&share, donor, &[Modality::Audio], s),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utterance(text: Option<f64>, audio: Option<f64>, label: i64) -> Vec<UtteranceInput> {
        let t = |v: Option<f64>| v.map(|v| Tensor::from_slice(&[v as f32]).view([1, 1]));
        vec![UtteranceInput {
            text: t(text),
            audio: t(audio),
            face: None,
            back: None,
            speaker: None,
            label: Some(label),
        }]
    }

    #[test]
    fn words_decide_the_label_and_the_voice_agrees_as_often_as_asked() {
        // Words: 20 utterances of each of labels 0..4, their text value = label.
        let words = Corpus {
            name: "w".into(),
            dialogues: (0..80).map(|i| utterance(Some((i % 4) as f64), None, i % 4)).collect(),
            copies: 0,
        };
        // Voices: 1000 clips, audio value = their label.
        let voices = Corpus {
            name: "v".into(),
            dialogues: (0..1000)
                .map(|i| utterance(None, Some((i % 4) as f64), i % 4))
                .collect(),
            copies: 0,
        };
        let value = |t: &Option<Tensor>| t.as_ref().unwrap().double_value(&[0, 0]) as i64;
        for agree in [1.0, 0.5] {
            let pairs = with_words(&voices, &words, agree, 9);
            assert_eq!(pairs.dialogues.len(), 1000);
            let mut agreeing = 0;
            for d in &pairs.dialogues {
                let u = &d[0];
                assert_eq!(value(&u.text), u.label.unwrap(), "labelled by the words");
                agreeing += usize::from(value(&u.audio) == u.label.unwrap());
            }
            let rate = agreeing as f64 / 1000.0;
            assert!((rate - agree).abs() < 0.05, "agreement {rate} for {agree}");
        }
    }
}
