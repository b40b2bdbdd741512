//! FFmpeg decoding through ffmpeg-next on real files: the demo dialogue, and generated
//! fixtures with no audio, no video, corruption and non-media content.

use crate::common;

use amuse::media::decode::{self, MediaError};
use amuse::media::transcript;

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

#[test]
fn probe_the_demo() {
    let info = decode::probe(&common::demo()).unwrap();
    assert!((info.duration - 47.08).abs() < 0.1, "duration {}", info.duration);
    let v = info.video.unwrap();
    assert_eq!((v.width, v.height), (854, 480));
    assert!((v.fps - 25.0).abs() < 0.01);
    let a = info.audio.unwrap();
    assert_eq!(a.sample_rate, 48000);
}

#[test]
fn audio_span_follows_the_subtitles() {
    let demo = common::demo();
    let dialogue = transcript::load(&demo.with_extension("srt")).unwrap();
    let u = &dialogue.utterances[0];
    let speech = decode::audio(&demo, u.start, u.end, 16_000).unwrap();
    let expected = (u.duration() * 16_000.0).round() as i64;
    assert!(
        (speech.len() as i64 - expected).abs() <= 2,
        "{} samples, expected {expected}",
        speech.len()
    );
    assert!(rms(&speech) > 0.02, "speech is audible: rms {}", rms(&speech));
    let silence = decode::audio(&demo, 0.2, 1.4, 16_000).unwrap();
    assert!(
        rms(&silence) < 0.002,
        "the opening shot is silent: rms {}",
        rms(&silence)
    );
    // A later span after a seek gives the same samples as decoding from the start.
    let late = dialogue.utterances.last().unwrap();
    let a = decode::audio(&demo, late.start, late.end, 16_000).unwrap();
    let whole = decode::audio(&demo, 0.0, f64::INFINITY, 16_000).unwrap();
    let from = (late.start * 16_000.0).round() as usize;
    let b = &whole[from..from + a.len()];
    let diff = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(
        diff < 0.03,
        "seeked span matches the continuous decode: max diff {diff}"
    );
}

#[test]
fn frames_at_times_in_any_order() {
    let demo = common::demo();
    let frames = decode::frames_at(&demo, &[16.0, 1.0, 16.04, 100.0], 427).unwrap();
    assert_eq!(frames.len(), 4);
    assert!(
        (frames[0].time - 16.0).abs() < 0.05 && (frames[1].time - 1.0).abs() < 0.05,
        "{} {}",
        frames[0].time,
        frames[1].time
    );
    assert_eq!(frames[0].image.dimensions(), (426, 240), "scaled to even dimensions");
    assert_ne!(frames[0].image.as_raw(), frames[1].image.as_raw(), "different shots");
    assert!(frames[3].time > 46.0, "past the end gives the last frame");
    let keys = decode::keyframe_times(&demo).unwrap();
    assert!(!keys.is_empty() && keys.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn video_without_audio_has_frames_and_a_clear_audio_error() {
    let f = common::ffmpeg_fixture(
        "noaudio.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x64:rate=10:duration=1",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let info = decode::probe(&f).unwrap();
    assert!(info.audio.is_none() && info.video.is_some());
    let err = decode::audio(&f, 0.0, 1.0, 16_000).unwrap_err();
    assert!(matches!(err, MediaError::NoAudio(_)));
    assert!(err.to_string().contains("no audio stream"), "{err}");
    assert_eq!(
        decode::frames_at(&f, &[0.5], 0).unwrap()[0].image.dimensions(),
        (64, 64)
    );
}

#[test]
fn audio_only_file_decodes_and_resamples() {
    // Left 0.1·sin, right 0.3·sin: the mean is 0.2·sin (rms 0.141); FFmpeg's own downmix
    // ((L+R)/√2) would give rms 0.2.
    let f = common::ffmpeg_fixture(
        "tone_lr.ogg",
        &[
            "-f",
            "lavfi",
            "-i",
            "aevalsrc=0.1*sin(2*PI*440*t)|0.3*sin(2*PI*440*t):s=44100:d=2",
            "-c:a",
            "libvorbis",
        ],
    );
    let info = decode::probe(&f).unwrap();
    assert!(info.video.is_none());
    let x = decode::audio(&f, 0.5, 1.5, 16_000).unwrap();
    assert!((x.len() as i64 - 16_000).abs() <= 2, "{}", x.len());
    assert!(
        (rms(&x) - 0.2 / 2f32.sqrt()).abs() < 0.01,
        "mono is the mean of the channels: rms {}",
        rms(&x)
    );
    assert!(matches!(decode::frames_at(&f, &[0.0], 0), Err(MediaError::NoVideo(_))));
}

#[test]
fn broken_files_are_reported_not_panicked() {
    let demo_bytes = std::fs::read(common::demo()).unwrap();
    let cases = [
        common::bytes_fixture("empty.mp4", b""),
        common::bytes_fixture("notes.mp4", b"this is a text file, not a video\n"),
        common::bytes_fixture("truncated.mp4", &demo_bytes[..demo_bytes.len() / 3]),
    ];
    for path in &cases {
        match decode::probe(path) {
            Err(e) => assert!(
                e.to_string().contains(&*path.file_name().unwrap().to_string_lossy()),
                "{e}"
            ),
            Ok(_) => {
                // A container that still probes must fail cleanly (or succeed) when decoding.
                let _ = decode::frames_at(path, &[1.0, 40.0], 64);
                let _ = decode::audio(path, 0.0, 5.0, 16_000);
            }
        }
    }
    assert!(matches!(
        decode::probe(std::path::Path::new("/nonexistent/x.mp4")),
        Err(MediaError::NotFound(_))
    ));
}
