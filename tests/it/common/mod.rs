//! Shared set-up for integration tests: LibTorch initialised once, the model store opened.
#![allow(dead_code)]

use std::sync::Once;

use amuse::manifest::ModelStore;

static INIT: Once = Once::new();

/// Initialise LibTorch on the CPU with one thread (deterministic, and fastest on 2 cores).
pub fn init() {
    INIT.call_once(|| {
        amuse::device::init(1, true);
    });
}

/// The generated model store; a test that needs models fails with the bootstrap hint when
/// they are missing (the README's test command runs the bootstrap first).
pub fn store() -> ModelStore {
    init();
    ModelStore::open_default().unwrap_or_else(|e| panic!("{e}"))
}

/// Element-wise closeness: |a-b| <= atol + rtol·|b| everywhere; returns the max abs diff.
pub fn assert_close(name: &str, actual: &tch::Tensor, expected: &tch::Tensor, atol: f64, rtol: f64) -> f64 {
    assert_eq!(actual.size(), expected.size(), "{name}: shape");
    let a = actual.to_kind(tch::Kind::Double);
    let b = expected.to_kind(tch::Kind::Double);
    let diff = (&a - &b).abs();
    let max_diff = diff.max().double_value(&[]);
    let excess = (&diff - (b.abs() * rtol + atol)).max().double_value(&[]);
    assert!(
        excess <= 0.0,
        "{name}: max abs diff {max_diff:e} exceeds atol {atol:e} + rtol {rtol:e}"
    );
    max_diff
}

/// The bundled demo dialogue.
pub fn demo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo_dialogue.mp4")
}

/// Make (once per build) a small media fixture with the ffmpeg CLI: `args` go between
/// `ffmpeg -y` and the output path. Fixtures live in Cargo's per-build temp folder.
///
/// Tests of one binary run in parallel threads and ask for the same fixtures: one makes it
/// while the others wait (a lock), and the file appears under its name only when complete
/// (a temporary name of this process, then a rename), so nobody reads half a video.
pub fn ffmpeg_fixture(name: &str, args: &[&str]) -> std::path::PathBuf {
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if !path.exists() {
        let tmp = path.with_extension(format!(
            "tmp{}.{}",
            std::process::id(),
            path.extension().and_then(|e| e.to_str()).unwrap_or("bin")
        ));
        let status = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y"])
            .args(args)
            .arg(&tmp)
            .status()
            .expect("the ffmpeg CLI (installed by scripts/bootstrap.sh) makes test fixtures");
        assert!(status.success(), "ffmpeg could not make fixture {name}");
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

/// Write bytes to a fixture file in Cargo's per-build temp folder.
pub fn bytes_fixture(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `amuse train` flags of a small model trained from scratch on a generated miniature corpus
/// until it fits it: width 16, one MAN layer, no dropout, batch 1, 15 epochs, seed 3, no
/// calibration pool (the miniatures are too small to hold one aside).
pub const MINIATURE_TRAINING: [&str; 16] = [
    "--epochs",
    "15",
    "--batch",
    "1",
    "--lr",
    "0.003",
    "--hidden",
    "16",
    "--man-layers",
    "1",
    "--dropout",
    "0",
    "--calibration-pool",
    "0",
    "--seed",
    "3",
];

/// A model small enough to train in a test: 4-dim text and audio, 3-dim face and back, width
/// 16, no dropout (each test sets what it studies on top).
pub fn tiny_config() -> amuse::model::config::Config {
    amuse::model::config::Config {
        text_dim: 4,
        audio_dim: 4,
        face_dim: 3,
        back_dim: 3,
        hidden: 16,
        heads: 2,
        context_hidden: 8,
        dropout: 0.0,
        training: amuse::model::config::TrainingConfig {
            modality_dropout: 0.0,
            ..Default::default()
        },
        ..Default::default()
    }
}
