//! `summary.csv` of a batch run (`amuse analyze`): one line per dialogue (status, emotion
//! distribution per speaker, emotion shifts, most confident moments, agreement with the
//! truth, whether it was transcribed, notes) and a pooled `ALL` line; and the merge of the
//! summaries that the shards of one run wrote (`amuse analyze --shard i/n`, then
//! `amuse merge-summaries`).

use std::path::Path;

use anyhow::{Context, Result};

use super::json::{self, Document};
use super::Row;
use super::{agreement, summary};

/// One dialogue of the run: its output (and whether it was reused), or why it failed.
pub struct Outcome {
    pub name: String,
    pub status: Result<(Document, bool), String>,
}

const HEADER: [&str; 11] = [
    "file",
    "status",
    "utterances",
    "emotions_per_speaker",
    "emotion_shifts",
    "most_confident",
    "accuracy",
    "weighted_f1",
    "error",
    "transcribed",
    "notes",
];

/// The summary table, one line per dialogue and a pooled line, written atomically.
pub fn write(path: &Path, outcomes: &[Outcome]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    let score = |rows: &[Row]| match agreement::of_rows(rows) {
        Some(r) => (format!("{:.4}", r.accuracy), format!("{:.4}", r.weighted_f1)),
        None => (String::new(), String::new()),
    };
    let mut pooled = Vec::new();
    for o in outcomes {
        match &o.status {
            Ok((doc, skipped)) => {
                let rows = &doc.utterances;
                pooled.extend(agreement::pairs(rows));
                let (acc, f1) = score(rows);
                w.write_record([
                    o.name.as_str(),
                    if *skipped { "done earlier" } else { "ok" },
                    &rows.len().to_string(),
                    &summary::distribution_text(rows),
                    &summary::shifts(rows).to_string(),
                    &summary::most_confident_text(rows, 3),
                    &acc,
                    &f1,
                    "",
                    if doc.transcribed { "yes" } else { "" },
                    &doc.notes.join(" | "),
                ])?;
            }
            Err(e) => w.write_record([o.name.as_str(), "failed", "", "", "", "", "", "", e, "", ""])?,
        }
    }
    let (acc, f1) = match agreement::report(&pooled) {
        Some(r) => (format!("{:.4}", r.accuracy), format!("{:.4}", r.weighted_f1)),
        None => (String::new(), String::new()),
    };
    let n = pooled.len().to_string();
    w.write_record(["ALL", "pooled", &n, "", "", "", &acc, &f1, "", "", ""])?;
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    crate::fsutil::write_atomic(path, &bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// The file a shard writes its summary to: `summary.shard-3-of-8.csv`.
pub fn shard_file(index: usize, count: usize) -> String {
    format!("summary.shard-{index}-of-{count}.csv")
}

/// Rebuild `dir/summary.csv` from the shards' summaries in `dir`: every dialogue a shard
/// analysed (its JSON output read back) or failed (its line kept), and the pooled line over
/// all of them. Returns how many dialogues and shard files were merged.
pub fn merge(dir: &Path) -> Result<(usize, usize)> {
    let mut shards: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("summary.shard-") && n.ends_with(".csv"))
        })
        .collect();
    shards.sort();
    if shards.is_empty() {
        anyhow::bail!("no shard summaries (summary.shard-I-of-N.csv) in {}", dir.display());
    }
    let mut outcomes = Vec::new();
    for shard in &shards {
        let mut r = csv::Reader::from_path(shard).with_context(|| format!("cannot read {}", shard.display()))?;
        for rec in r.records() {
            let rec = rec.with_context(|| format!("{} is not a summary table", shard.display()))?;
            let (name, status, error) = (
                rec.get(0).unwrap_or(""),
                rec.get(1).unwrap_or(""),
                rec.get(8).unwrap_or(""),
            );
            if name == "ALL" || name.is_empty() {
                continue;
            }
            let status = match status {
                "failed" => Err(error.to_owned()),
                _ => {
                    let path = dir.join(format!("{name}.json"));
                    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
                    let doc = json::read(&bytes).with_context(|| format!("{} is not an analysis", path.display()))?;
                    Ok((doc, status == "done earlier"))
                }
            };
            outcomes.push(Outcome {
                name: name.to_owned(),
                status,
            });
        }
    }
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));
    outcomes.dedup_by(|a, b| a.name == b.name);
    write(&dir.join("summary.csv"), &outcomes)?;
    Ok((outcomes.len(), shards.len()))
}
