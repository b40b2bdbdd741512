//! Malformed-input corpus, part 2: the installation (missing or corrupt model files, a
//! checkpoint of another configuration), the feature cache on a full or read-only disk,
//! awkward frames for the face pipeline (0 faces, 12 faces, a face cut by the frame edge),
//! and a handful of cases through the real `amuse` binary for exit codes and messages.
//! Case numbers continue those of `tests/it/robustness.rs`; outcomes are in the README table.

use crate::common;
use crate::robust;

use amuse::features::cache;
use amuse::features::extract::UtteranceFeatures;
use amuse::features::text::TextFeatures;
use amuse::manifest::{ModelError, ModelStore};
use amuse::media::faces::split;
use amuse::model::checkpoint;
use image::{imageops, RgbImage};
use robust::{amuse, message, model_farm, Tmpfs};
use tch::{Device, Kind, Tensor};

#[test]
fn damaged_installations_name_the_file_and_the_fix() {
    // 50 a missing model file, 51 a corrupt one (one byte changed).
    let farm = model_farm(Some("face_expression"), Some("mtcnn_pnet"));
    let store = ModelStore::open(&farm.path().join("pretrained")).unwrap();
    let m = message(store.require("face_expression"));
    assert!(
        m.contains("face_expression.pt is missing") && m.contains("make setup"),
        "{m}"
    );
    assert!(matches!(store.require("mtcnn_pnet"), Err(ModelError::Corrupt { .. })));
    assert!(message(store.require("mtcnn_pnet")).contains("corrupt or stale"));
    // 50b/51b the expression encoder the project ships (committed in models/): restored by git.
    let farm = model_farm(Some("face_expression_ferplus"), None);
    let store = ModelStore::open(&farm.path().join("pretrained")).unwrap();
    let m = message(store.require("face_expression_ferplus"));
    assert!(
        m.contains("face_expression.pt is missing") && m.contains("git checkout"),
        "{m}"
    );
    let farm = model_farm(None, Some("face_expression_ferplus"));
    let store = ModelStore::open(&farm.path().join("pretrained")).unwrap();
    assert!(matches!(
        store.require("face_expression_ferplus"),
        Err(ModelError::ShippedCorrupt { .. })
    ));
    // 52 an unreadable manifest, 53 none at all.
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join("manifest.json"), "{ not json").unwrap();
    assert!(message(ModelStore::open(bad.path())).contains("is unreadable"));
    assert!(message(ModelStore::open(&bad.path().join("nothing"))).contains("not been exported"));
}

fn checkpoint_copy(edit: impl FnOnce(&std::path::Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let real = amuse::manifest::models_dir().join("amuse");
    for f in ["config.json", "amuse.safetensors"] {
        std::fs::copy(real.join(f), dir.path().join(f)).unwrap();
    }
    edit(dir.path());
    dir
}

#[test]
fn foreign_or_damaged_checkpoints_are_refused() {
    common::init();
    // 54 another configuration (hidden 64 instead of 128): named weight and shapes.
    let other = checkpoint_copy(|d| {
        let p = d.join("config.json");
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        v["config"]["hidden"] = 64.into();
        std::fs::write(&p, v.to_string()).unwrap();
    });
    let m = message(checkpoint::load(other.path(), Device::Cpu).map(|_| ()));
    assert!(m.contains("another model configuration") && m.contains("shape"), "{m}");
    // 55 weights truncated, 56 no config.json.
    let cut = checkpoint_copy(|d| {
        let p = d.join("amuse.safetensors");
        let b = std::fs::read(&p).unwrap();
        std::fs::write(&p, &b[..b.len() / 2]).unwrap();
    });
    assert!(message(checkpoint::load(cut.path(), Device::Cpu).map(|_| ())).contains("missing or corrupt"));
    let none = tempfile::tempdir().unwrap();
    assert!(message(checkpoint::load(none.path(), Device::Cpu).map(|_| ())).contains("amuse train"));
}

/// Two utterances' worth of features (text only), ~190 KB of tensors.
fn features() -> Vec<UtteranceFeatures> {
    (0..2)
        .map(|_| UtteranceFeatures {
            text: TextFeatures {
                tokens: Tensor::ones([30, 768], (Kind::Float, Device::Cpu)),
                pooled: Tensor::ones([768], (Kind::Float, Device::Cpu)),
            },
            speech: None,
            sound: None,
            voice: None,
            visual: None,
            audio_seconds: 0.0,
        })
        .collect()
}

#[test]
fn full_or_read_only_cache_disks_fail_cleanly_and_leave_nothing_half_written() {
    common::init();
    // 57 disk full while writing the cache: an error naming the folder; no partial entry.
    if let Some(full) = Tmpfs::mount("size=64k") {
        let m = message(cache::store(full.path(), "k", &features(), &vec![]));
        assert!(m.contains("disk full or read-only") && m.contains("--out"), "{m}");
        let left: Vec<_> = std::fs::read_dir(full.path()).unwrap().collect();
        assert!(left.is_empty(), "nothing half-written is left: {left:?}");
        assert!(cache::load(full.path(), "k").is_none());
        cache::check_writable(full.path()).unwrap();
        std::fs::write(full.path().join("filler"), vec![0u8; 62 * 1024]).ok();
        let m = message(cache::check_writable(full.path()));
        assert!(
            m.contains("disk full") && m.contains("--out"),
            "a nearly full disk is caught up front: {m}"
        );
    }
    // 58 a read-only folder.
    if let Some(ro) = Tmpfs::mount("size=64k,ro") {
        let m = message(cache::store(ro.path(), "k", &features(), &vec![]));
        assert!(m.contains("disk full or read-only"), "{m}");
        assert!(message(cache::check_writable(ro.path())).contains("read-only"));
    }
    // 59 the cache path is a file, 60 a corrupt entry (garbage tensors) is ignored, not fatal.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    assert!(cache::check_writable(&file).is_err());
    cache::store(dir.path(), "good", &features(), &vec![]).unwrap();
    assert_eq!(cache::load(dir.path(), "good").unwrap().0.len(), 2);
    std::fs::write(dir.path().join("good.safetensors"), b"garbage").unwrap();
    assert!(
        cache::load(dir.path(), "good").is_none(),
        "a damaged entry is a cache miss"
    );
}

/// Grace Hopper's face (from the MTCNN golden image) as a 100×120 tile.
fn face_tile(store: &ModelStore) -> RgbImage {
    let img = image::open(store.root().join("golden/mtcnn_grace_hopper.png"))
        .unwrap()
        .to_rgb8();
    let face = amuse::media::faces::mtcnn::Mtcnn::load(store, Device::Cpu)
        .unwrap()
        .detect(&img)
        .unwrap()
        .remove(0);
    let [x1, y1, x2, y2] = face.bbox;
    let (w, h) = (x2 - x1, y2 - y1);
    let crop = imageops::crop_imm(
        &img,
        (x1 - 0.3 * w).max(0.0) as u32,
        (y1 - 0.3 * h).max(0.0) as u32,
        (1.6 * w) as u32,
        (1.6 * h) as u32,
    )
    .to_image();
    imageops::resize(&crop, 100, 120, imageops::FilterType::Triangle)
}

#[test]
fn zero_twelve_and_edge_faces() {
    let store = common::store();
    let enc = amuse::features::visual::VisualEncoder::load(&store, Device::Cpu).unwrap();
    let tile = face_tile(&store);
    // 61 no face: the frame still gives a scene vector; the face row is masked.
    let empty = RgbImage::from_pixel(320, 240, image::Rgb([90, 120, 160]));
    // 62 twelve faces on a 4×3 grid: all found, the largest is the speaker's.
    let mut crowd = RgbImage::from_pixel(4 * 130, 3 * 150, image::Rgb([200, 200, 200]));
    for i in 0..12i64 {
        imageops::overlay(&mut crowd, &tile, 15 + (i % 4) * 130, 15 + (i / 4) * 150);
    }
    // 63 a face cut by the left edge of the frame.
    let mut edge = RgbImage::from_pixel(320, 240, image::Rgb([200, 200, 200]));
    imageops::overlay(&mut edge, &tile, -50, 60);
    let at = |time: f64, image: RgbImage| amuse::media::decode::Frame { time, image };
    let v = enc
        .encode(
            &[at(0.0, empty), at(1.0, crowd), at(2.0, edge.clone())],
            split::Pick::Largest,
        )
        .unwrap();
    assert_eq!(v.keyframes[1].time, 1.0, "each keyframe keeps its time");
    assert_eq!(v.back.size(), [3, 1280]);
    assert_eq!(v.keyframes[0].faces.len(), 0);
    assert_eq!(v.keyframes[1].faces.len(), 12, "{:?}", v.keyframes[1].faces.len());
    let mask: Vec<f32> = v.face_mask.try_into().unwrap();
    assert_eq!(&mask[..2], &[0.0, 1.0]);
    for f in &v.keyframes[2].faces {
        let r = split::pixel_rect(f, edge.width(), edge.height());
        assert!(r.is_none_or(|r| r[0] < r[2] && r[2] <= 320 && r[3] <= 240), "{r:?}");
        let _ = split::gray_crop(&edge, f, 48);
    }
    // 64 a frame smaller than any face.
    assert!(enc
        .encode(&[at(0.0, RgbImage::new(8, 8))], split::Pick::Largest)
        .unwrap()
        .keyframes[0]
        .faces
        .is_empty());
}

#[test]
fn the_binary_reports_and_exits_with_the_documented_codes() {
    let video = robust::base();
    let srt = robust::transcript("rb_cli.srt", b"1\n00:00:00,500 --> 00:00:01,500\nAnn: Hello.\n");
    let (v, t) = (video.to_str().unwrap(), srt.to_str().unwrap());
    // 65 usage error → 2.
    let (code, _) = amuse(&["features"], None);
    assert_eq!(code, 2);
    // 66 a zero-byte video → 1 with the reason.
    let zero = robust::transcript("rb_cli_zero.mp4", b"");
    let (code, err) = amuse(&["features", zero.to_str().unwrap()], None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not a readable video"), "{err}");
    // 67 a model file missing → 3, naming the file and `make setup`.
    let farm = model_farm(Some("text_mpnet"), None);
    let (code, err) = amuse(&["features", v, "--transcript", t], Some(farm.path()));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("text_mpnet.pt is missing") && err.contains("make setup"),
        "{err}"
    );
    // 68 a read-only output folder → 1 before any extraction, saying to use --out.
    if let Some(ro) = Tmpfs::mount("size=64k,ro") {
        let (code, err) = amuse(
            &["features", v, "--transcript", t, "--out", ro.path().to_str().unwrap()],
            None,
        );
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains("cannot write the feature cache") && err.contains("--out"),
            "{err}"
        );
    }
    // 69 a transcript without a text column → 1 naming the columns found.
    let bad = robust::transcript("rb_cli_bad.csv", b"Speaker,Emotion\nA,joy\n");
    let (code, err) = amuse(&["features", v, "--transcript", bad.to_str().unwrap()], None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no text column") && err.contains("speaker"), "{err}");
    // 70 a bad input is reported before the models are loaded: with the models missing too,
    // every command names the file, not the models (and does not spend seconds loading them).
    for command in ["features", "analyze", "explain"] {
        let mut args = vec![command, zero.to_str().unwrap()];
        match command {
            "analyze" => args.extend(["--out", "/tmp"]),
            "explain" => args.extend(["--utterance", "1"]),
            _ => {}
        }
        let (code, err) = amuse(&args, Some(farm.path()));
        assert_eq!(code, 1, "{command}: {err}");
        assert!(err.contains("not a readable video"), "{command}: {err}");
    }
}

#[test]
fn broken_ferplus_folders_say_what_is_wrong() {
    // A FER+-layout folder: label.csv and 48×48 grey PNGs, one of them missing, one not a PNG.
    let dir = tempfile::tempdir().unwrap();
    let face = image::GrayImage::from_fn(48, 48, |x, y| image::Luma([((x * 5 + y * 3) % 256) as u8]));
    face.save(dir.path().join("a.png")).unwrap();
    face.save(dir.path().join("b.png")).unwrap();
    std::fs::write(dir.path().join("c.png"), b"not a png").unwrap();
    let rows = [
        r#"a.png,"(0, 0, 48, 48)",8,1,0,0,0,0,0,0,1,0"#,
        r#"b.png,"(0, 0, 48, 48)",0,9,0,0,0,0,0,0,1,0"#,
        r#"c.png,"(0, 0, 48, 48)",0,0,9,0,0,0,0,0,1,0"#,
        r#"gone.png,"(0, 0, 48, 48)",0,0,0,9,0,0,0,0,1,0"#,
    ];
    std::fs::write(dir.path().join("label.csv"), rows.join("\n")).unwrap();
    let d = dir.path().to_str().unwrap();
    // (L: more threads than cores are capped, with a warning.)
    let (code, err) = amuse(
        &["--threads", "9999", "eval", "--data", "ferplus", "--ferplus", d],
        None,
    );
    assert_eq!(code, 0, "unreadable images are left out, not fatal: {err}");
    assert!(err.contains("9999 threads asked for"), "{err}");

    // A damaged label file names the line; an empty one, a held-out split, a missing folder.
    std::fs::write(
        dir.path().join("label.csv"),
        format!("{}\n{}\n", rows[0], "a.png,(0,0),1,2"),
    )
    .unwrap();
    let (code, err) = amuse(&["eval", "--data", "ferplus", "--ferplus", d], None);
    assert_eq!(code, 1);
    assert!(err.contains("line 2: not a FER+ row"), "{err}");
    std::fs::write(dir.path().join("label.csv"), "").unwrap();
    let (_, err) = amuse(&["eval", "--data", "ferplus", "--ferplus", d], None);
    assert!(err.contains("no face with a majority label"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let e = empty.path().to_str().unwrap();
    let (_, err) = amuse(&["eval", "--data", "ferplus", "--ferplus", e, "--split", "test"], None);
    assert!(err.contains("held out"), "{err}");
    let (_, err) = amuse(&["eval", "--data", "ferplus", "--ferplus", e], None);
    assert!(err.contains("no FER+ FER2013Valid folder"), "{err}");
    // Images that cannot be read at all: the message says so instead of scoring nothing.
    std::fs::write(dir.path().join("label.csv"), rows[3]).unwrap();
    let (code, err) = amuse(&["eval", "--data", "ferplus", "--ferplus", d], None);
    assert_eq!(code, 1);
    assert!(
        err.contains("could be read or detected") && err.contains("gone.png"),
        "{err}"
    );
}

#[test]
fn hostile_arguments_and_environments_are_refused_or_capped() {
    // C a symbolic link loop is named as such, not "no such file".
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.mp4"), dir.path().join("b.mp4"));
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let out = dir.path().join("out");
    let (code, err) = amuse(&["analyze", a.to_str().unwrap(), "--out", out.to_str().unwrap()], None);
    assert_ne!(code, 0);
    assert!(err.contains("symbolic link loop"), "{err}");
    // J/K LIME sample counts outside what gives a meaningful fit, or fits in memory.
    let demo = common::demo();
    let v = demo.to_str().unwrap();
    for (n, needle) in [("0", "at least 100"), ("40000000", "at most 100000")] {
        let (code, err) = amuse(&["explain", v, "--utterance", "1", "--samples", n], None);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(needle), "--samples {n}: {err}");
    }
    // O a prune age past what a Duration holds.
    let (code, err) = amuse(&["cache", "--prune", "18446744073709551615"], None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("from 0 to 36500"), "{err}");
    // P masking every modality leaves nothing to predict from.
    let (code, err) = amuse(&["eval", "--data", "meld", "--without", "text,audio,visual"], None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("masks every modality"), "{err}");
    // M no HOME (a service's environment): the cache goes to the temporary folder with a
    // warning, never into the current folder.
    let cwd = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_amuse"))
        .arg("cache")
        .current_dir(cwd.path())
        .env_remove("HOME")
        .env_remove("AMUSE_CACHE")
        .env_remove("XDG_CACHE_HOME")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("caching in"), "{err}");
    assert!(
        std::fs::read_dir(cwd.path()).unwrap().next().is_none(),
        "nothing written to the current folder"
    );
    // N an endless transcript is refused instead of read until memory runs out.
    let m = message(amuse::media::transcript::load(std::path::Path::new("/dev/zero")));
    assert!(m.contains("larger than 64 MB"), "{m}");
}

#[test]
fn a_silent_default_audio_track_gives_way_to_the_track_with_sound() {
    // A: the default audio track is silence, the sound is on track 2 (not default).
    let base = robust::base();
    let mkv = common::ffmpeg_fixture(
        "rb_silent_default_track.mkv",
        &[
            "-i",
            base.to_str().unwrap(),
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=48000:cl=mono",
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-map",
            "0:a",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            "-t",
            "4",
            "-disposition:a:0",
            "default",
            "-disposition:a:1",
            "0",
        ],
    );
    let choice = amuse::media::decode::audio_track::choose(&mkv).unwrap().unwrap();
    assert_eq!(choice.index, 2, "the second audio stream");
    let note = choice.note.unwrap();
    assert!(note.contains("track 1 is silent") && note.contains("track 2"), "{note}");
    let samples = amuse::media::decode::audio(&mkv, 0.5, 2.0, 16_000).unwrap();
    let rms = (samples.iter().map(|x| x * x).sum::<f32>() / samples.len() as f32).sqrt();
    assert!(rms > 0.05, "the tone is read, not the silence (rms {rms})");
    // One audio track: FFmpeg's choice, no note.
    let one = amuse::media::decode::audio_track::choose(&base).unwrap().unwrap();
    assert_eq!(one.note, None);
}

/// D–H through `amuse analyze` on the demo's first 10 s: what was repaired or left out is a
/// note in the dialogue's JSON, the summary's `notes` column and a `warning:` on stderr;
/// what cannot be used fails that file with the line named.
#[test]
fn damaged_transcripts_and_sidecars_leave_a_trace_in_a_batch_run() {
    let v10 = common::ffmpeg_fixture(
        "rb_v10.mp4",
        &["-i", common::demo().to_str().unwrap(), "-t", "10", "-c", "copy"],
    );
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let video = |name: &str| {
        let p = input.join(format!("{name}.mp4"));
        std::fs::copy(&v10, &p).unwrap();
        p
    };
    // D entities and a two-speaker dialogue-dash cue.
    video("d");
    std::fs::write(
        input.join("d.srt"),
        "1\n00:00:00,500 --> 00:00:03,000\n- Cam: Congratulations &amp; welcome.\n- Eileen: Thanks.\n",
    )
    .unwrap();
    // E a MELD CSV with `;` separators.
    video("e");
    std::fs::write(
        input.join("e.csv"),
        "Sr No.;Utterance;Speaker;Emotion;StartTime;EndTime\n1;\"Well; I got the job!\";Eileen;joy;00:00:01,600;00:00:04,500\n",
    )
    .unwrap();
    // F a negative start time.
    video("f");
    std::fs::write(
        input.join("f.csv"),
        "Utterance,Speaker,StartTime,EndTime\nHi,A,\"00:00:01,000\",\"00:00:02,000\"\nOh,B,\"-00:00:03,000\",\"00:00:04,000\"\n",
    )
    .unwrap();
    // G a sidecar of 200,000 `[` (its corrections cannot be used) beside a good transcript.
    let g = video("g");
    std::fs::write(
        input.join("g.srt"),
        "1\n00:00:01,600 --> 00:00:04,500\nEileen: I got the job!\n",
    )
    .unwrap();
    std::fs::write(amuse_formats::annotations::sidecar::path_for(&g), "[".repeat(200_000)).unwrap();
    // H 10,000 cues of 1 ms and one real one.
    video("h");
    let mut srt = String::new();
    for i in 0..10_000u32 {
        let (a, b) = (5_000 + i / 2, 5_001 + i / 2);
        srt.push_str(&format!(
            "{}\n00:00:{:02},{:03} --> 00:00:{:02},{:03}\nx\n\n",
            i + 1,
            a / 1000,
            a % 1000,
            b / 1000,
            b % 1000
        ));
    }
    srt.push_str("10001\n00:00:01,600 --> 00:00:04,500\nEileen: I got the job!\n");
    std::fs::write(input.join("h.srt"), srt).unwrap();

    let out = dir.path().join("out");
    let started = std::time::Instant::now();
    let (code, err) = amuse(
        &["analyze", input.to_str().unwrap(), "--out", out.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 1, "f fails, the others finish: {err}");
    assert!(started.elapsed().as_secs() < 300, "10,000 tiny cues do not take hours");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let line = |name: &str| {
        summary
            .lines()
            .find(|l| l.starts_with(&format!("{name},")))
            .unwrap_or("")
            .to_owned()
    };
    let doc =
        |name: &str| amuse::export::json::read(&std::fs::read(out.join(format!("{name}.json"))).unwrap()).unwrap();

    let d = doc("d");
    assert_eq!(d.utterances.len(), 2, "one utterance per turn");
    assert_eq!(d.utterances[0].speaker.as_deref(), Some("Cam"));
    assert_eq!(d.utterances[0].text, "Congratulations & welcome.");
    assert!(d.notes.iter().any(|n| n.contains("dialogue-dash")), "{:?}", d.notes);
    assert!(line("d").contains("dialogue-dash"), "{summary}");
    assert!(err.contains("warning: d: cue 1: 2 dialogue-dash turns"), "{err}");

    assert_eq!(doc("e").utterances[0].text, "Well; I got the job!");
    assert!(
        line("f").contains(",failed,") && line("f").contains("line 3") && line("f").contains("negative start time"),
        "{summary}"
    );
    let g = doc("g");
    assert!(
        g.notes.iter().any(|n| n.contains("corrections ignored")),
        "{:?}",
        g.notes
    );
    assert!(err.contains("warning: g:"), "{err}");
    let h = doc("h");
    assert_eq!(h.utterances.len(), 1);
    assert!(
        h.notes
            .iter()
            .any(|n| n.starts_with("10000 entries shorter than 40 ms")),
        "{:?}",
        h.notes
    );
    // Each warning once (they were INFO logs printed twice).
    assert_eq!(err.matches("warning: h: 10000 entries").count(), 1, "{err}");
}
