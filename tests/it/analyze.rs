//! `amuse analyze` on a folder with the demo dialogue (and an annotator's correction beside
//! it) and a corrupt video: the demo is analysed and exported, the corrupt file is reported in
//! summary.csv and the exit code while the other finishes; a second run skips the complete
//! output and redoes a half-written one. Features come from the cache (content-keyed), so
//! after the first analysis of the demo by any test this is fast.

use crate::common;

use std::path::Path;
use std::process::Command;

use amuse::export::json;
use amuse_formats::annotations::{sidecar, Annotations, LabelSet, UtteranceKey};

fn analyze(input: &Path, out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_amuse"))
        .args(["--threads", "1", "--cpu", "analyze"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(["--format", "csv,eaf"])
        .env("OMP_NUM_THREADS", "1")
        .output()
        .expect("the amuse binary runs")
}

fn summary_line<'a>(summary: &'a str, name: &str) -> &'a str {
    summary
        .lines()
        .find(|l| l.starts_with(&format!("{name},")))
        .unwrap_or_else(|| panic!("no {name} line in\n{summary}"))
}

#[test]
fn a_folder_with_a_corrupt_file_finishes_the_rest_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let out = dir.path().join("out");
    std::fs::create_dir(&input).unwrap();
    let demo = common::demo();
    std::fs::copy(&demo, input.join("demo.mp4")).unwrap();
    std::fs::copy(demo.with_extension("csv"), input.join("demo.csv")).unwrap();
    std::fs::write(input.join("broken.mp4"), b"this is not a video at all").unwrap();
    std::fs::write(input.join("broken.srt"), "1\n00:00:00,000 --> 00:00:01,000\nHello.\n").unwrap();
    // The annotator corrected the first line (truth: joy) to anger.
    let mut a = Annotations::new(LabelSet::meld());
    let first = "Guess what? I got the job! I start on Monday!";
    a.set_correction(&UtteranceKey::new(0, 1.6, first), Some("anger"))
        .unwrap();
    std::fs::write(sidecar::path_for(&input.join("demo.mp4")), a.to_json()).unwrap();

    let run = analyze(&input, &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "a failed input is an error exit: {stderr}");
    assert!(stderr.contains("1 of 2 inputs failed"), "{stderr}");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary_line(&summary, "broken").contains(",failed,"), "{summary}");
    let ok = summary_line(&summary, "demo");
    assert!(ok.starts_with("demo,ok,12,"), "{ok}");
    assert!(ok.contains("Eileen: "), "emotions per speaker: {ok}");

    let doc = json::read(&std::fs::read(out.join("demo.json")).unwrap()).expect("a complete JSON output");
    assert_eq!(doc.utterances.len(), 12);
    assert_eq!(doc.utterances[0].correction.as_deref(), Some("anger"));
    assert_eq!(
        doc.utterances[0].truth(),
        Some(amuse::emotion::Emotion::Anger),
        "the correction is the truth"
    );
    assert_eq!(doc.agreement.as_ref().unwrap().n, 12, "every demo line has a truth");
    let csv_rows = amuse::export::csv::read(&std::fs::read(out.join("demo.csv")).unwrap()).unwrap();
    assert_eq!(csv_rows, doc.utterances, "the CSV holds the same rows");
    assert!(std::fs::read_to_string(out.join("demo.eaf"))
        .unwrap()
        .contains("TIER_ID=\"Eileen\""));

    // Resume: demo is complete and skipped; demo2's output was cut short and is redone.
    std::fs::copy(&demo, input.join("demo2.mp4")).unwrap();
    std::fs::copy(demo.with_extension("csv"), input.join("demo2.csv")).unwrap();
    let full = std::fs::read(out.join("demo.json")).unwrap();
    std::fs::write(out.join("demo2.json"), &full[..full.len() / 2]).unwrap();
    let run = analyze(&input, &out);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1));
    assert!(stdout.contains("demo: done earlier, skipped"), "{stdout}");
    assert!(stdout.contains("demo2: 12 utterances"), "{stdout}");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary_line(&summary, "demo").starts_with("demo,done earlier,12,"));
    assert!(summary_line(&summary, "demo2").starts_with("demo2,ok,12,"));
    assert!(summary_line(&summary, "ALL").starts_with("ALL,pooled,24,"), "{summary}");
    let redone = json::read(&std::fs::read(out.join("demo2.json")).unwrap()).unwrap();
    assert_eq!(redone.utterances[0].correction, None, "demo2 has no sidecar");
    assert_eq!(redone.utterances[1..], doc.utterances[1..], "the same analysis");
}

/// A short clip of a real face (the astronaut photo) with espeak-ng speech and no
/// transcript: what a folder of untranscribed real clips looks like.
fn untranscribed_clip(path: &Path) {
    let wav = path.with_extension("wav");
    let ok = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "150", "-w"])
        .arg(&wav)
        .arg("I am so happy to see you again today.")
        .status()
        .unwrap()
        .success();
    assert!(ok, "espeak-ng (installed by scripts/bootstrap.sh)");
    let face = common::store().root().join("golden/mtcnn_astronaut.png");
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-loop", "1", "-framerate", "5", "-i"])
        .arg(&face)
        .arg("-i")
        .arg(&wav)
        .args([
            "-vf",
            "scale=320:320",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-c:a", "aac", "-ar", "48000", "-shortest"])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ffmpeg makes the clip");
    std::fs::remove_file(&wav).unwrap();
}

#[test]
fn untranscribed_clips_are_transcribed_and_a_stale_output_is_redone() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("clips");
    let out = dir.path().join("out");
    std::fs::create_dir(&input).unwrap();
    untranscribed_clip(&input.join("hello.mp4"));
    // A MELD-named clip without the split's CSV is a plain video, not a MELD.Raw folder.
    std::fs::copy(input.join("hello.mp4"), input.join("dia3_utt0.mp4")).unwrap();
    let run = analyze(&input, &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    for name in ["hello", "dia3_utt0"] {
        let line = summary_line(&summary, name);
        assert!(line.starts_with(&format!("{name},ok,")), "{line}");
        let doc = json::read(&std::fs::read(out.join(format!("{name}.json"))).unwrap()).unwrap();
        assert!(doc.transcribed, "{name} is marked as transcribed");
        assert!(doc.key.is_some());
        let text: String = doc.utterances.iter().map(|u| u.text.to_lowercase()).collect();
        assert!(text.contains("happy"), "{name}: {text}");
    }
    assert!(
        summary.lines().next().unwrap().ends_with(",transcribed,notes"),
        "{summary}"
    );
    assert!(summary_line(&summary, "hello").contains(",yes,"), "{summary}");

    // --no-transcribe refuses instead.
    let refused = dir.path().join("refused");
    let run = Command::new(env!("CARGO_BIN_EXE_amuse"))
        .args(["--threads", "1", "--cpu", "analyze"])
        .arg(input.join("hello.mp4"))
        .arg("--out")
        .arg(&refused)
        .arg("--no-transcribe")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let summary = std::fs::read_to_string(refused.join("summary.csv")).unwrap();
    assert!(
        summary_line(&summary, "hello").contains("no transcript beside"),
        "{summary}"
    );

    // Another checkpoint makes the earlier output stale: it is redone, not reused.
    let run = Command::new(env!("CARGO_BIN_EXE_amuse"))
        .args(["--threads", "1", "--cpu", "--checkpoint"])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/amuse-text"))
        .arg("analyze")
        .arg(input.join("hello.mp4"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("hello: ") && !stdout.contains("done earlier"),
        "{stdout}"
    );
    let doc = json::read(&std::fs::read(out.join("hello.json")).unwrap()).unwrap();
    assert!(doc.checkpoint.ends_with("amuse-text"), "{}", doc.checkpoint);
}

#[test]
fn shards_of_a_folder_merge_into_one_summary() {
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (dir.path().join("in"), dir.path().join("out"));
    std::fs::create_dir(&input).unwrap();
    let demo = common::demo();
    for name in ["a", "b"] {
        std::fs::copy(&demo, input.join(format!("{name}.mp4"))).unwrap();
        std::fs::copy(demo.with_extension("csv"), input.join(format!("{name}.csv"))).unwrap();
    }
    std::fs::write(input.join("broken.mp4"), b"not a video").unwrap();
    let shard = |s: &str| {
        Command::new(env!("CARGO_BIN_EXE_amuse"))
            .args(["--threads", "1", "--cpu", "analyze"])
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .args(["--shard", s])
            .output()
            .unwrap()
    };
    let (one, two) = (shard("1/2"), shard("2/2"));
    for run in [&one, &two] {
        assert!(!String::from_utf8_lossy(&run.stderr).contains("panicked"));
    }
    assert!(!out.join("summary.csv").exists(), "shards write their own summaries");
    let lines = |f: &str| std::fs::read_to_string(out.join(f)).unwrap().lines().count();
    // Header and ALL in each, and each of the 3 files in exactly one of them.
    assert_eq!(
        lines("summary.shard-1-of-2.csv") + lines("summary.shard-2-of-2.csv"),
        4 + 3
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_amuse"))
        .args(["analyze"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .args(["--shard", "3/2"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "a usage error");

    let merge = Command::new(env!("CARGO_BIN_EXE_amuse"))
        .arg("merge-summaries")
        .arg(&out)
        .output()
        .unwrap();
    assert!(merge.status.success(), "{}", String::from_utf8_lossy(&merge.stderr));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary_line(&summary, "a").starts_with("a,ok,12,"), "{summary}");
    assert!(summary_line(&summary, "b").starts_with("b,ok,12,"), "{summary}");
    assert!(summary_line(&summary, "broken").contains(",failed,"), "{summary}");
    assert!(summary_line(&summary, "ALL").starts_with("ALL,pooled,24,"), "{summary}");
}
