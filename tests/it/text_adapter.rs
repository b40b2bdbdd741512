//! The text adapter (`amuse adapt-text`): training lowers the loss on real MELD utterances,
//! the saved adapter merged into the full MPNet gives exactly what the adapted top layers
//! compute, and a checkpoint refuses an adapter that is not the one it was trained with.

use crate::common;

use amuse::features::adapter::{TextAdapter, FILE};
use amuse::features::text::TextEncoder;
use amuse::train::text_adapter::{self, AdaptOptions, Upper};
use tch::{nn, Device, Tensor};

/// The adapted top layers with random (non-zero) factors, and those factors saved with
/// `context` and loaded back as an adapter file. The var store and folder live as long as
/// the returned values are used.
fn random_adapter(
    store: &amuse::manifest::ModelStore,
    context: usize,
) -> (nn::VarStore, Upper, tempfile::TempDir, TextAdapter) {
    let geo = text_adapter::geometry(store).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let mut upper = Upper::load(store, &vs.root(), 0.0).unwrap();
    upper.randomise(0.02);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE);
    TextAdapter::save(&path, geo.scale, context, &upper.factors(geo.first_layer).unwrap()).unwrap();
    let adapter = TextAdapter::load(&path).unwrap();
    (vs, upper, dir, adapter)
}

#[test]
fn merged_adapter_equals_the_adapted_top_layers() {
    let store = common::store();
    let split = text_adapter::meld_split(&store, "dev", Some(6), 0).unwrap();
    let geo = text_adapter::geometry(&store).unwrap();
    let (_vs, upper, _dir, adapter) = random_adapter(&store, 0);
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
    let train = text_adapter::meld_split(&store, "train", Some(48), 0).unwrap();
    let dev = text_adapter::meld_split(&store, "dev", Some(16), 0).unwrap();
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
    text_adapter::save(dir.path(), &store, 0, &factors, &serde_json::json!({"test": true})).unwrap();
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
    TextAdapter::save(&dir.path().join(FILE), a.scale, a.context, &zeros).unwrap();
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

/// With context, training (lower-layer states of "context </s></s> text", the text's own
/// tokens pooled) and inference (`encode_after` with the merged adapter) read the same
/// input: the merged encoder's states of the text's tokens equal the adapted top layers'.
#[test]
fn context_adapter_reads_the_preceding_utterances_at_training_and_inference_alike() {
    let store = common::store();
    // MELD dev: dialogue 0 has two utterances, dialogue 1 starts at the third.
    let split = text_adapter::meld_split(&store, "dev", Some(6), 2).unwrap();
    assert_eq!(split.contexts[1], split.texts[0]);
    assert!(
        split.contexts[2].is_empty(),
        "a dialogue's first utterance has no predecessor"
    );
    assert_eq!(split.contexts[4], format!("{} {}", split.texts[2], split.texts[3]));
    let (_vs, upper, _dir, adapter) = random_adapter(&store, 2);
    let encoder = TextEncoder::load_adapted(&store, Device::Cpu, Some(&adapter)).unwrap();
    assert_eq!(encoder.context, 2);

    let items: Vec<(&str, &str)> = split
        .contexts
        .iter()
        .map(String::as_str)
        .zip(split.texts.iter().map(String::as_str))
        .collect();
    let in_context = encoder.encode_after(&items).unwrap();
    let texts: Vec<&str> = split.texts.iter().map(String::as_str).collect();
    let alone = encoder.encode(&texts).unwrap();
    for (i, state) in split.states.iter().enumerate() {
        let (start, len) = split.ranges[i];
        let (top, _) = tch::no_grad(|| upper.token_states(&[state])).unwrap();
        let top = top.get(0).narrow(0, start, len);
        assert_eq!(in_context[i].tokens.size(), top.size(), "utterance {i}");
        let diff = (&top - &in_context[i].tokens).abs().max().double_value(&[]);
        assert!(diff < 2e-3, "utterance {i}: inference differs from training by {diff}");
        let norm = in_context[i].pooled.norm().double_value(&[]);
        assert!((norm - 1.0).abs() < 1e-4, "pooled vector norm {norm}");
        if split.contexts[i].is_empty() {
            // No predecessor: exactly the utterance alone.
            assert_eq!(in_context[i].tokens.size(), alone[i].tokens.size());
        } else {
            // The text's own tokens (no <s>, </s>), read after the context.
            assert_eq!(len + 2, alone[i].tokens.size()[0], "utterance {i}");
            let moved = (&alone[i].tokens.narrow(0, 1, len) - &in_context[i].tokens)
                .abs()
                .max()
                .double_value(&[]);
            assert!(moved > 1e-2, "utterance {i}: the context changed nothing ({moved})");
        }
    }
    // A dialogue is encoded the same way: utterance i after utterances i-2 and i-1.
    let dialogue = encoder.encode_dialogue(&texts[2..5]).unwrap();
    let diff = (&dialogue[2].tokens - &in_context[4].tokens)
        .abs()
        .max()
        .double_value(&[]);
    assert!(diff < 1e-5, "encode_dialogue differs from encode_after by {diff}");
}
