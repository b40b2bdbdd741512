//! Transcript files as users have them: SRT in Latin-1 and UTF-16, WebVTT with voices,
//! MELD CSV, and a MELD.Raw folder with a missing clip.

use crate::common;

use amuse::media::transcript::{self, meld_raw};

fn write(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    common::bytes_fixture(name, bytes)
}

#[test]
fn srt_in_latin1_and_utf16_with_bom() {
    let latin1 = write("latin1.srt", b"1\n00:00:01,000 --> 00:00:02,000\nJos\xe9: Ol\xe1!\n");
    let d = transcript::load(&latin1).unwrap();
    assert_eq!(d.utterances[0].speaker.as_deref(), Some("José"));
    assert_eq!(d.utterances[0].text, "Olá!");
    assert!(d.warnings[0].contains("Windows-1252"));
    let mut utf16 = vec![0xff, 0xfe];
    for u in "1\r\n00:00:01,000 --> 00:00:02,000\r\nAnn: “Hi” 😀\r\n".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let d = transcript::load(&write("utf16.srt", &utf16)).unwrap();
    assert_eq!(d.utterances[0].text, "“Hi” 😀");
    let err = transcript::load(&write("binary.srt", &[0u8, 159, 146, 150, 0, 0, 7, 1])).unwrap_err();
    assert!(err.to_string().contains("binary.srt"), "{err}");
}

#[test]
fn demo_transcripts_agree() {
    let demo = common::demo();
    let srt = transcript::load(&demo.with_extension("srt")).unwrap();
    let csv = transcript::load(&demo.with_extension("csv")).unwrap();
    assert_eq!(srt.utterances.len(), 12);
    for (a, b) in srt.utterances.iter().zip(&csv.utterances) {
        assert_eq!(
            (a.start, a.end, &a.speaker, &a.text),
            (b.start, b.end, &b.speaker, &b.text)
        );
        assert!(b.label.is_some(), "the CSV carries the intended emotions");
    }
    assert_eq!(transcript::find_beside(&demo).unwrap().extension().unwrap(), "csv");
}

#[test]
fn meld_raw_folder_with_a_missing_clip() {
    let dir = tempfile::tempdir().unwrap();
    let clip = common::ffmpeg_fixture(
        "clip.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x64:rate=5:duration=1",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    std::fs::copy(&clip, dir.path().join("dia0_utt0.mp4")).unwrap();
    std::fs::copy(&clip, dir.path().join("dia0_utt2.mp4")).unwrap();
    std::fs::write(
        dir.path().join("dev_sent_emo.csv"),
        "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n\
         1,Hi.,Ross,neutral,neutral,0,0,1,1,\"00:00:01,000\",\"00:00:02,000\"\n\
         2,Hey!,Rachel,joy,positive,0,1,1,1,\"00:00:02,000\",\"00:00:03,000\"\n\
         3,What?,Ross,surprise,positive,0,2,1,1,\"00:00:03,000\",\"00:00:04,000\"\n",
    )
    .unwrap();
    let dialogues = meld_raw::load(dir.path(), None).unwrap();
    assert_eq!(dialogues.len(), 1);
    let d = &dialogues[0].dialogue;
    let texts: Vec<&str> = d.utterances.iter().map(|u| u.text.as_str()).collect();
    assert_eq!(texts, ["Hi.", "What?"]);
    assert!(d.utterances[1].clip.as_ref().unwrap().ends_with("dia0_utt2.mp4"));
    assert!(d
        .warnings
        .iter()
        .any(|w| w.contains("dia0_utt1.mp4") && w.contains("missing")));
    let empty = tempfile::tempdir().unwrap();
    assert!(meld_raw::load(empty.path(), None)
        .unwrap_err()
        .to_string()
        .contains("no .csv"));
}
