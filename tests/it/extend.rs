//! `amuse train --extend` (`train::extend`): a text-only model learns to use the audio,
//! while its text-only predictions stay exactly what they were.

use crate::common;

use amuse::model::amuse::Amuse;
use amuse::model::batch::{Batch, UtteranceInput};
use amuse::model::config::Config;
use amuse::train::data::Corpus;
use amuse::train::{self, extend, TrainOptions};
use tch::{nn, Device, Kind, Tensor};

fn tiny() -> Config {
    Config {
        man_layers: 1,
        dropout: 0.1,
        training: amuse::model::config::TrainingConfig {
            modality_dropout: 0.2,
            ..common::tiny_config().training
        },
        ..common::tiny_config()
    }
}

/// Two-utterance dialogues; the text says nothing, the audio's sign says the class.
fn corpus(n: usize, seed: i64) -> Corpus {
    tch::manual_seed(seed);
    let dialogues = (0..n)
        .map(|_| {
            (0..2)
                .map(|i| {
                    let a = Tensor::randn([3, 4], (Kind::Float, Device::Cpu));
                    let s = a.double_value(&[0, 0]) > 0.0;
                    UtteranceInput {
                        text: Some(Tensor::randn([2, 4], (Kind::Float, Device::Cpu))),
                        audio: Some(a.ones_like() * if s { 1.0 } else { -1.0 } + a * 0.3),
                        face: None,
                        back: None,
                        speaker: Some(format!("s{i}")),
                        label: Some(if s { 4 } else { 0 }),
                    }
                })
                .collect()
        })
        .collect();
    Corpus {
        name: "synthetic".into(),
        dialogues,
        copies: 0,
    }
}

fn logits(model: &Amuse, dialogues: &[Vec<UtteranceInput>]) -> Tensor {
    let ds: Vec<&[UtteranceInput]> = dialogues.iter().map(Vec::as_slice).collect();
    let b = Batch::new(&ds, [4, 4, 3, 3], Device::Cpu);
    tch::no_grad(|| model.forward(&b, false).logits)
}

fn accuracy(model: &Amuse, corpus: &Corpus) -> f64 {
    train::evaluate(model, corpus, Device::Cpu).accuracy
}

/// A random tiny model, a training set and a dev set.
fn setup() -> (nn::VarStore, Amuse, Corpus, Corpus) {
    common::init();
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Amuse::new(&vs.root(), tiny());
    (vs, model, corpus(96, 5), corpus(48, 6))
}

#[test]
fn extending_with_audio_learns_it_and_leaves_text_only_predictions_unchanged() {
    let (mut vs, model, train_set, dev) = setup();
    let text = [amuse::model::amuse::Modality::Text];
    let dev_text = dev.only(&text);
    assert!(dev_text.iter().flatten().all(|u| u.audio.is_none() && u.text.is_some()));
    let before = logits(&model, &dev_text);
    let audio_before = accuracy(&model, &dev);

    let frozen = extend::freeze_dependencies(&model, &vs, &train_set.only(&text));
    assert!(frozen.frozen > 0 && frozen.frozen < frozen.total, "{frozen:?}");
    // What the text-only prediction runs through is frozen whole; the audio encoder and
    // its Central network are free whole; the context's input weights are split (the
    // audio slot of their input is free).
    let free = |name: &str| frozen.free[name];
    let size = |name: &str| vs.variables()[name].numel() as i64;
    for name in ["context.out.weight", "text.sa0.weight", "man_text.head.weight"] {
        assert_eq!(free(name), 0, "{name}");
    }
    for name in ["audio.sa0.weight", "man_audio.head.weight", "man_audio.layer0.q.weight"] {
        assert_eq!(free(name), size(name), "{name}");
    }
    let ih = "context.dialogue.fwd.weight_ih_l0";
    assert!(
        free(ih) > 0 && free(ih) < size(ih),
        "{ih}: {} of {}",
        free(ih),
        size(ih)
    );

    let opts = TrainOptions {
        epochs: 4,
        batch: 8,
        lr: 1e-2,
        seed: 2,
        frozen: Some(std::rc::Rc::new(frozen)),
        ..Default::default()
    };
    train::fit(&model, &mut vs, &[&train_set], &[], &[&dev], &opts, &mut |_| {}).unwrap();

    let after = logits(&model, &dev_text);
    assert!(
        before.equal(&after),
        "text-only logits changed by {}",
        (&after - &before).abs().max()
    );
    let audio_after = accuracy(&model, &dev);
    assert!(
        audio_after > 0.9,
        "the audio was learned: dev accuracy {audio_before:.3} → {audio_after:.3}"
    );
}

#[test]
fn without_freezing_the_same_training_changes_text_only_predictions() {
    let (mut vs, model, train_set, dev) = setup();
    let dev_text = dev.only(&[amuse::model::amuse::Modality::Text]);
    let before = logits(&model, &dev_text);
    let opts = TrainOptions {
        epochs: 1,
        batch: 8,
        lr: 1e-2,
        seed: 2,
        ..Default::default()
    };
    train::fit(&model, &mut vs, &[&train_set], &[], &[&dev], &opts, &mut |_| {}).unwrap();
    assert!(
        !before.equal(&logits(&model, &dev_text)),
        "the control: the freeze is what keeps them"
    );
}

/// `amuse train --extend` refuses, before loading any corpus, what it cannot do: add nothing
/// (MELD has no audio here) or add audio to a checkpoint that has it.
#[test]
fn the_cli_refuses_an_extension_that_adds_no_modality() {
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let out = tempfile::tempdir().unwrap();
    for (data, from) in [("meld", "amuse-text"), ("meld,ravdess", "amuse")] {
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_amuse"))
            .args(["train", "--data", data, "--extend"])
            .arg(models.join(from))
            .arg("--out")
            .arg(out.path())
            .env("AMUSE_THREADS", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{data} onto {from}: {stderr}");
        assert!(stderr.contains("--extend adds the modalities of --data"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "nothing written"
    );
}
