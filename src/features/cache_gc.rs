//! Housekeeping of the on-disk caches: what they hold, and pruning what is no longer used.
//!
//! Both caches grow with every new key: the viewer's feature cache (`features/`) with every
//! video and every re-exported encoder, the training corpora (`corpus/`, hundreds of MB per
//! MELD split) with every text adapter tried. Nothing else removes entries, so `amuse cache`
//! shows them and `amuse cache --prune DAYS` deletes those unused for that long.
//!
//! "Used" is the file's modification time: a cache hit sets it to now ([`mark_used`]), because
//! access times are unreliable (`noatime`/`relatime` mounts). An entry is every file sharing a
//! stem (a features key has `.safetensors` and `.json`); it is as recent as its newest file,
//! and removed whole. Files of an atomic write still in progress (`.amuse-tmp.*`) are left.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Stamp cache files as just used (a hit). Errors are ignored: a read-only cache still works.
pub fn mark_used(paths: &[&Path]) {
    for p in paths {
        if let Ok(f) = std::fs::File::options().append(true).open(p) {
            let _ = f.set_modified(SystemTime::now());
        }
    }
}

/// One cache entry: the files sharing a stem.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub stem: String,
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    /// The newest modification time among its files.
    pub last_used: SystemTime,
}

/// The entries of a cache folder, least recently used first (none when it does not exist).
pub fn entries(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut by_stem: std::collections::BTreeMap<String, Entry> = Default::default();
    for item in read {
        let item = item?;
        let meta = item.metadata()?;
        let name = item.file_name().to_string_lossy().into_owned();
        if !meta.is_file() || name.starts_with(".amuse-tmp.") {
            continue;
        }
        let stem = name.split_once('.').map_or(name.as_str(), |(s, _)| s).to_owned();
        let modified = meta.modified()?;
        let e = by_stem.entry(stem.clone()).or_insert_with(|| Entry {
            stem,
            files: Vec::new(),
            bytes: 0,
            last_used: SystemTime::UNIX_EPOCH,
        });
        e.files.push(item.path());
        e.bytes += meta.len();
        e.last_used = e.last_used.max(modified);
    }
    let mut list: Vec<Entry> = by_stem.into_values().collect();
    list.sort_by_key(|e| e.last_used);
    Ok(list)
}

/// Remove the entries of `dir` unused for longer than `unused_for`; returns what was removed.
pub fn prune(dir: &Path, unused_for: Duration, now: SystemTime) -> std::io::Result<Vec<Entry>> {
    let mut removed = Vec::new();
    for e in entries(dir)? {
        if now.duration_since(e.last_used).unwrap_or_default() > unused_for {
            for f in &e.files {
                match std::fs::remove_file(f) {
                    Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
                    _ => {}
                }
            }
            removed.push(e);
        }
    }
    Ok(removed)
}

/// "1.2 GB", "35 MB", "12 kB".
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..=999_999 => format!("{:.0} kB", b / 1e3),
        1_000_000..=999_999_999 => format!("{:.0} MB", b / 1e6),
        _ => format!("{:.1} GB", b / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn file(dir: &Path, name: &str, bytes: usize, age: Duration, now: SystemTime) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, vec![0u8; bytes]).unwrap();
        std::fs::File::options()
            .append(true)
            .open(&p)
            .unwrap()
            .set_modified(now - age)
            .unwrap();
        p
    }

    #[test]
    fn prunes_whole_entries_unused_for_longer_than_asked() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let d = dir.path();
        file(d, "old.safetensors", 1000, 40 * DAY, now);
        file(d, "old.json", 10, 40 * DAY, now);
        // One file of this entry was used recently: the entry is recent and stays whole.
        file(d, "mixed.safetensors", 500, 40 * DAY, now);
        file(d, "mixed.json", 10, DAY, now);
        file(d, "meld-train-lower-0a91.safetensors", 300, 2 * DAY, now);
        file(d, ".amuse-tmp.77.old.safetensors", 5, 90 * DAY, now);

        let listed = entries(d).unwrap();
        let stems: Vec<&str> = listed.iter().map(|e| e.stem.as_str()).collect();
        assert_eq!(
            stems,
            ["old", "meld-train-lower-0a91", "mixed"],
            "least recently used first"
        );
        assert_eq!(listed[0].bytes, 1010);

        let removed = prune(d, 30 * DAY, now).unwrap();
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].stem, "old");
        let left: Vec<String> = entries(d).unwrap().into_iter().map(|e| e.stem).collect();
        assert_eq!(left, ["meld-train-lower-0a91", "mixed"]);
        assert!(d.join("mixed.safetensors").exists() && d.join(".amuse-tmp.77.old.safetensors").exists());

        assert_eq!(prune(d, DAY / 2, now).unwrap().len(), 2);
        assert!(entries(d).unwrap().is_empty());
    }

    #[test]
    fn a_hit_makes_an_entry_recent_again() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let p = file(dir.path(), "key.safetensors", 10, 40 * DAY, now);
        mark_used(&[&p]);
        assert!(prune(dir.path(), 30 * DAY, SystemTime::now()).unwrap().is_empty());
        assert!(p.exists());
        assert_eq!(
            std::fs::read(&p).unwrap().len(),
            10,
            "stamping must not change the content"
        );
    }

    #[test]
    fn a_missing_cache_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(entries(&dir.path().join("never-made")).unwrap().is_empty());
        assert_eq!(human_bytes(1_234_000_000), "1.2 GB");
        assert_eq!(human_bytes(35_000_000), "35 MB");
    }
}
