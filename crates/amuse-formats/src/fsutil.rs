//! Writing files so that a crash never leaves a half-written one: write a temporary file
//! in the same folder, flush it to disk, then rename it over the target (atomic on POSIX).

use std::io::Write;
use std::path::Path;

/// Atomically replace `path` with `bytes`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |tmp| {
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })
}

/// Read at most `max` bytes of `path`: a larger file (or an endless one such as `/dev/zero`,
/// whose size reads as 0) is refused with an `InvalidData` error saying so, instead of
/// filling the memory.
pub fn read_limited(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {} MB: not a file of this kind", max >> 20),
        ));
    }
    Ok(bytes)
}

/// Longest file name most file systems accept (`NAME_MAX`, bytes).
const NAME_MAX: usize = 255;

/// The temporary name for `name`: `.amuse-tmp.<pid>.<name>`, the real name (and so its
/// extension) last since some writers pick the format by it, shortened in the middle so that
/// it fits `NAME_MAX` when `name` itself is long (a legal 251-byte name overflowed).
fn temp_name(name: &str, pid: u32) -> String {
    let prefix = format!(".amuse-tmp.{pid}.");
    let budget = NAME_MAX - prefix.len();
    if name.len() <= budget {
        return format!("{prefix}{name}");
    }
    let ext = name
        .rfind('.')
        .map(|i| &name[i..])
        .filter(|e| e.len() <= 16)
        .unwrap_or("");
    let mut head = budget - ext.len();
    while !name.is_char_boundary(head) {
        head -= 1;
    }
    format!("{prefix}{}{ext}", &name[..head])
}

/// Atomically replace `path` with what `write` puts into the temporary path it is given.
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&Path) -> std::io::Result<()>) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(temp_name(name, std::process::id()));
    let result = write(&tmp).and_then(|()| {
        // Make sure the data is on disk before the rename makes it visible.
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, path)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_limited_even_for_endless_files() {
        let err = read_limited(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("larger than 1 MB"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.srt");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(read_limited(&p, 3).unwrap(), b"abc");
        assert!(read_limited(&p, 2).is_err());
    }

    #[test]
    fn temporary_names_of_long_names_fit_name_max() {
        let long = format!("{}.mp4.amuse.json", "x".repeat(236));
        assert_eq!(long.len(), 251);
        let t = temp_name(&long, 4_000_000);
        assert!(t.len() <= NAME_MAX && t.ends_with(".json"), "{t}");
        let accented = format!("{}.csv", "é".repeat(125));
        assert!(temp_name(&accented, 7).len() <= NAME_MAX);
        assert_eq!(temp_name("a.csv", 7), ".amuse-tmp.7.a.csv");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(&long);
        write_atomic(&p, b"ok").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"ok");
    }

    #[test]
    fn replaces_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"kept").unwrap();
        let err = write_atomic_with(&p, |tmp| {
            std::fs::write(tmp, b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"kept");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
