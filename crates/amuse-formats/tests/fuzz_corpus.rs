//! Replays every committed fuzz input (`fuzz/corpus/<target>/` and any saved crash in
//! `fuzz/artifacts/<target>/`) through the same entry points the fuzzers drive, so a
//! regression on an input the fuzzer once found is caught by an ordinary `cargo test`.

use std::path::{Path, PathBuf};

use amuse_formats::fuzzing;

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "artifacts"] {
        if let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) {
            files.extend(entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()));
        }
    }
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8])) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no committed corpus for fuzz target `{target}`");
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        if std::panic::catch_unwind(|| run(&bytes)).is_err() {
            panic!("fuzz input {} makes the `{target}` parser panic", f.display());
        }
    }
}

#[test]
fn srt_corpus_replays() {
    replay("srt", fuzzing::srt);
}

#[test]
fn vtt_corpus_replays() {
    replay("vtt", fuzzing::vtt);
}

#[test]
fn csv_corpus_replays() {
    replay("csv", fuzzing::csv_table);
}

#[test]
fn annotation_corpus_replays() {
    replay("annotations", fuzzing::annotation_sidecar);
}
