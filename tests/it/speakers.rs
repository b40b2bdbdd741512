//! Speakers by voice on real audio: the demo dialogue's espeak-ng voices, with the
//! transcript's names hidden, grouped and followed by voice.

use crate::common;

use amuse::features::speakers::{self, adjusted_rand};
use amuse::features::voice::VoiceEncoder;
use amuse::media::{decode, transcript};
use tch::Device;

#[test]
fn the_demo_voices_are_grouped_into_its_speakers_without_names() {
    common::init();
    let store = common::store();
    let enc = VoiceEncoder::load(&store, Device::Cpu).unwrap();
    let demo = common::demo();
    let dialogue = transcript::load(&demo.with_extension("srt")).unwrap();
    let mut voices = Vec::new();
    for u in &dialogue.utterances {
        let samples = decode::audio(&demo, u.start, u.end, 16_000).unwrap();
        voices.push(Some(Vec::<f32>::try_from(enc.encode(&samples).unwrap()).unwrap()));
    }
    let names = speakers::name_by_voice(&voices, speakers::DEFAULT_THRESHOLD).unwrap();
    let got = labels(names.iter().map(|n| n.clone().unwrap()));
    let truth = labels(dialogue.utterances.iter().map(|u| u.speaker.clone().unwrap()));
    let ari = adjusted_rand(&got, &truth);
    eprintln!("truth {truth:?}\ngot   {got:?}\nARI {ari:.3}");
    // The male voice (en-us+m3) is one group of its own; the two female espeak variants
    // (en-us+f3, en-gb+f4) sit close together for Resemblyzer (cosine 0.67–0.82 across
    // them) and may merge at the default threshold: the figure is noted on issue 3.
    let male = truth[0];
    let male_group = got[0];
    for i in 0..truth.len() {
        assert_eq!(
            truth[i] == male,
            got[i] == male_group,
            "utterance {i}: {got:?} vs {truth:?}"
        );
    }
    assert!(ari > 0.5, "voices grouped as {got:?}, speakers are {truth:?}");

    // Follow this voice: every utterance of the first speaker ranks above every other one.
    let sims = speakers::find(&voices, 0);
    let same = (0..truth.len())
        .filter(|&i| truth[i] == truth[0])
        .map(|i| sims[i].unwrap());
    let other = (0..truth.len())
        .filter(|&i| truth[i] != truth[0])
        .map(|i| sims[i].unwrap());
    let (lowest_same, highest_other) = (same.fold(1.0f32, f32::min), other.fold(-1.0f32, f32::max));
    assert!(lowest_same > highest_other, "{lowest_same} vs {highest_other}");
}

fn labels(names: impl Iterator<Item = String>) -> Vec<usize> {
    let mut seen: Vec<String> = Vec::new();
    names
        .map(|n| match seen.iter().position(|s| *s == n) {
            Some(p) => p,
            None => {
                seen.push(n);
                seen.len() - 1
            }
        })
        .collect()
}
