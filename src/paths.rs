//! Where amuse finds its models folder, its checkpoint and the demo: resolved once, when the
//! program starts, from the command line (`--models`, `--checkpoint`) and the environment,
//! and read everywhere else. Nothing mutates the process environment.
//!
//! The models folder is the first of: `--models`, `$AMUSE_MODELS`, `models/` beside the
//! executable or one level up (an unpacked release, `cargo install --root DIR` with the
//! folder copied beside `bin/`), `$XDG_DATA_HOME/amuse/models` (else
//! `~/.local/share/amuse/models`), and the source tree the binary was built from; when none
//! exists the source tree's path is kept, so that the message about it names a place to put
//! the files (`amuse doctor` says what is missing and how to set it up).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The resolved locations.
#[derive(Debug, Clone, PartialEq)]
pub struct Locations {
    pub models: PathBuf,
    pub checkpoint: PathBuf,
}

static LOCATIONS: OnceLock<Locations> = OnceLock::new();

fn exists(p: &Path) -> bool {
    p.join("manifest.json").is_file() || p.join("pretrained").is_dir()
}

/// The candidate models folders, in order of preference.
pub fn candidates(models: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    out.extend(models.map(Path::to_path_buf));
    out.extend(
        std::env::var_os("AMUSE_MODELS")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
    );
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        out.push(exe_dir.join("models"));
        out.push(exe_dir.join("../models"));
        out.push(exe_dir.join("../share/amuse/models"));
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    out.extend(data.map(|d| d.join("amuse/models")));
    out.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    out
}

/// Resolve the locations from the command line's `--models` and `--checkpoint`.
pub fn resolve(models: Option<&Path>, checkpoint: Option<&Path>) -> Locations {
    let list = candidates(models);
    // An explicit folder is taken as given (its absence is then reported as such).
    let models = match models.map(Path::to_path_buf).or_else(|| {
        std::env::var_os("AMUSE_MODELS")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }) {
        Some(given) => given,
        None => list
            .iter()
            .find(|p| exists(p))
            .cloned()
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("models")),
    };
    let checkpoint = checkpoint
        .map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("AMUSE_CHECKPOINT")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| models.join("amuse"));
    Locations { models, checkpoint }
}

/// Set the locations for this process (the CLI does, first thing); later calls are ignored.
pub fn set(locations: Locations) {
    let _ = LOCATIONS.set(locations);
}

/// The locations: as set, else resolved from the environment alone (library use, tests).
pub fn get() -> &'static Locations {
    LOCATIONS.get_or_init(|| resolve(None, None))
}

/// The demo dialogue: `assets/` beside the models folder (the source tree's layout, kept in a
/// release), else the source tree's.
pub fn demo_video() -> PathBuf {
    let beside = get().models.join("../assets/demo_dialogue.mp4");
    if beside.is_file() {
        return beside;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo_dialogue.mp4")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_folder_wins_and_the_checkpoint_follows_it() {
        let dir = tempfile::tempdir().unwrap();
        let l = resolve(Some(dir.path()), None);
        assert_eq!(l.models, dir.path());
        assert_eq!(l.checkpoint, dir.path().join("amuse"));
        let c = dir.path().join("other");
        assert_eq!(resolve(Some(dir.path()), Some(&c)).checkpoint, c);
        // The source tree's folder is always the last candidate.
        let list = candidates(None);
        assert_eq!(
            list.last().unwrap(),
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
        );
        assert!(
            list.iter().any(|p| p.ends_with("amuse/models")),
            "an XDG data dir: {list:?}"
        );
    }
}
