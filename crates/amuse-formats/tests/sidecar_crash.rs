//! The annotation autosave survives `kill -9` at any moment: a child process (this test
//! binary re-run as a writer) saves a growing sidecar in a loop and reports each save it
//! has finished; it is killed at varying moments, and every time the file on disk must be a
//! complete, readable version holding at least every acknowledged save.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use amuse_formats::annotations::sidecar::{path_for, Sidecar};
use amuse_formats::annotations::{parse, LabelSet, UtteranceKey};

const CHILD_ENV: &str = "AMUSE_SIDECAR_CRASH_WRITER";

/// The writer: continue from what is on disk, one more entry (with a long note, so each
/// save takes a while) per save, printing `acked N` after each save returns.
#[test]
#[ignore = "run by autosave_survives_kill_9 as its child process"]
fn crash_writer() {
    let Ok(video) = std::env::var(CHILD_ENV) else { return };
    let (mut s, notice) = Sidecar::open(Path::new(&video), LabelSet::meld());
    assert!(notice.is_none(), "{notice:?}");
    let note = "a long note so that every save writes a few hundred kilobytes. ".repeat(40);
    let mut n = s.annotations.entries.len();
    loop {
        n += 1;
        let k = UtteranceKey::new(n, n as f64, &format!("line {n}"));
        s.annotations.set_note(&k, &format!("{n}: {note}")).unwrap();
        s.save().unwrap();
        println!("acked {n}");
    }
}

#[test]
fn autosave_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("episode.mp4");
    let exe = std::env::current_exe().unwrap();
    let mut last_acked = 0usize;
    for round in 0..12u64 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_writer",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &video)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(out)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.strip_prefix("acked ").and_then(|n| n.trim().parse::<usize>().ok()))
                .max()
        });
        // Kill at varying points: during start-up, mid-save, between saves.
        std::thread::sleep(Duration::from_millis(40 + (round * 37) % 160));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        if let Some(n) = reader.join().unwrap() {
            last_acked = last_acked.max(n);
        }
        let path = path_for(&video);
        if !path.exists() {
            assert_eq!(last_acked, 0, "an acknowledged save is on disk");
            continue;
        }
        let a = parse(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("round {round}: the sidecar on disk is not a complete version: {e}"));
        let n = a.entries.len();
        assert!(
            n >= last_acked,
            "round {round}: {n} entries on disk but {last_acked} saves were acknowledged"
        );
        for (i, e) in a.entries.iter().enumerate() {
            assert!(e.fields.note.starts_with(&format!("{}: ", i + 1)), "entry {i} is whole");
        }
    }
    assert!(last_acked >= 3, "the writer saved several versions ({last_acked})");
    // Only the sidecar (and temporary files of killed writers) are in the folder, no backup:
    // no killed write ever left a file the next writer found unreadable.
    let baks = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".bak"))
        .count();
    assert_eq!(baks, 0);
}
