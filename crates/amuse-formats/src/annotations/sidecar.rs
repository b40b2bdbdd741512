//! The annotation file beside a video: `<video file name>.amuse.json` (for `episode.mp4`,
//! `episode.mp4.amuse.json`, so two videos with the same stem never share corrections).
//!
//! Every save replaces the whole file atomically (write a temporary file, fsync, rename), so
//! a crash or `kill -9` at any moment leaves either the previous or the new complete file.
//!
//! An unreadable existing file is never overwritten:
//! - a damaged or foreign file is renamed to `….bak` (a fresh name, never replacing an older
//!   backup) and a new file is started, so the annotator can keep working and every new
//!   correction is saved at once, while the old bytes stay on disk to be inspected;
//! - a file written by a newer amuse, or one that cannot be read at all (permissions), blocks
//!   saving instead: it is probably fine, and only the user can decide what to do with it.

use std::path::{Path, PathBuf};

use super::{parse, AnnotationError, Annotations, LabelSet};

/// The sidecar path of a video.
pub fn path_for(video: &Path) -> PathBuf {
    let mut name = video.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".amuse.json");
    video.with_file_name(name)
}

/// An open sidecar: the annotations and where (and whether) they are saved.
#[derive(Debug)]
pub struct Sidecar {
    pub path: PathBuf,
    pub annotations: Annotations,
    /// Why saving is refused, when it is.
    blocked: Option<String>,
}

/// Largest sidecar read (10,000 corrected utterances with notes are ~3 MB).
const MAX_SIDECAR_BYTES: u64 = 64 << 20;

impl Sidecar {
    /// Open the sidecar of `video`; a missing file starts empty with `labels`. The second
    /// value is a message for the user when the existing file could not be used.
    pub fn open(video: &Path, labels: LabelSet) -> (Self, Option<String>) {
        Self::open_at(path_for(video), labels)
    }

    /// As [`Self::open`], at an explicit path.
    pub fn open_at(path: PathBuf, labels: LabelSet) -> (Self, Option<String>) {
        let fresh = |blocked| Sidecar {
            path: path.clone(),
            annotations: Annotations::new(labels.clone()),
            blocked,
        };
        let bytes = match crate::fsutil::read_limited(&path, MAX_SIDECAR_BYTES) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (fresh(None), None),
            Err(e) => {
                let why = format!(
                    "cannot read {}: {e}; corrections are not saved until it is readable",
                    path.display()
                );
                return (fresh(Some(why.clone())), Some(why));
            }
        };
        match parse(&bytes) {
            Ok(annotations) => (
                Sidecar {
                    path,
                    annotations,
                    blocked: None,
                },
                None,
            ),
            Err(e @ AnnotationError::TooNew(_)) => {
                let why = format!(
                    "{}: {e}; corrections are not saved (the file is left as it is)",
                    path.display()
                );
                (fresh(Some(why.clone())), Some(why))
            }
            Err(e) => match keep_aside(&path) {
                Ok(bak) => {
                    let msg = format!(
                        "{} could not be read ({e}); it was kept as {} and new corrections go to a fresh file",
                        path.display(),
                        bak.display()
                    );
                    (fresh(None), Some(msg))
                }
                Err(io) => {
                    let why = format!(
                        "{} could not be read ({e}) nor moved aside ({io}); corrections are not saved",
                        path.display()
                    );
                    (fresh(Some(why.clone())), Some(why))
                }
            },
        }
    }

    /// Why saving is refused, if it is.
    pub fn blocked(&self) -> Option<&str> {
        self.blocked.as_deref()
    }

    /// Write the annotations atomically. The error says why nothing was written.
    pub fn save(&self) -> Result<(), String> {
        if let Some(why) = &self.blocked {
            return Err(why.clone());
        }
        crate::fsutil::write_atomic(&self.path, &self.annotations.to_json())
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}

/// Rename an unreadable file to the first free `<name>.bak`, `<name>.1.bak`, …
fn keep_aside(path: &Path) -> std::io::Result<PathBuf> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for k in 0..1000 {
        let bak = path.with_file_name(if k == 0 {
            format!("{name}.bak")
        } else {
            format!("{name}.{k}.bak")
        });
        if !bak.exists() {
            std::fs::rename(path, &bak)?;
            return Ok(bak);
        }
    }
    Err(std::io::Error::other("too many backups already"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotations::UtteranceKey;

    #[test]
    fn sidecar_sits_beside_the_video_with_the_full_name() {
        assert_eq!(path_for(Path::new("/a/ep.mp4")), Path::new("/a/ep.mp4.amuse.json"));
    }

    #[test]
    fn save_reopen_and_a_corrupt_file_is_kept_aside_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let video = dir.path().join("ep.mp4");
        let (mut s, notice) = Sidecar::open(&video, LabelSet::meld());
        assert!(notice.is_none());
        let k = UtteranceKey::new(0, 1.0, "Hi.");
        s.annotations.set_correction(&k, Some("joy")).unwrap();
        s.save().unwrap();
        let (s2, _) = Sidecar::open(&video, LabelSet::meld());
        assert_eq!(s2.annotations, s.annotations);

        std::fs::write(path_for(&video), b"\x00garbage").unwrap();
        std::fs::write(dir.path().join("ep.mp4.amuse.json.bak"), b"older backup").unwrap();
        let (s3, notice) = Sidecar::open(&video, LabelSet::meld());
        let notice = notice.expect("the user is told");
        assert!(notice.contains("ep.mp4.amuse.json.1.bak"), "{notice}");
        assert_eq!(
            std::fs::read(dir.path().join("ep.mp4.amuse.json.1.bak")).unwrap(),
            b"\x00garbage"
        );
        assert_eq!(
            std::fs::read(dir.path().join("ep.mp4.amuse.json.bak")).unwrap(),
            b"older backup"
        );
        assert!(s3.annotations.entries.is_empty());
        s3.save().unwrap();
    }

    #[test]
    fn a_newer_file_blocks_saving_and_stays_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let video = dir.path().join("ep.mp4");
        let newer = br#"{"format":"amuse-annotations","version":7,"entries":[]}"#;
        std::fs::write(path_for(&video), newer).unwrap();
        let (s, notice) = Sidecar::open(&video, LabelSet::meld());
        assert!(notice.unwrap().contains("update amuse"));
        assert!(s.save().unwrap_err().contains("not saved"));
        assert_eq!(std::fs::read(path_for(&video)).unwrap(), newer);
    }
}
