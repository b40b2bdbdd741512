//! `amuse doctor`: what this installation has, and what to run to fix what it lacks.

use std::fmt::Write as _;

use crate::device::DeviceInfo;
use crate::manifest::{models_dir, FileStatus, ModelStore, FIX_HINT};

/// The tch crate version this build links (kept in step with Cargo.toml).
pub const TCH_VERSION: &str = "0.26";

/// One row of the model table.
#[derive(Debug, Clone)]
pub struct ModelRow {
    pub name: String,
    pub file: String,
    pub status: FileStatus,
    pub source: String,
}

/// Everything `amuse doctor` reports.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub libtorch: String,
    pub ffmpeg: String,
    pub device: DeviceInfo,
    pub models_dir: String,
    /// `Err` carries the manifest problem (with the fix) when there is no usable manifest.
    pub models: Result<Vec<ModelRow>, String>,
    /// The trained AMuSE checkpoints: the default one and every folder of the models
    /// directory with a `config.json`.
    pub checkpoints: Vec<CheckpointRow>,
    /// Where `models/manifest.json` no longer describes the checkpoint folders (a note,
    /// not a fault: a user may retrain into them), or why it cannot be read.
    pub manifest_notes: Vec<String>,
}

/// One trained checkpoint: `Ok` with a one-line summary, or what is wrong with it.
#[derive(Debug, Clone)]
pub struct CheckpointRow {
    pub dir: std::path::PathBuf,
    pub status: Result<String, String>,
}

impl Diagnosis {
    /// True when every pretrained export is present and matches its checksum.
    pub fn exports_ok(&self) -> bool {
        matches!(&self.models, Ok(rows) if !rows.is_empty() && rows.iter().all(|r| r.status == FileStatus::Ok))
    }

    /// True when the exports are intact and every checkpoint loads.
    pub fn healthy(&self) -> bool {
        self.exports_ok() && self.checkpoints.iter().all(|c| c.status.is_ok())
    }
}

/// LibTorch version, read from the `version.py` beside the linked library.
pub fn libtorch_version() -> String {
    let lib = env!("AMUSE_LIBTORCH_LIB");
    let version_py = std::path::Path::new(lib).join("../version.py");
    let version = std::fs::read_to_string(&version_py).ok().and_then(|text| {
        text.lines().find_map(|l| {
            l.strip_prefix("__version__ = ")
                .map(|v| v.trim_matches(['\'', '"']).to_owned())
        })
    });
    format!("{} ({lib})", version.unwrap_or_else(|| "unknown version".to_owned()))
}

fn av_version(v: u32) -> String {
    format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

/// FFmpeg library versions (libavformat / libavcodec / libavutil).
pub fn ffmpeg_version() -> String {
    format!(
        "libavformat {}, libavcodec {}, libavutil {}",
        av_version(ffmpeg_next::format::version()),
        av_version(ffmpeg_next::codec::version()),
        av_version(ffmpeg_next::util::version())
    )
}

/// Inspect the installation (hashes every model file: a second or two for MPNet).
pub fn inspect(device: DeviceInfo) -> Diagnosis {
    let models = ModelStore::open_default().map_err(|e| e.to_string()).map(|store| {
        store
            .entries()
            .map(|(name, entry)| ModelRow {
                name: name.to_owned(),
                file: entry.file.clone(),
                status: store.status(name).unwrap_or(FileStatus::Missing),
                source: match (&entry.source_package, &entry.source_version) {
                    (Some(p), Some(v)) if !p.contains("==") => format!("{p}=={v}"),
                    (Some(p), _) => p.clone(),
                    _ => String::new(),
                },
            })
            .collect()
    });
    Diagnosis {
        libtorch: libtorch_version(),
        ffmpeg: ffmpeg_version(),
        device,
        models_dir: models_dir().display().to_string(),
        models,
        checkpoints: checkpoint_dirs().into_iter().map(check_checkpoint).collect(),
        manifest_notes: crate::model::shipped::stale(&models_dir()).unwrap_or_else(|e| vec![format!("{e:#}")]),
    }
}

/// The default checkpoint, then the other checkpoint folders under the models directory.
fn checkpoint_dirs() -> Vec<std::path::PathBuf> {
    let mut dirs = vec![crate::model::checkpoint::default_dir()];
    if let Ok(read) = std::fs::read_dir(models_dir()) {
        let mut more: Vec<_> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("config.json").is_file() && !dirs.contains(p))
            .collect();
        more.sort();
        dirs.extend(more);
    }
    dirs
}

/// Load a checkpoint the way the viewer does (weights, shapes, text adapter and its
/// sha256), on the CPU: a second or less for the shipped ones.
fn check_checkpoint(dir: std::path::PathBuf) -> CheckpointRow {
    let status = crate::model::checkpoint::load(&dir, tch::Device::Cpu)
        .map(|loaded| {
            let adapter = match &loaded.text_adapter {
                Some(a) => format!(
                    ", text adapter {}{}",
                    &a.sha256[..12.min(a.sha256.len())],
                    match a.context {
                        0 => String::new(),
                        n => format!(" reading {n} preceding utterances"),
                    }
                ),
                None => String::new(),
            };
            format!(
                "ok ({}{adapter})",
                crate::model::amuse::join(&loaded.info.modalities, "+")
            )
        })
        .map_err(|e| format!("{e:#}"));
    CheckpointRow { dir, status }
}

/// Render the report as the text `amuse doctor` prints.
pub fn render(report: &Diagnosis) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "amuse {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "tch       {TCH_VERSION}");
    let _ = writeln!(s, "LibTorch  {}", report.libtorch);
    let _ = writeln!(s, "FFmpeg    {}", report.ffmpeg);
    let _ = writeln!(s, "device    {}  [{}]", report.device.name, report.device.cuda_note);
    let _ = writeln!(s, "models    {}", report.models_dir);
    match &report.models {
        Err(problem) => {
            let _ = writeln!(s, "  !! {problem}");
        }
        Ok(rows) => {
            for row in rows {
                let status = match &row.status {
                    FileStatus::Ok => "ok (checksum)".to_owned(),
                    FileStatus::Missing => "MISSING".to_owned(),
                    FileStatus::ChecksumMismatch { .. } => "CORRUPT (checksum mismatch)".to_owned(),
                };
                let _ = writeln!(s, "  {:<24} {:<30} {:<28} {}", row.name, row.file, status, row.source);
            }
        }
    }
    let _ = writeln!(s, "checkpoints");
    for row in &report.checkpoints {
        match &row.status {
            Ok(summary) => {
                let _ = writeln!(s, "  {:<40} {summary}", row.dir.display());
            }
            Err(problem) => {
                let _ = writeln!(s, "  {:<40} BROKEN: {problem}", row.dir.display());
            }
        }
    }
    for note in &report.manifest_notes {
        let _ = writeln!(
            s,
            "  note: models/manifest.json: {note} (`cargo run --example models_manifest` rewrites it)"
        );
    }
    if report.healthy() {
        let _ = writeln!(s, "all model files and checkpoints present and intact");
    }
    if !report.exports_ok() {
        let _ = writeln!(s, "to fix: {FIX_HINT}");
    }
    if report.checkpoints.iter().any(|c| c.status.is_err()) {
        let _ = writeln!(
            s,
            "to fix a checkpoint: restore its folder from git (`git checkout -- models/`) or retrain it (models/MODEL_CARD.md)"
        );
    }
    s
}
