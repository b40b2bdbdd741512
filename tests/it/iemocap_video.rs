//! IEMOCAP with its videos, on a generated miniature release: both actors side by side in
//! a DivX avi (the astronaut on the left, Grace Hopper on the right), as IEMOCAP's dialogue
//! videos show them. Each utterance must read the face on its speaker's side (the dialogue
//! name's letter says who wore the markers and sits on the left), and `amuse train --data
//! iemocap` must learn from those faces what the words and the voice cannot tell.

use crate::common;
use crate::iemocap::dialogue;

use std::path::{Path, PathBuf};
use std::process::Command;

use amuse::model::amuse::Modality;
use amuse::model::batch::UtteranceInput;
use amuse::model::checkpoint;
use amuse::train::corpora::{self, Dataset, Encoders, Sources, Split};
use amuse::train::iemocap::{self, CLASSES};
use amuse::train::iemocap_video::{self, Faces, Lead};

const WIDTH: f32 = 640.0;

/// Ten seconds of both actors side by side (DivX in an avi, like the release's).
fn side_by_side() -> PathBuf {
    let golden = common::store().root().join("golden");
    let face = |name: &str| golden.join(name).to_string_lossy().into_owned();
    let (left, right) = (face("mtcnn_astronaut.png"), face("mtcnn_grace_hopper.png"));
    common::ffmpeg_fixture(
        "iemocap_side_by_side.avi",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=0x808080:s=640x240:d=10:r=5",
            "-i",
            &left,
            "-i",
            &right,
            "-filter_complex",
            "[1]scale=120:-2[a];[2]scale=120:-2[b];[0][a]overlay=100:40[l];[l][b]overlay=420:30",
            "-c:v",
            "mpeg4",
            "-vtag",
            "DIVX",
            "-q:v",
            "3",
            "-t",
            "10",
        ],
    )
}

/// Three dialogues per session (Session 1: the woman wore the markers, Session 2: the
/// man), four utterances each, two per actor, the same words and the same silence
/// throughout: the actor on the left is happy, the one on the right sad, so only the face
/// tells them apart.
fn miniature(root: &Path) {
    let video = side_by_side();
    // The six orders of two turns each, one per dialogue: where an utterance stands in its
    // dialogue says nothing about its label.
    let (l, r) = (true, false);
    let orders = [
        [l, l, r, r],
        [l, r, l, r],
        [l, r, r, l],
        [r, l, l, r],
        [r, l, r, l],
        [r, r, l, l],
    ];
    for (session, lead, other) in [(1u32, 'F', 'M'), (2, 'M', 'F')] {
        for (k, order) in orders.iter().skip(3 * (session as usize - 1)).take(3).enumerate() {
            let name = format!("Ses0{session}{lead}_impro0{}", k + 1);
            let ids: Vec<String> = order
                .iter()
                .enumerate()
                .map(|(i, &left)| format!("{}{i:03}", if left { lead } else { other }))
                .collect();
            let utts: Vec<(&str, f64, f64, &str, &str)> = order
                .iter()
                .enumerate()
                .map(|(i, &left)| {
                    let start = 1.0 + 2.0 * i as f64;
                    let code = if left { "hap" } else { "sad" };
                    (ids[i].as_str(), start, start + 1.5, code, "See you there.")
                })
                .collect();
            dialogue(root, session, &name, &utts);
            let avi = root.join(format!("Session{session}/dialog/avi/DivX/{name}.avi"));
            std::fs::create_dir_all(avi.parent().unwrap()).unwrap();
            std::fs::copy(&video, &avi).unwrap();
        }
    }
}

#[test]
fn each_utterance_reads_the_face_on_its_speakers_side() {
    let dir = tempfile::tempdir().unwrap();
    miniature(dir.path());
    let store = common::store();
    let enc = amuse::features::extract::Encoders::load(&store, tch::Device::Cpu, None).unwrap();
    let firsts: Vec<_> = iemocap::read(dir.path(), &[1, 2])
        .unwrap()
        .into_iter()
        .filter(|d| d.name.ends_with("impro01"))
        .collect();
    assert_eq!(firsts.len(), 2);
    for d in &firsts {
        let video = iemocap_video::video_path(dir.path(), d);
        let marker_wearer = &d.name[5..6];
        for lead in [Lead::Left, Lead::Right] {
            let (visual, _) = iemocap_video::visual(&store, &enc, &video, d, lead).unwrap();
            for (u, v) in d.utterances.iter().zip(&visual) {
                let v = v.as_ref().expect("keyframes decoded");
                let left = u.speaker.ends_with(marker_wearer) == (lead == Lead::Left);
                for k in &v.keyframes {
                    assert_eq!(k.faces.len(), 2, "both actors found at {:.1} s of {}", k.time, d.name);
                    let face = &k.faces[k.speaker.expect("a face on the speaker's side")];
                    let centre = (face.bbox[0] + face.bbox[2]) / 2.0 / WIDTH;
                    assert_eq!(
                        centre < 0.5,
                        left,
                        "{} ({lead:?}): speaker face centred at {centre:.2} of the width",
                        u.id
                    );
                }
            }
        }
    }

    // A dialogue without its video and one whose video is broken keep text and audio.
    let s1 = &firsts[0];
    let broken = &firsts[1];
    std::fs::remove_file(iemocap_video::video_path(dir.path(), s1)).unwrap();
    std::fs::write(iemocap_video::video_path(dir.path(), broken), b"not a video").unwrap();
    let mut inputs: Vec<Vec<UtteranceInput>> = firsts
        .iter()
        .map(|d| {
            d.utterances
                .iter()
                .map(|_| UtteranceInput {
                    text: None,
                    audio: None,
                    face: None,
                    back: None,
                    speaker: None,
                    label: None,
                })
                .collect()
        })
        .collect();
    iemocap_video::attach(&store, &enc, dir.path(), &firsts, &mut inputs, Lead::Left);
    assert!(inputs.iter().flatten().all(|u| u.face.is_none() && u.back.is_none()));
}

#[test]
fn training_on_the_videos_learns_what_only_the_faces_tell() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("IEMOCAP_full_release");
    miniature(&root);
    let out = dir.path().join("ckpt");
    let run = Command::new(env!("CARGO_BIN_EXE_amuse"))
        .args(["--threads", "1", "--cpu", "train", "--data", "iemocap", "--iemocap"])
        .arg(&root)
        .args(common::MINIATURE_TRAINING)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let info = checkpoint::read_info(&out).unwrap();
    assert_eq!(info.modalities, Modality::ALL, "{stderr}");
    assert_eq!(info.config.classes, CLASSES.len() as i64);

    let store = common::store();
    let loaded = checkpoint::load(&out, tch::Device::Cpu).unwrap();
    let enc = Encoders::load(&store, loaded.info.config.audio_source, None).unwrap();
    let sources = Sources {
        iemocap: Some(root.clone()),
        iemocap_faces: Some(Faces::LeadLeft),
        ..Sources::default()
    };
    let mut dev = corpora::load(&store, &enc, Dataset::Iemocap, Split::Dev, &sources).unwrap();
    assert_eq!(dev.utterances(), 4);
    assert!(dev
        .dialogues
        .iter()
        .flatten()
        .all(|u| u.face.is_some() && u.audio.is_some()));
    let with_faces = amuse::train::evaluate_named(&loaded.model, &dev, tch::Device::Cpu, &CLASSES);
    assert_eq!(
        with_faces.accuracy,
        1.0,
        "the side's face is learned:\n{}",
        with_faces.table()
    );
    dev.dialogues = dev.only(&[Modality::Text, Modality::Audio]);
    let without = amuse::train::evaluate_named(&loaded.model, &dev, tch::Device::Cpu, &CLASSES);
    assert!(
        without.accuracy <= 0.5,
        "without the faces nothing tells the actors apart:\n{}",
        without.table()
    );

    // `amuse eval` reads the same faces for a checkpoint that reads faces.
    let eval = Command::new(env!("CARGO_BIN_EXE_amuse"))
        .args([
            "--threads",
            "1",
            "--cpu",
            "eval",
            "--data",
            "iemocap",
            "--json",
            "--iemocap",
        ])
        .arg(&root)
        .arg("--checkpoint")
        .arg(&out)
        .output()
        .unwrap();
    assert!(eval.status.success(), "{}", String::from_utf8_lossy(&eval.stderr));
    let report: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert_eq!(report["fused"]["accuracy"], 1.0, "{report}");
    assert!(report["heads"]["visual"]["accuracy"].as_f64().is_some(), "{report}");

    // Without the videos (or with --iemocap-faces off) the checkpoint reads no faces.
    let off = dir.path().join("off");
    let run = Command::new(env!("CARGO_BIN_EXE_amuse"))
        .args([
            "--threads",
            "1",
            "--cpu",
            "train",
            "--data",
            "iemocap",
            "--iemocap-faces",
            "off",
        ])
        .arg("--iemocap")
        .arg(&root)
        .args([
            "--epochs",
            "1",
            "--hidden",
            "16",
            "--man-layers",
            "1",
            "--calibration-pool",
            "0",
            "--out",
        ])
        .arg(&off)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let info = checkpoint::read_info(&off).unwrap();
    assert_eq!(info.modalities, [Modality::Text, Modality::Audio]);
}
