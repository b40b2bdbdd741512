//! Rewrite `models/manifest.json` from the checkpoint folders (sha256, size, what each was
//! trained on), after shipping a retrained checkpoint:
//! `cargo run --example models_manifest`. Prints what was stale; writes atomically.

use amuse::manifest::models_dir;
use amuse::model::shipped;

fn main() -> anyhow::Result<()> {
    let models = models_dir();
    let problems = shipped::stale(&models)?;
    if problems.is_empty() {
        println!("{} is up to date", models.join("manifest.json").display());
        return Ok(());
    }
    for p in &problems {
        println!("stale: {p}");
    }
    let manifest = shipped::refresh(&models)?;
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    amuse::fsutil::write_atomic(&models.join("manifest.json"), text.as_bytes())?;
    println!("rewrote {}", models.join("manifest.json").display());
    Ok(())
}
