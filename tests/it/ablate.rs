//! `amuse ablate` on a tiny real setting (RAVDESS features from the corpus cache): one row
//! per setting of the study, in the table and in the JSON; a study that cannot work on the
//! data is refused with a message.

use std::process::Command;

fn amuse(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_amuse"))
        .args(["--threads", "1", "--cpu"])
        .args(args)
        .output()
        .expect("run amuse")
}

#[test]
fn ablate_prints_one_row_per_setting() {
    let out = amuse(&[
        "ablate", "--study", "gamma", "--data", "ravdess", "--epochs", "1", "--limit", "24", "--hidden", "16", "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let rows = v["rows"].as_array().expect("rows");
    let names: Vec<&str> = rows.iter().map(|r| r["setting"].as_str().unwrap()).collect();
    assert_eq!(names, ["γ = 0", "γ = 0.5", "γ = 1", "γ = 2", "γ = 5"]);
    for r in rows {
        let f1 = r["best"][0].as_f64().expect("a figure per seed");
        assert!((0.0..=1.0).contains(&f1), "{r}");
    }

    let out = amuse(&[
        "ablate", "--study", "fusion", "--epochs", "1", "--limit", "16", "--hidden", "16",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    for setting in [
        "Test-1",
        "Test-2",
        "Test-3 learned α (backprop)",
        "Test-3 learned α (Eq. 6)",
    ] {
        assert_eq!(
            table.lines().filter(|l| l.starts_with(setting)).count(),
            1,
            "{setting}:\n{table}"
        );
    }
}

#[test]
fn the_fusion_study_needs_two_modalities() {
    let out = amuse(&["ablate", "--study", "fusion", "--data", "meld"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("two modalities"));
}
