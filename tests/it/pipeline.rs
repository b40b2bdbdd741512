//! Feature extraction end to end on generated media: a video without audio, a video
//! without faces, and the feature cache (a second run costs no encoder time).

use crate::common;

use amuse::features::cache;
use amuse::features::extract::{extract, Encoders, ExtractOptions};
use amuse::media::transcript::{self, Dialogue, Utterance};
use amuse::progress::CancelToken;
use tch::Device;

fn two_lines() -> Dialogue {
    Dialogue {
        utterances: vec![
            Utterance::new(0.2, 1.2, Some("A".into()), "Hello there, nice to meet you."),
            Utterance::new(1.4, 2.4, Some("B".into()), "Oh no, that is terrible!"),
        ],
        ..Default::default()
    }
}

#[test]
fn silent_faceless_video_still_gives_text_and_scene_features() {
    let store = common::store();
    let enc = Encoders::load(&store, Device::Cpu, None).unwrap();
    let video = common::ffmpeg_fixture(
        "silent_testsrc.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10:duration=3",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let (features, notes) = extract(
        &enc,
        Some(&video),
        &two_lines(),
        &ExtractOptions::default(),
        &mut |_| {},
        &CancelToken::default(),
    )
    .unwrap();
    assert_eq!(features.len(), 2);
    for f in &features {
        assert!(
            f.speech.is_none() && f.voice.is_none(),
            "no audio track, no audio features"
        );
        let v = f.visual.as_ref().expect("frames were decoded");
        assert_eq!(v.back.size(), [4, 1280], "four keyframes of scene features");
        assert_eq!(
            v.face_mask.sum(tch::Kind::Float).double_value(&[]),
            0.0,
            "no faces in a test pattern"
        );
        assert_eq!(f.text.tokens.size()[1], 768);
    }
    let all = notes.join("\n");
    assert!(all.contains("no audio stream"), "{all}");
    assert!(all.contains("show no face"), "{all}");
}

#[test]
fn demo_features_have_faces_and_voice_and_the_cache_round_trips() {
    let store = common::store();
    let enc = Encoders::load(&store, Device::Cpu, None).unwrap();
    let demo = common::demo();
    let mut dialogue = transcript::load(&demo.with_extension("srt")).unwrap();
    dialogue.utterances.truncate(2);
    let opts = ExtractOptions {
        keyframes: 2,
        ..Default::default()
    };
    let (features, notes) = extract(
        &enc,
        Some(&demo),
        &dialogue,
        &opts,
        &mut |_| {},
        &CancelToken::default(),
    )
    .unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    for f in &features {
        let v = f.visual.as_ref().unwrap();
        assert_eq!(
            v.face_mask.sum(tch::Kind::Float).double_value(&[]),
            2.0,
            "the speaker's face in both keyframes"
        );
        assert_eq!(f.speech.as_ref().unwrap().size()[1], 384);
        let frames = f.speech.as_ref().unwrap().size()[0] as f64;
        assert!(
            (frames - f.audio_seconds * 50.0).abs() <= 1.0,
            "Whisper frames over the real length only"
        );
        assert_eq!(f.voice.as_ref().unwrap().size(), [256]);
    }
    // The two speakers' voices differ more than one voice with itself.
    let (a, b) = (features[0].voice.as_ref().unwrap(), features[1].voice.as_ref().unwrap());
    assert!(amuse::features::voice::similarity(a, b) < 0.95);

    let dir = tempfile::tempdir().unwrap();
    let key = cache::key(&store, None, Some(&demo), &dialogue, &opts).unwrap();
    assert!(cache::load(dir.path(), &key).is_none());
    cache::store(dir.path(), &key, &features, &notes).unwrap();
    let (back, _) = cache::load(dir.path(), &key).expect("cached");
    for (x, y) in features.iter().zip(&back) {
        assert!(
            (&x.text.tokens - &y.text.tokens).abs().max().double_value(&[]) < 1e-2,
            "f16/f32 round trip"
        );
        assert_eq!(
            x.visual.as_ref().unwrap().keyframes,
            y.visual.as_ref().unwrap().keyframes
        );
    }
    let other = ExtractOptions {
        keyframes: 3,
        ..Default::default()
    };
    assert_ne!(
        key,
        cache::key(&store, None, Some(&demo), &dialogue, &other).unwrap(),
        "options change the key"
    );
    assert_ne!(
        key,
        cache::key(&store, Some("0123abcd"), Some(&demo), &dialogue, &opts).unwrap(),
        "a text adapter changes the key"
    );
}

#[test]
fn cancellation_stops_the_extraction() {
    let store = common::store();
    let enc = Encoders::load(&store, Device::Cpu, None).unwrap();
    let cancel = CancelToken::default();
    cancel.cancel();
    let err = extract(
        &enc,
        Some(&common::demo()),
        &two_lines(),
        &ExtractOptions::default(),
        &mut |_| {},
        &cancel,
    )
    .unwrap_err();
    assert!(err.downcast_ref::<amuse::progress::Cancelled>().is_some());
}
