//! `amuse train --data meld-raw` on a miniature MELD.Raw the test makes: clips of a real face
//! (the astronaut photo) with espeak-ng speech, in front of a background whose colour alone
//! decides the label (two hues of equal brightness, so the grey face crops are the same in
//! both classes, and the words and the voice are too). The model trained from scratch
//! through the viewer's whole pipeline must read the label, and must read it from the back
//! frames: with them masked it cannot.

use crate::common;

use std::path::Path;
use std::process::Command;

use amuse::model::batch::UtteranceInput;
use amuse::model::checkpoint;
use amuse::train::corpora::{self, Dataset, Encoders, Sources, Split};

/// Background colours of equal luma (ITU-R 601: 121.9 and 123.7) and different hue.
const WARM: &str = "0xDC5050";
const COOL: &str = "0x3C969B";

/// A 1.2 s clip: the face in front of `colour`, saying one neutral line.
fn clip(path: &Path, colour: &str, wav: &Path) {
    let face = common::store().root().join("golden/mtcnn_astronaut.png");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("color=c={colour}:s=320x240:d=1.2:r=10"))
        .arg("-i")
        .arg(&face)
        .arg("-i")
        .arg(wav)
        .args([
            "-filter_complex",
            "[1]scale=120:-2[f];[0][f]overlay=100:40",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ])
        .args(["-pix_fmt", "yuv420p", "-c:a", "aac", "-ar", "48000", "-t", "1.2"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg makes {}", path.display());
}

/// `root/{train,dev}/dia{D}_utt{U}.mp4` with `{split}_sent_emo.csv`: each dialogue two
/// utterances, warm = anger, cool = sadness.
fn miniature(root: &Path) {
    let wav = root.join("line.wav");
    let ok = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "170", "-w"])
        .arg(&wav)
        .arg("See you there.")
        .status()
        .unwrap()
        .success();
    assert!(ok, "espeak-ng (installed by scripts/bootstrap.sh)");
    let (warm, cool) = (root.join("warm.mp4"), root.join("cool.mp4"));
    clip(&warm, WARM, &wav);
    clip(&cool, COOL, &wav);
    for (split, dialogues) in [("train", 6), ("dev", 2)] {
        let dir = root.join(split);
        std::fs::create_dir_all(&dir).unwrap();
        let mut csv = String::from("Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID\n");
        for d in 0..dialogues {
            for u in 0..2 {
                let warm_one = (d + u) % 2 == 0;
                std::fs::copy(
                    if warm_one { &warm } else { &cool },
                    dir.join(format!("dia{d}_utt{u}.mp4")),
                )
                .unwrap();
                let label = if warm_one { "anger" } else { "sadness" };
                csv.push_str(&format!(
                    "{},See you there.,Eileen,{label},neutral,{d},{u}\n",
                    d * 2 + u + 1
                ));
            }
        }
        std::fs::write(root.join(format!("{split}_sent_emo.csv")), csv).unwrap();
    }
}

#[test]
fn a_miniature_meld_raw_trains_every_stream_and_the_back_frames_decide() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("MELD.Raw");
    std::fs::create_dir_all(&root).unwrap();
    miniature(&root);
    let out = dir.path().join("ckpt");
    let run = Command::new(env!("CARGO_BIN_EXE_amuse"))
        .args(["--threads", "1", "--cpu", "train", "--data", "meld-raw", "--meld-raw"])
        .arg(&root)
        .args(common::MINIATURE_TRAINING)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let info = checkpoint::read_info(&out).unwrap();
    assert_eq!(info.modalities, amuse::model::amuse::Modality::ALL);
    assert_eq!(
        info.visual_streams,
        ["face", "back"],
        "faces were found and back frames read"
    );

    // The dev split through the library, as trained, then with the back frames masked.
    let store = common::store();
    let loaded = checkpoint::load(&out, tch::Device::Cpu).unwrap();
    let enc = Encoders::load(&store, loaded.info.config.audio_source, loaded.text_adapter.as_ref()).unwrap();
    let sources = Sources {
        meld_raw: Some(root.clone()),
        ..Sources::default()
    };
    let mut dev = corpora::load(&store, &enc, Dataset::MeldRaw, Split::Dev, &sources).unwrap();
    assert_eq!(dev.utterances(), 4);
    assert!(dev
        .dialogues
        .iter()
        .flatten()
        .all(|u| u.face.is_some() && u.back.is_some() && u.audio.is_some()));
    let with_back = amuse::train::evaluate(&loaded.model, &dev, tch::Device::Cpu);
    assert_eq!(
        with_back.accuracy,
        1.0,
        "the background colour is learned:\n{}",
        with_back.table()
    );
    dev.dialogues = dev
        .dialogues
        .iter()
        .map(|d| {
            d.iter()
                .map(|u| UtteranceInput {
                    back: None,
                    ..u.only(|_| true)
                })
                .collect()
        })
        .collect();
    let without = amuse::train::evaluate(&loaded.model, &dev, tch::Device::Cpu);
    assert!(
        without.accuracy <= 0.5,
        "without the back frames nothing tells the classes apart:\n{}",
        without.table()
    );

    // The background explanation the viewer asks for (and `amuse explain --modality back`
    // prints) runs on this checkpoint: SLIC superpixels of a warm clip's back frame, through
    // the scene CNN and the model (a one-line dialogue here: its label is not the point).
    let clip = dir.path().join("warm_clip.mp4");
    std::fs::copy(root.join("warm.mp4"), &clip).unwrap();
    std::fs::write(
        clip.with_extension("srt"),
        "1\n00:00:00,000 --> 00:00:01,200\nSee you there.\n",
    )
    .unwrap();
    let png = dir.path().join("back.png");
    let explain = Command::new(env!("CARGO_BIN_EXE_amuse"))
        .args(["--threads", "1", "--cpu", "explain"])
        .arg(&clip)
        .args([
            "--utterance",
            "1",
            "--modality",
            "back",
            "--samples",
            "100",
            "--checkpoint",
        ])
        .arg(&out)
        .arg("--png")
        .arg(&png)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&explain.stdout);
    assert!(explain.status.success(), "{}", String::from_utf8_lossy(&explain.stderr));
    assert!(stdout.contains("explains the AMuSE prediction"), "{stdout}");
    let weights = stdout.lines().skip_while(|l| !l.starts_with("superpixel")).skip(1);
    assert!(
        weights
            .take_while(|l| l.contains("supports") || l.contains("against"))
            .count()
            >= 5,
        "{stdout}"
    );
    assert_eq!(image::image_dimensions(&png).unwrap(), (320, 240), "{stdout}");
}
