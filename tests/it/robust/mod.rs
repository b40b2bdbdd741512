//! Fixtures of the malformed-input corpus (`tests/robustness*.rs`): small media files made
//! with the ffmpeg CLI (cached per build in Cargo's temp folder), byte-level damage to
//! them, a farm of model files with one removed or corrupted, and tiny tmpfs mounts for
//! "disk full" and "read-only". Nothing here is committed; everything is generated.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use crate::common;

/// 4 s, 320×240 test pattern at 10 fps with a stereo 440 Hz tone; `moov` first, so a
/// truncated copy still opens (the realistic case of an interrupted download).
pub fn base() -> PathBuf {
    common::ffmpeg_fixture(
        "rb_base.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=10:duration=4",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=4:sample_rate=48000",
            "-ac",
            "2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "10",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
            "-shortest",
        ],
    )
}

/// The same content with the index (`moov`) at the end, as most encoders write it.
pub fn base_moov_last() -> PathBuf {
    common::ffmpeg_fixture("rb_moov_last.mp4", &["-i", base().to_str().unwrap(), "-c", "copy"])
}

/// A video-only test pattern of the given size and frame count.
pub fn pattern(name: &str, size: &str, frames: u32, extra: &[&str]) -> PathBuf {
    let src = format!("testsrc=size={size}:rate=10");
    let n = frames.to_string();
    let mut args = vec!["-f", "lavfi", "-i", &src, "-frames:v", &n];
    args.extend_from_slice(extra);
    common::ffmpeg_fixture(name, &args)
}

/// A copy of `src` with its bytes changed by `damage` (rewritten on every run: cheap).
pub fn damaged(name: &str, src: &Path, damage: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(src).unwrap();
    damage(&mut bytes);
    common::bytes_fixture(name, &bytes)
}

/// Flip every `step`-th byte from `from` on (a deterministic bit-rot).
pub fn flip_every(bytes: &mut [u8], from: usize, step: usize) {
    for b in bytes.iter_mut().skip(from).step_by(step) {
        *b ^= 0x5a;
    }
}

/// A models folder mirroring the real one through symlinks, with the file of model
/// `missing` removed and the file of model `corrupt` replaced by a damaged copy (exports in
/// `pretrained/` and the encoders `models/` ships itself alike).
pub fn model_farm(missing: Option<&str>, corrupt: Option<&str>) -> tempfile::TempDir {
    let real = amuse::manifest::models_dir();
    let store = amuse::manifest::ModelStore::open(&real.join("pretrained")).unwrap();
    let file_of = |name: Option<&str>| name.map(|n| store.path_of(n).unwrap());
    let (missing, corrupt) = (file_of(missing), file_of(corrupt));
    let farm = tempfile::tempdir().unwrap();
    for dir in ["pretrained", "face_expression"] {
        let to_dir = farm.path().join(dir);
        std::fs::create_dir_all(&to_dir).unwrap();
        for entry in std::fs::read_dir(real.join(dir)).unwrap() {
            let p = entry.unwrap().path();
            let to = to_dir.join(p.file_name().unwrap());
            if Some(&p) == missing.as_ref() {
                continue;
            }
            if Some(&p) == corrupt.as_ref() {
                let mut bytes = std::fs::read(&p).unwrap();
                let mid = bytes.len() / 2;
                bytes[mid] ^= 0xff;
                std::fs::write(&to, bytes).unwrap();
            } else {
                std::os::unix::fs::symlink(&p, &to).unwrap();
            }
        }
    }
    for link in ["amuse", "amuse-text", "manifest.json"] {
        std::os::unix::fs::symlink(real.join(link), farm.path().join(link)).unwrap();
    }
    farm
}

/// A tmpfs mounted for one test (unmounted on drop). `None`, with the reason printed,
/// when mounting is not possible here (not root, no CAP_SYS_ADMIN): the caller skips.
pub struct Tmpfs {
    pub dir: tempfile::TempDir,
}

impl Tmpfs {
    pub fn mount(options: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Self { dir }),
            Ok(o) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs ({})",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: no `mount` command ({e})");
                None
            }
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Write a transcript fixture (bytes as given: encodings matter).
pub fn transcript(name: &str, bytes: &[u8]) -> PathBuf {
    common::bytes_fixture(name, bytes)
}

/// The text of an error with its causes, as the CLI prints it.
pub fn message<E: std::fmt::Display>(r: Result<impl std::fmt::Debug, E>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => format!("{e:#}"),
    }
}

/// Run the `amuse` binary with one LibTorch thread; returns (exit code, stderr).
pub fn amuse(args: &[&str], models: Option<&Path>) -> (i32, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_amuse"));
    cmd.env("AMUSE_THREADS", "1")
        .env("OMP_NUM_THREADS", "1")
        .env("AMUSE_NO_CUDA", "1");
    if let Some(m) = models {
        cmd.arg("--models").arg(m);
    }
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
