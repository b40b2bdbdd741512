//! `amuse doctor` reports the real installation, and a damaged one with the fix to run;
//! `amuse cache` reports the caches and prunes only what is no longer used.

use std::process::Command;

fn amuse() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_amuse"));
    cmd.env("AMUSE_THREADS", "1").env("AMUSE_NO_CUDA", "1");
    cmd
}

/// `amuse --models DIR doctor`: its exit code and what it printed.
fn doctor_in(models: &std::path::Path) -> (Option<i32>, String) {
    let out = amuse().arg("--models").arg(models).arg("doctor").output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn doctor_on_the_bootstrapped_models_is_healthy() {
    let out = amuse().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "doctor failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("LibTorch  2.13.0"), "{text}");
    assert!(text.contains("libavformat"), "{text}");
    assert!(text.contains("text_mpnet") && text.contains("ok (checksum)"), "{text}");
    assert!(
        text.contains("all model files and checkpoints present and intact"),
        "{text}"
    );
}

#[test]
fn doctor_names_missing_and_corrupt_files_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let pre = dir.path().join("pretrained");
    std::fs::create_dir_all(&pre).unwrap();
    std::fs::write(pre.join("present.pt"), b"not the real bytes").unwrap();
    let manifest = serde_json::json!({
        "models": {
            "damaged": {"file": "present.pt", "sha256": "00".repeat(32)},
            "absent": {"file": "absent.pt", "sha256": "11".repeat(32)}
        }
    });
    std::fs::write(pre.join("manifest.json"), manifest.to_string()).unwrap();
    let (code, text) = doctor_in(dir.path());
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("CORRUPT") && text.contains("MISSING"), "{text}");
    assert!(text.contains("make setup"), "{text}");
}

#[test]
fn doctor_without_any_manifest_says_what_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = doctor_in(dir.path());
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("not been exported") && text.contains("make setup"),
        "{text}"
    );
}

#[test]
fn doctor_checks_the_checkpoints_and_their_text_adapters() {
    // A models folder with the real exports and a copy of the shipped text checkpoint
    // whose adapter has been damaged: the exports are fine, the checkpoint is not.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        root.join("pretrained").canonicalize().unwrap(),
        dir.path().join("pretrained"),
    )
    .unwrap();
    for name in ["amuse", "amuse-text"] {
        let to = dir.path().join(name);
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(root.join(name)).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
        }
    }
    let (code, text) = doctor_in(dir.path());
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("amuse-text") && text.contains("text adapter"), "{text}");

    let adapter = dir.path().join("amuse-text/text_adapter.safetensors");
    let mut bytes = std::fs::read(&adapter).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&adapter, bytes).unwrap();
    let (code, text) = doctor_in(dir.path());
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("BROKEN") && text.contains("does not match checkpoint"),
        "{text}"
    );
    assert!(text.contains("git checkout -- models/"), "{text}");
    assert!(!text.contains("make setup"), "exports are intact: {text}");
}

#[test]
fn cache_lists_and_prunes_only_the_entries_unused_for_long() {
    let root = tempfile::tempdir().unwrap();
    let (features, corpus) = (root.path().join("features"), root.path().join("corpus"));
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(40 * 86_400);
    for (dir, name, stale) in [
        (&features, "0123abcd.safetensors", true),
        (&features, "0123abcd.json", true),
        (&features, "4567ef01.safetensors", false),
        (&features, "4567ef01.json", false),
        (&corpus, "meld-dev-lower-0a9189fe0674def3.safetensors", true),
    ] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), vec![1u8; 2000]).unwrap();
        if stale {
            let f = std::fs::File::options().append(true).open(dir.join(name)).unwrap();
            f.set_modified(old).unwrap();
        }
    }
    let cache = |args: &[&str]| {
        let out = amuse()
            .env("AMUSE_CACHE", root.path())
            .arg("cache")
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    };
    let (ok, text) = cache(&[]);
    assert!(ok, "{text}");
    assert!(text.contains("features (viewer, analyze): 2 entries, 8 kB"), "{text}");
    assert!(text.contains("corpus (train, adapt-text): 1 entries"), "{text}");
    assert!(text.contains("least recently used 40.0 days ago"), "{text}");

    let (ok, text) = cache(&["--prune", "30"]);
    assert!(ok, "{text}");
    assert!(text.contains("removed 1 entries"), "{text}");
    assert!(!features.join("0123abcd.json").exists() && !features.join("0123abcd.safetensors").exists());
    assert!(features.join("4567ef01.json").exists(), "a recent entry was pruned");
    assert!(!corpus.join("meld-dev-lower-0a9189fe0674def3.safetensors").exists());

    let (ok, text) = cache(&["--prune=-1"]);
    assert!(!ok && text.contains("number of days"), "{text}");
}
