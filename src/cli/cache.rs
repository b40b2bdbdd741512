//! `amuse cache`: what the on-disk caches hold, and pruning what is no longer used
//! (see `features::cache_gc` for what "used" means).

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::features::cache_gc::{self, human_bytes};

#[derive(Debug, clap::Args)]
pub struct CacheArgs {
    /// Delete the entries not used for this many days (0: every entry).
    #[arg(long, value_name = "DAYS")]
    pub prune: Option<f64>,
}

/// The caches: the viewer's features and the encoded training corpora.
fn folders() -> [(&'static str, PathBuf); 2] {
    [
        ("features (viewer, analyze)", crate::features::cache::default_dir()),
        ("corpus (train, adapt-text)", crate::train::data::corpus_dir()),
    ]
}

/// The largest `--prune DAYS`.
const MAX_DAYS: f64 = 36_500.0;

pub fn run(args: &CacheArgs) -> anyhow::Result<()> {
    let now = SystemTime::now();
    let days = |t: SystemTime| now.duration_since(t).unwrap_or_default().as_secs_f64() / 86_400.0;
    if let Some(d) = args.prune {
        // A century is longer than any cache entry has existed; larger values would overflow
        // a Duration.
        if !(d.is_finite() && (0.0..=MAX_DAYS).contains(&d)) {
            anyhow::bail!("--prune takes a number of days from 0 to {MAX_DAYS}, not {d}");
        }
        let unused_for = Duration::from_secs_f64(d * 86_400.0);
        for (what, dir) in folders() {
            let removed = cache_gc::prune(&dir, unused_for, now)
                .map_err(|e| anyhow::anyhow!("pruning {}: {e}", dir.display()))?;
            let bytes = removed.iter().map(|e| e.bytes).sum();
            println!(
                "{what}: removed {} entries unused for more than {d} days ({}) from {}",
                removed.len(),
                human_bytes(bytes),
                dir.display()
            );
        }
        return Ok(());
    }
    for (what, dir) in folders() {
        let list = cache_gc::entries(&dir).map_err(|e| anyhow::anyhow!("reading {}: {e}", dir.display()))?;
        let bytes: u64 = list.iter().map(|e| e.bytes).sum();
        print!(
            "{what}: {} entries, {} in {}",
            list.len(),
            human_bytes(bytes),
            dir.display()
        );
        match list.first() {
            Some(oldest) => println!(" (least recently used {:.1} days ago)", days(oldest.last_used)),
            None => println!(),
        }
    }
    println!("`amuse cache --prune DAYS` deletes the entries not used for DAYS days; they are rebuilt when needed.");
    Ok(())
}
