//! The IEMOCAP loader on a generated miniature `IEMOCAP_full_release` (two sessions, real
//! file formats, short silent wavs): labels, speakers, order, splits and the messages for
//! a wrong path or a missing file.

use crate::common;

use std::path::Path;

use amuse::train::iemocap::{self, CLASSES};

/// A 16 kHz mono 16-bit PCM wav of `n` zero samples.
pub(crate) fn wav(path: &Path, n: u32) {
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + 2 * n).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&16_000u32.to_le_bytes());
    b.extend_from_slice(&32_000u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(2 * n).to_le_bytes());
    b.resize(b.len() + 2 * n as usize, 0);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b).unwrap();
}

/// One dialogue: `(utt suffix, start, end, code, text)`; evaluation lines in the given
/// order (IEMOCAP's files are not always in time order).
pub(crate) fn dialogue(root: &Path, session: u32, name: &str, utts: &[(&str, f64, f64, &str, &str)]) {
    let s = root.join(format!("Session{session}"));
    let mut eval = String::from("% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n");
    let mut trans = String::new();
    for (suffix, start, end, code, text) in utts {
        let id = format!("{name}_{suffix}");
        eval.push_str(&format!(
            "[{start:.4} - {end:.4}]\t{id}\t{code}\t[2.5000, 3.0000, 3.0000]\n"
        ));
        eval.push_str("C-E1:\tNeutral;\t()\nA-E1:\tval 3; act 3; dom  3;\t()\n\n");
        trans.push_str(&format!("{id} [{start:08.4}-{end:08.4}]: {text}\n"));
        wav(&s.join(format!("sentences/wav/{name}/{id}.wav")), 1600);
    }
    trans.push_str("M: [LAUGHTER] (a line without times)\n");
    for (dir, content) in [("EmoEvaluation", eval), ("transcriptions", trans)] {
        let d = s.join("dialog").join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("{name}.txt")), content).unwrap();
    }
}

fn miniature(root: &Path) {
    dialogue(
        root,
        1,
        "Ses01F_impro01",
        &[
            ("M001", 3.5, 5.0, "fru", "I've been waiting for an hour."),
            ("F000", 1.0, 3.0, "neu", "Next in line, please."),
            ("F002", 5.5, 7.25, "xxx", "I understand."),
            ("M003", 8.0, 9.0, "exc", "Finally!"),
        ],
    );
    dialogue(
        root,
        2,
        "Ses02M_script01_1",
        &[
            ("F000", 0.5, 2.0, "hap", "What a day."),
            ("M000", 2.5, 4.0, "sad", "I lost my job."),
            ("F001", 4.5, 6.0, "ang", "They can't do that!"),
        ],
    );
}

#[test]
fn reads_labels_speakers_and_order() {
    let dir = tempfile::tempdir().unwrap();
    miniature(dir.path());
    let ds = iemocap::read(dir.path(), &[1, 2, 3, 4, 5]).unwrap();
    assert_eq!(ds.len(), 2);
    let d = &ds[0];
    assert_eq!((d.session, d.name.as_str()), (1, "Ses01F_impro01"));
    let ids: Vec<&str> = d.utterances.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "Ses01F_impro01_F000",
            "Ses01F_impro01_M001",
            "Ses01F_impro01_F002",
            "Ses01F_impro01_M003"
        ]
    );
    let speakers: Vec<&str> = d.utterances.iter().map(|u| u.speaker.as_str()).collect();
    assert_eq!(speakers, ["Ses01F", "Ses01M", "Ses01F", "Ses01M"]);
    let labels: Vec<Option<&str>> = d.utterances.iter().map(|u| u.label.map(|l| CLASSES[l])).collect();
    assert_eq!(labels, [Some("neutral"), Some("frustrated"), None, Some("excited")]);
    assert_eq!(d.utterances[1].text, "I've been waiting for an hour.");
    assert_eq!((d.utterances[1].start, d.utterances[1].end), (3.5, 5.0));
    assert!(d.utterances[3]
        .wav
        .ends_with("Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M003.wav"));
    // The second session: the dialogue prefix (Ses02M) does not decide the speaker.
    let s2: Vec<(&str, Option<&str>)> = ds[1]
        .utterances
        .iter()
        .map(|u| (u.speaker.as_str(), u.label.map(|l| CLASSES[l])))
        .collect();
    assert_eq!(
        s2,
        [
            ("Ses02F", Some("happy")),
            ("Ses02M", Some("sad")),
            ("Ses02F", Some("angry"))
        ]
    );
}

#[test]
fn splits_follow_the_convention() {
    let dir = tempfile::tempdir().unwrap();
    miniature(dir.path());
    // Sessions 1–4 → train + dev (a tenth of the dialogues, at least one).
    let train = iemocap::split(dir.path(), "train").unwrap();
    let dev = iemocap::split(dir.path(), "dev").unwrap();
    assert_eq!((train.len(), dev.len()), (1, 1), "one of two dialogues goes to dev");
    let mut names = vec![train[0].name.clone(), dev[0].name.clone()];
    names.sort();
    assert_eq!(names, ["Ses01F_impro01", "Ses02M_script01_1"]);
    // Session 5 is the test split; this miniature has none.
    let err = format!("{:#}", iemocap::split(dir.path(), "test").unwrap_err());
    assert!(err.contains("no IEMOCAP dialogues") && err.contains("[5]"), "{err}");
    let err = format!("{:#}", iemocap::split(dir.path(), "valid").unwrap_err());
    assert!(err.contains("train and dev"), "{err}");
}

#[test]
fn wrong_paths_and_missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = format!("{:#}", iemocap::read(&dir.path().join("nope"), &[1]).unwrap_err());
    assert!(err.contains("is not a folder") && err.contains("--iemocap"), "{err}");
    let err = format!("{:#}", iemocap::read(dir.path(), &[1, 2]).unwrap_err());
    assert!(err.contains("no IEMOCAP dialogues found"), "{err}");

    miniature(dir.path());
    let missing = dir
        .path()
        .join("Session2/sentences/wav/Ses02M_script01_1/Ses02M_script01_1_M000.wav");
    std::fs::remove_file(&missing).unwrap();
    let err = format!("{:#}", iemocap::read(dir.path(), &[1, 2]).unwrap_err());
    assert!(
        err.contains("missing audio") && err.contains("Ses02M_script01_1_M000.wav"),
        "{err}"
    );

    std::fs::remove_file(dir.path().join("Session1/dialog/transcriptions/Ses01F_impro01.txt")).unwrap();
    let err = format!("{:#}", iemocap::read(dir.path(), &[1]).unwrap_err());
    assert!(err.contains("transcription of Ses01F_impro01"), "{err}");
}

#[test]
fn a_split_becomes_model_inputs_through_the_real_encoders() {
    use amuse::features::audio::SpeechEncoder;
    use amuse::features::text::TextEncoder;
    use amuse::train::data::AudioEncoderRef;
    let store = common::store();
    let text = TextEncoder::load(&store, tch::Device::Cpu).unwrap();
    let speech = SpeechEncoder::load(&store, tch::Device::Cpu).unwrap();
    let dir = tempfile::tempdir().unwrap();
    miniature(dir.path());
    let split_corpus = |which: &str| {
        let dialogues = iemocap::split(dir.path(), which).unwrap();
        iemocap::corpus(&store, &text, &AudioEncoderRef::Whisper(&speech), &dialogues, which).unwrap()
    };
    let both = [split_corpus("train"), split_corpus("dev")];
    let s1 = both
        .iter()
        .find(|c| c.dialogues[0].len() == 4)
        .expect("session 1's dialogue");
    let labels: Vec<Option<i64>> = s1.dialogues[0].iter().map(|u| u.label).collect();
    assert_eq!(labels, [Some(2), Some(5), None, Some(4)]);
    for u in &s1.dialogues[0] {
        assert_eq!(u.text.as_ref().unwrap().size()[1], 768);
        assert_eq!(u.audio.as_ref().unwrap().size()[1], 384);
    }
    assert_eq!(s1.dialogues[0][1].speaker.as_deref(), Some("Ses01M"));
}
