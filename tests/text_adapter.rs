//! The text adapter (`amuse adapt-text`): training lowers the loss on real MELD utterances,
//! the saved adapter merged into the full MPNet gives exactly what the adapted top layers
//! compute, and a checkpoint refuses an adapter that is not the one it was trained with.

mod common;

use amuse::features::adapter::{TextAdapter, FILE};
use amuse::features::text::TextEncoder;
use amuse::train::text_adapter::{self, AdaptOptions, Upper};
use tch::{nn, Device, Tensor};

#[test]
fn merged_adapter_equals_the_adapted_top_layers() {
    let store = common::store();
    let split = text_adapter::meld_split(&store, "dev", Some(6)).unwrap();
    let geo = text_adapter::geometry(&store).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let mut upper = Upper::load(&store, &vs.root(), 0.0).unwrap();
    upper.randomise(0.02);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE);
    TextAdapter::save(&path, geo.scale, &upper.factors(geo.first_layer).unwrap()).unwrap();
    let adapter = TextAdapter::load(&path).unwrap();
    assert_eq!(
        adapter.factors.len(),
        6 * (12 - geo.first_layer),
        "q, k, v, o and both FFN matrices per layer"
    );

    let adapted = TextEncoder::load_adapted(&store, Device::Cpu, Some(&adapter)).unwrap();
    let plain = TextEncoder::load(&store, Device::Cpu).unwrap();
    assert_eq!(adapted.adapter_sha256.as_deref(), Some(adapter.sha256.as_str()));
    let texts: Vec<&str> = split.texts.iter().map(String::as_str).collect();
    let merged = adapted.encode(&texts).unwrap();
    let base = plain.encode(&texts).unwrap();
    for (i, state) in split.states.iter().enumerate() {
        let (top, _) = tch::no_grad(|| upper.token_states(&[state])).unwrap();
        let top = top.get(0);
        let diff = (&top - &merged[i].tokens).abs().max().double_value(&[]);
        assert!(
            diff < 2e-3,
            "utterance {i}: merged encoder differs from the adapted layers by {diff}"
        );
        let changed = (&base[i].tokens - &merged[i].tokens).abs().max().double_value(&[]);
        assert!(changed > 1e-2, "utterance {i}: the adapter changed nothing ({changed})");
    }
}

#[test]
fn training_lowers_the_loss_and_saves_a_loadable_adapter() {
    let store = common::store();
    let train = text_adapter::meld_split(&store, "train", Some(48)).unwrap();
    let dev = text_adapter::meld_split(&store, "dev", Some(16)).unwrap();
    let opts = AdaptOptions {
        epochs: 3,
        batch: 8,
        lr: 3e-3,
        limit: Some(48),
        ..Default::default()
    };
    let (factors, history) = text_adapter::adapt(&store, &train, &dev, &opts, Device::Cpu, &mut |_| {}).unwrap();
    assert_eq!(history.len(), 3);
    assert!(
        history[2].loss < history[0].loss,
        "loss {:.4} → {:.4}",
        history[0].loss,
        history[2].loss
    );
    let moved: f64 = factors
        .iter()
        .map(|f| f.b.abs().sum(tch::Kind::Double).double_value(&[]))
        .sum();
    assert!(moved > 0.0, "lora_b still zero after training");
    let dir = tempfile::tempdir().unwrap();
    text_adapter::save(dir.path(), &store, &factors, &serde_json::json!({"test": true})).unwrap();
    let loaded = TextAdapter::load(&dir.path().join(FILE)).unwrap();
    assert_eq!(loaded.factors.len(), factors.len());
    assert_eq!(text_adapter::about(&dir.path().join(FILE))["test"], true);
}

#[test]
fn a_checkpoint_refuses_a_different_adapter() {
    let shipped = amuse::manifest::models_dir().join("amuse");
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(shipped.join("config.json")).unwrap()).unwrap();
    if info.get("text_adapter").is_none() {
        panic!("models/amuse should ship with its text adapter");
    }
    let dir = tempfile::tempdir().unwrap();
    for f in ["config.json", "amuse.safetensors", FILE] {
        std::fs::copy(shipped.join(f), dir.path().join(f)).unwrap();
    }
    amuse::model::checkpoint::load(dir.path(), Device::Cpu).expect("an intact copy loads");
    // Another adapter in its place (zero factors of the right names and shapes).
    let a = TextAdapter::load(&dir.path().join(FILE)).unwrap();
    let zeros: Vec<_> = a
        .factors
        .iter()
        .map(|f| amuse::features::adapter::Factor {
            weight: f.weight.clone(),
            a: f.a.zeros_like(),
            b: Tensor::zeros_like(&f.b),
        })
        .collect();
    TextAdapter::save(&dir.path().join(FILE), a.scale, &zeros).unwrap();
    let err = amuse::model::checkpoint::load(dir.path(), Device::Cpu)
        .err()
        .expect("refused");
    assert!(format!("{err:#}").contains("does not match"), "{err:#}");
    std::fs::remove_file(dir.path().join(FILE)).unwrap();
    let err = amuse::model::checkpoint::load(dir.path(), Device::Cpu)
        .err()
        .expect("refused");
    assert!(format!("{err:#}").contains("amuse adapt-text"), "{err:#}");
}
