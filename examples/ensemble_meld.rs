//! MELD dev weighted F1 of checkpoints and of their ensemble (mean of probabilities):
//! `cargo run --example ensemble_meld -- models/amuse models/amuse-text`.

use amuse::features::text::TextEncoder;
use amuse::manifest::ModelStore;
use amuse::metrics;
use amuse::model::checkpoint;
use amuse::train::{self, data};
use tch::Device;

fn main() -> anyhow::Result<()> {
    amuse::device::init(1, true);
    let store = ModelStore::open_default()?;
    let mut sum: Vec<(Option<usize>, Vec<f64>)> = Vec::new();
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    for dir in &dirs {
        let loaded = checkpoint::load(std::path::Path::new(dir), Device::Cpu)?;
        // Each checkpoint on the text features it was trained on (its adapter, if any).
        let text = TextEncoder::load_adapted(&store, Device::Cpu, loaded.text_adapter.as_ref())?;
        let dev = data::meld(&store, &text, "dev")?;
        let p = train::predict(&loaded.model, &dev, Device::Cpu);
        let r = metrics::evaluate(
            &p.iter()
                .filter_map(|(t, q)| t.map(|t| (t, metrics::argmax(q))))
                .collect::<Vec<_>>(),
        );
        println!(
            "{dir}: MELD dev weighted F1 {:.4}, accuracy {:.4}",
            r.weighted_f1, r.accuracy
        );
        if sum.is_empty() {
            sum = p;
        } else {
            for (s, (_, q)) in sum.iter_mut().zip(p) {
                for (a, b) in s.1.iter_mut().zip(q) {
                    *a += b;
                }
            }
        }
    }
    let r = metrics::evaluate(
        &sum.iter()
            .filter_map(|(t, q)| t.map(|t| (t, metrics::argmax(q))))
            .collect::<Vec<_>>(),
    );
    println!(
        "ensemble of {}: MELD dev weighted F1 {:.4}, accuracy {:.4}",
        dirs.len(),
        r.weighted_f1,
        r.accuracy
    );
    Ok(())
}
