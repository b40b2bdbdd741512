//! Pools held aside from a training corpus: for the Eq. 6 fusion update and for calibration,
//! which must see samples the model did not learn from (never the dev split).

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::data::Corpus;

/// Split `corpus` into (training, pool): a seeded `fraction` of its original dialogues goes
/// to the pool. When the corpus is one clip per dialogue with named speakers (RAVDESS's
/// actors, EmoDB's speakers), whole speakers go to the pool instead (at least one): a pool
/// of voices the model has heard is calibrated like training data, not like a new voice
/// (measured: pooled clips of training actors gave ECE 0.07 where new actors give 0.16).
/// Augmented copies (see [`Corpus::copies`]) of pooled dialogues are dropped, so the pool's
/// clips are never heard in training in another form, and the pool holds originals only.
pub fn hold_aside(corpus: Corpus, fraction: f64, seed: u64, what: &str) -> (Corpus, Corpus) {
    let blocks = corpus.copies + 1;
    let n = corpus.dialogues.len() / blocks;
    let originals = &corpus.dialogues[..n];
    let speaker_of = |d: &Vec<crate::model::batch::UtteranceInput>| match d.as_slice() {
        [u] => u.speaker.clone(),
        _ => None,
    };
    let mut speakers: Vec<String> = originals.iter().filter_map(speaker_of).collect();
    speakers.sort();
    speakers.dedup();
    let by_speaker = speakers.len() >= 4 && originals.iter().all(|d| speaker_of(d).is_some());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let fraction = fraction.clamp(0.0, 0.5);
    let pooled: Vec<bool> = if by_speaker {
        speakers.shuffle(&mut rng);
        let k = ((speakers.len() as f64 * fraction).round() as usize).max(usize::from(fraction > 0.0));
        let chosen = &speakers[..k];
        originals
            .iter()
            .map(|d| speaker_of(d).is_some_and(|s| chosen.contains(&s)))
            .collect()
    } else {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        let mut pooled = vec![false; n];
        for &i in &order[..((n as f64) * fraction).round() as usize] {
            pooled[i] = true;
        }
        pooled
    };
    let (mut train, mut pool) = (Vec::new(), Vec::new());
    for (j, d) in corpus.dialogues.into_iter().enumerate() {
        let (original, is_copy) = (j % n.max(1), j >= n);
        match (pooled[original], is_copy) {
            (true, false) => pool.push(d),
            (true, true) => {}
            (false, _) => train.push(d),
        }
    }
    (
        Corpus {
            name: corpus.name.clone(),
            dialogues: train,
            copies: corpus.copies,
        },
        Corpus {
            name: format!("{} ({what} pool)", corpus.name),
            dialogues: pool,
            copies: 0,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::batch::UtteranceInput;

    fn one(label: i64) -> Vec<UtteranceInput> {
        spoken(label, None)
    }

    fn spoken(label: i64, speaker: Option<String>) -> Vec<UtteranceInput> {
        vec![UtteranceInput {
            text: None,
            audio: None,
            face: None,
            back: None,
            speaker,
            label: Some(label),
        }]
    }

    #[test]
    fn a_pooled_clip_has_no_copy_left_in_training() {
        // 10 originals (labels 0..10), then two copies of each (labels 100.., 200..).
        let dialogues = (0..10).chain(100..110).chain(200..210).map(one).collect();
        let corpus = Corpus {
            name: "c".into(),
            dialogues,
            copies: 2,
        };
        let (train, pool) = hold_aside(corpus, 0.2, 3, "calibration");
        let label = |d: &Vec<UtteranceInput>| d[0].label.unwrap();
        let pooled: Vec<i64> = pool.dialogues.iter().map(label).collect();
        assert_eq!(pooled.len(), 2, "{pooled:?}");
        assert!(pooled.iter().all(|&l| l < 10), "only originals in the pool");
        let trained: Vec<i64> = train.dialogues.iter().map(label).collect();
        assert_eq!(trained.len(), 24);
        for p in &pooled {
            assert!(!trained.iter().any(|t| t % 100 == *p), "no copy of {p} in training");
        }
        assert_eq!(pool.name, "c (calibration pool)");
    }

    #[test]
    fn clips_of_named_speakers_are_pooled_by_speaker() {
        // 8 speakers with 5 clips each, then one copy of every clip.
        let dialogues = (0..40)
            .chain(100..140)
            .map(|l| spoken(l, Some(format!("s{}", (l % 100) / 5))))
            .collect();
        let corpus = Corpus {
            name: "c".into(),
            dialogues,
            copies: 1,
        };
        let (train, pool) = hold_aside(corpus, 0.1, 3, "calibration");
        let speaker = |d: &Vec<UtteranceInput>| d[0].speaker.clone().unwrap();
        let pooled: std::collections::BTreeSet<String> = pool.dialogues.iter().map(speaker).collect();
        assert_eq!(pooled.len(), 1, "round(0.8) = 1 speaker: {pooled:?}");
        assert_eq!(pool.dialogues.len(), 5, "that speaker's five originals");
        assert!(
            train.dialogues.iter().all(|d| !pooled.contains(&speaker(d))),
            "none of their clips in training"
        );
        assert_eq!(train.dialogues.len(), 70);
    }
}
