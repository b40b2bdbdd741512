//! Malformed-input corpus, part 1: media files and transcripts, driven through the library
//! (`decode::{probe, audio, frames_at, keyframe_times}`, `analysis::load_dialogue`,
//! `meld_raw::load`). Every case is generated here; the expected outcome of each is in the
//! README's "Robustness" table (case numbers match the comments). "Degrade" means a
//! prediction is still possible with fewer modalities; "message" means an error that says
//! what is wrong and what to do. No case may panic.

use crate::common;
use crate::robust;

use std::path::Path;

use amuse::analysis::load_dialogue;
use amuse::media::decode::{self, MediaError};
use amuse::media::transcript::meld_raw;
use robust::{base, damaged, flip_every, message, pattern, transcript};

fn unreadable(r: Result<decode::MediaInfo, MediaError>, what: &str) {
    let m = message(r);
    assert!(
        m.contains("not a readable video or audio file") && m.contains("is it complete"),
        "{what}: {m}"
    );
}

#[test]
fn broken_containers_give_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    // 1 zero-byte file, 2 text renamed .mp4, 3 missing file, 4 a folder, 5 header only.
    unreadable(decode::probe(&transcript("rb_zero.mp4", b"")), "zero bytes");
    unreadable(
        decode::probe(&transcript("rb_text.mp4", b"WEBVTT\n\nnot a video\n")),
        "text",
    );
    let m = message(decode::probe(Path::new("/nonexistent/clip.mp4")));
    assert!(m.contains("no such file"), "{m}");
    assert!(decode::probe(dir.path()).is_err(), "a folder is not a video");
    unreadable(
        decode::probe(&damaged("rb_head.mp4", &base(), |b| b.truncate(64))),
        "header only",
    );
    // 6 index at the end and the file cut in half: nothing can be read.
    unreadable(
        decode::probe(&damaged("rb_cut_moov.mp4", &robust::base_moov_last(), |b| {
            b.truncate(b.len() / 2)
        })),
        "cut",
    );
    // 7 a damaged index (`moov` first): refused or read, never a panic.
    let f = damaged("rb_flip_head.mp4", &base(), |b| flip_every(b, 40, 37));
    if let Ok(info) = decode::probe(&f) {
        let _ = decode::frames_at(&f, &[0.0, 2.0], 160);
        let _ = decode::audio(&f, 0.0, 1.0, 16_000);
        assert!(info.duration.is_finite());
    }
}

#[test]
fn truncated_and_bit_rotted_video_degrades() {
    // 8 truncated at 60 % with the index first: the start decodes, the rest is missing.
    let cut = damaged("rb_cut.mp4", &base(), |b| b.truncate(b.len() * 6 / 10));
    let info = decode::probe(&cut).unwrap();
    let frames = decode::frames_at(&cut, &[0.5, 3.9], 160).unwrap();
    assert!(
        frames[0].time <= 0.5 && frames[1].time < 3.9,
        "late frame falls back to the last one decoded"
    );
    let early = decode::audio(&cut, 0.0, 1.0, 16_000).unwrap();
    assert_eq!(early.len(), 16_000, "audio before the cut is intact");
    let late = decode::audio(&cut, 3.0, 4.0, 16_000).unwrap();
    assert!(
        late.len() < 16_000 && info.duration > 3.0,
        "audio after the cut is short, not invented"
    );
    // 9 bit rot in the media data: damaged packets are skipped, as players do.
    let rot = damaged("rb_rot.mp4", &base(), |b| {
        let from = b.len() / 4;
        flip_every(b, from, 997)
    });
    let frames = decode::frames_at(&rot, &[0.0, 1.0, 2.0, 3.0], 160).unwrap();
    assert_eq!(frames.len(), 4);
    assert!(decode::audio(&rot, 0.0, 4.0, 16_000).unwrap().len() > 32_000);
}

#[test]
fn missing_streams_degrade_to_fewer_modalities() {
    // 10 video without audio: frames, and a NoAudio that names the lost cue.
    let silent = pattern(
        "rb_silent.mp4",
        "160x120",
        20,
        &["-c:v", "libx264", "-preset", "ultrafast"],
    );
    assert!(decode::probe(&silent).unwrap().audio.is_none());
    let m = message(decode::audio(&silent, 0.0, 1.0, 16_000));
    assert!(
        m.contains("no audio stream") && m.contains("voice cues will be missing"),
        "{m}"
    );
    assert_eq!(decode::frames_at(&silent, &[0.5], 0).unwrap().len(), 1);
    // 11 audio-only .m4a, 12 a WAV renamed .mp4: audio, and a NoVideo for the face cue.
    let m4a = common::ffmpeg_fixture("rb_audio.m4a", &["-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac"]);
    let wav = common::ffmpeg_fixture(
        "rb_wav_named.mp4",
        &["-f", "lavfi", "-i", "sine=duration=2", "-f", "wav"],
    );
    for f in [&m4a, &wav] {
        assert!(decode::probe(f).unwrap().video.is_none());
        assert!(matches!(decode::frames_at(f, &[0.5], 0), Err(MediaError::NoVideo(_))));
        assert!(matches!(decode::keyframe_times(f), Err(MediaError::NoVideo(_))));
        assert!(message(decode::frames_at(f, &[0.5], 0)).contains("face and background cues will be missing"));
        let a = decode::audio(f, 0.5, 1.5, 16_000).unwrap();
        assert!((a.len() as i64 - 16_000).abs() <= 2, "{} samples", a.len());
    }
    // 13 5.1 audio, 14 8 kHz audio: mono at 16 kHz either way.
    let surround = common::ffmpeg_fixture(
        "rb_51.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
            "-af",
            "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0",
            "-c:a",
            "flac",
        ],
    );
    let low = common::ffmpeg_fixture("rb_8k.wav", &["-f", "lavfi", "-i", "sine=duration=2:sample_rate=8000"]);
    for f in [&surround, &low] {
        let a = decode::audio(f, 0.0, 2.0, 16_000).unwrap();
        assert!(
            (a.len() as i64 - 32_000).abs() <= 2,
            "{}: {} samples",
            f.display(),
            a.len()
        );
    }
}

#[test]
fn odd_geometry_and_timing() {
    // 15 a single frame: every time shows it.
    let one = pattern("rb_one.mp4", "160x120", 1, &["-c:v", "libx264", "-preset", "ultrafast"]);
    let f = decode::frames_at(&one, &[0.0, 1.0, 30.0], 0).unwrap();
    assert!(f.iter().all(|f| f.time == 0.0 && f.image.dimensions() == (160, 120)));
    // 16 8K (two frames, tiny bitrate): probed at full size, decoded scaled down.
    let big = pattern(
        "rb_8k.mp4",
        "7680x4320",
        2,
        &["-c:v", "libx264", "-preset", "ultrafast", "-crf", "51"],
    );
    let v = decode::probe(&big).unwrap().video.unwrap();
    assert_eq!((v.width, v.height), (7680, 4320));
    assert_eq!(
        decode::frames_at(&big, &[0.1], 640).unwrap()[0].image.dimensions(),
        (640, 360)
    );
    // 17 64×64: never upscaled. 18 odd size 33×17 (FFV1 in Matroska).
    let small = pattern("rb_64.mp4", "64x64", 10, &["-c:v", "libx264", "-preset", "ultrafast"]);
    assert_eq!(
        decode::frames_at(&small, &[0.3], 640).unwrap()[0].image.dimensions(),
        (64, 64)
    );
    let odd = pattern("rb_odd.mkv", "33x17", 5, &["-c:v", "ffv1"]);
    assert_eq!(
        decode::frames_at(&odd, &[0.2], 640).unwrap()[0].image.dimensions(),
        (33, 17)
    );
    // 19 variable frame rate: 10 frames 0.16 s apart, then 0.04 s apart.
    let vfr = common::ffmpeg_fixture(
        "rb_vfr.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x64:rate=25:duration=2",
            "-vf",
            "setpts='if(lt(N,10),N*4,30+N)/25/TB'",
            "-vsync",
            "vfr",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ],
    );
    let f = decode::frames_at(&vfr, &[0.5, 1.62, 0.0], 0).unwrap();
    let times: Vec<f64> = f.iter().map(|f| f.time).collect();
    assert!(
        (times[0] - 0.48).abs() < 1e-6 && (times[1] - 1.60).abs() < 1e-6 && times[2] == 0.0,
        "{times:?}"
    );
    // 20 times past the end, negative and NaN: the nearest frame, no panic.
    let f = decode::frames_at(&small, &[99.0, -3.0, f64::NAN], 0).unwrap();
    assert_eq!(f.len(), 3);
    let tail = decode::audio(&base(), 3.5, 60.0, 16_000).unwrap().len();
    assert!(
        (7_900..9_000).contains(&tail),
        "a span past the end is cut at the end: {tail} samples"
    );
}

#[test]
fn phone_rotation_is_applied_like_the_ffmpeg_cli() {
    // 21 a sideways phone video (display matrix): frames come out upright, as ffmpeg shows them.
    let plain = pattern(
        "rb_rot_src.mp4",
        "320x180",
        3,
        &["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0"],
    );
    let rotated = common::ffmpeg_fixture(
        "rb_rotated.mp4",
        &[
            "-i",
            plain.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
        ],
    );
    let v = decode::probe(&rotated).unwrap().video.unwrap();
    assert_eq!((v.width, v.height), (180, 320), "display size");
    let reference = common::ffmpeg_fixture(
        "rb_rotated_ref.png",
        &["-i", rotated.to_str().unwrap(), "-frames:v", "1", "-pix_fmt", "rgb24"],
    );
    let want = image::open(reference).unwrap().to_rgb8();
    let got = decode::frames_at(&rotated, &[0.0], 0).unwrap().remove(0).image;
    assert_eq!(got.dimensions(), want.dimensions());
    let diff = |a: &image::RgbImage| {
        a.as_raw()
            .iter()
            .zip(want.as_raw())
            .map(|(x, y)| f64::from(x.abs_diff(*y)))
            .sum::<f64>()
            / a.as_raw().len() as f64
    };
    let upside_down = image::imageops::rotate180(&got);
    assert!(
        diff(&got) < 4.0 && diff(&upside_down) > 20.0,
        "{} vs {}",
        diff(&got),
        diff(&upside_down)
    );
}

const SRT_OK: &str =
    "1\n00:00:00,500 --> 00:00:01,500\nAnn: Hello there.\n\n2\n00:00:02,000 --> 00:00:03,000\nBob: Hi!\n";

fn dialogue(name: &str, bytes: &[u8]) -> anyhow::Result<amuse::media::transcript::Dialogue> {
    load_dialogue(&base(), Some(&transcript(name, bytes)))
}

fn warned(name: &str, bytes: &[u8], needle: &str) -> usize {
    let d = dialogue(name, bytes).unwrap();
    assert!(
        d.warnings.iter().any(|w| w.contains(needle)),
        "{name}: no `{needle}` in {:?}",
        d.warnings
    );
    d.utterances.len()
}

fn refused(name: &str, bytes: &[u8], needle: &str) {
    let m = message(dialogue(name, bytes));
    assert!(m.contains(needle), "{name}: `{needle}` not in: {m}");
}

fn utf16(s: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for u in std::iter::once(0xfeff).filter(|_| bom).chain(s.encode_utf16()) {
        out.extend(if big_endian { u.to_be_bytes() } else { u.to_le_bytes() });
    }
    out
}

#[test]
fn subtitle_problems_are_repaired_with_warnings() {
    // 22 overlapping, 23 reversed, 24 partly past the end (clipped), 25 wholly past it.
    assert_eq!(
        warned(
            "rb_overlap.srt",
            b"1\n00:00:00,000 --> 00:00:02,000\na\n\n2\n00:00:01,000 --> 00:00:03,000\nb\n",
            "overlap"
        ),
        2
    );
    assert_eq!(
        warned(
            "rb_reversed.srt",
            b"1\n00:00:03,000 --> 00:00:01,000\nback\n",
            "swapped"
        ),
        1
    );
    assert_eq!(
        warned(
            "rb_long.srt",
            b"1\n00:00:03,000 --> 00:00:09,000\nlong\n\n2\n00:00:30,000 --> 00:00:31,000\nx\n",
            "clipped"
        ),
        1
    );
    refused(
        "rb_after.srt",
        b"1\n00:01:00,000 --> 00:01:02,000\nlate\n",
        "no usable utterance",
    );
    // 26 Latin-1, 27 UTF-16LE with BOM, 28 UTF-16BE with BOM, 29 UTF-16LE without BOM, 30 UTF-8 BOM.
    let latin1 = b"1\n00:00:00,500 --> 00:00:01,500\nZo\xeb: caf\xe9\n";
    assert_eq!(warned("rb_latin1.srt", latin1, "Windows-1252"), 1);
    assert_eq!(dialogue("rb_latin1.srt", latin1).unwrap().utterances[0].text, "café");
    assert_eq!(warned("rb_u16le.srt", &utf16(SRT_OK, false, true), "UTF-16LE"), 2);
    assert_eq!(warned("rb_u16be.srt", &utf16(SRT_OK, true, true), "UTF-16BE"), 2);
    assert_eq!(
        warned("rb_u16nobom.srt", &utf16(SRT_OK, false, false), "no byte-order mark"),
        2
    );
    let bom8 = [b"\xef\xbb\xbf".as_slice(), SRT_OK.as_bytes()].concat();
    assert_eq!(
        dialogue("rb_bom8.srt", &bom8).unwrap().utterances[0].speaker.as_deref(),
        Some("Ann")
    );
    // 31 a cue with unreadable times is skipped with a warning.
    assert_eq!(
        warned(
            "rb_badtime.srt",
            format!("{SRT_OK}\n3\n00:00:xx --> 1\nbad\n").as_bytes(),
            "unreadable times"
        ),
        2
    );
}

#[test]
fn unusable_transcripts_are_refused_with_the_reason() {
    // 32 empty file, 33 whitespace, 34 only empty cues, 35 binary junk, 36 VTT without header.
    refused("rb_empty.srt", b"", "no subtitle cue could be read");
    refused("rb_blank.srt", b"\n\n  \r\n", "no subtitle cue could be read");
    refused(
        "rb_emptycues.srt",
        b"1\n00:00:00,000 --> 00:00:01,000\n\n\n2\n00:00:01,000 --> 00:00:02,000\n   \n",
        "no usable utterance",
    );
    refused("rb_junk.srt", &[0u8, 159, 146, 150, 255, 0, 1, 2, 3], "no subtitle cue");
    refused("rb_nohead.vtt", b"00:01.000 --> 00:02.000\nhi\n", "WEBVTT");
    // 37 CSV without a text column, 38 two dialogues in one CSV, 39 a .txt transcript.
    refused(
        "rb_notext.csv",
        b"Speaker,Emotion,StartTime,EndTime\nA,joy,0,1\n",
        "no text column",
    );
    refused(
        "rb_two.csv",
        b"Utterance,Dialogue_ID,StartTime,EndTime\nhi,0,0,1\nyo,1,0,1\n",
        "holds 2 dialogues",
    );
    refused("rb_notes.txt", b"hello", "unknown transcript type");
    // 40 no transcript beside the video, 41 a transcript path that does not exist.
    let lonely = common::bytes_fixture("rb_lonely.mp4", &std::fs::read(base()).unwrap());
    let m = message(load_dialogue(&lonely, None));
    assert!(m.contains("no transcript beside") && m.contains("--transcript"), "{m}");
    let m = message(load_dialogue(&base(), Some(Path::new("/nonexistent/t.srt"))));
    assert!(m.contains("cannot read transcript"), "{m}");
}

#[test]
fn tables_with_gaps_degrade() {
    // 42 no time columns, 43 unknown labels, 44 an unterminated quote, 45 IEMOCAP-style TSV.
    assert_eq!(
        warned(
            "rb_notimes.csv",
            b"Utterance,Speaker\nhi,A\nyo,B\n",
            "no start/end time columns"
        ),
        2
    );
    let labels = b"Utterance,Emotion,StartTime,EndTime\nhi,frustrated,0,1\nyo,joy,1,2\nok,Happy,2,3\n";
    let d = dialogue("rb_labels.csv", labels).unwrap();
    assert!(d
        .warnings
        .iter()
        .any(|w| w.contains("`frustrated`") && w.contains("without ground truth")));
    let got: Vec<_> = d.utterances.iter().map(|u| u.label.map(|l| l.name())).collect();
    assert_eq!(got, [None, Some("joy"), Some("joy")]);
    let d = dialogue("rb_quote.csv", b"text,start,end\n\"open,0,1\nfine,1,2\n").unwrap();
    assert!(!d.utterances.is_empty());
    let tsv = b"text\tspeaker\tstart\tend\tlabel\nHi\tM\t0.5\t1.5\tang\nNo\tF\t1.6\t2.0\tsad\n";
    assert_eq!(dialogue("rb_iemocap.tsv", tsv).unwrap().utterances.len(), 2);
}

#[test]
fn meld_raw_folders_with_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID\n1,Hi,A,joy,positive,0,0\n2,Yo,B,anger,negative,0,1\n3,Eh,A,neutral,neutral,1,0\n";
    std::fs::write(dir.path().join("dev_sent_emo.csv"), csv).unwrap();
    // 46 no clip at all: refused. 47 one clip of three: that one kept, the others named.
    assert!(message(meld_raw::load(dir.path(), None)).contains("no utterance clip"));
    std::fs::copy(base(), dir.path().join("dia0_utt1.mp4")).unwrap();
    let ds = meld_raw::load(dir.path(), None).unwrap();
    assert_eq!((ds.len(), ds[0].dialogue.utterances.len()), (1, 1));
    assert!(ds[0]
        .dialogue
        .warnings
        .iter()
        .any(|w| w.contains("dia0_utt0.mp4 is missing")));
    // 48 two CSVs: which one? 49 none: pass it.
    std::fs::write(dir.path().join("other.csv"), csv).unwrap();
    assert!(message(meld_raw::load(dir.path(), None)).contains("choose one with --transcript"));
    let empty = tempfile::tempdir().unwrap();
    assert!(message(meld_raw::load(empty.path(), None)).contains("pass it with --transcript"));
}
