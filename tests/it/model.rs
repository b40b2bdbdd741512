//! The AMuSE mechanism, not just shapes: a task solvable only by combining two modalities
//! is learned by MAN + Adaptive Fusion and not by one modality; gradients reach every
//! parameter; α stays in [0, 1]; missing modalities still get predictions.

use crate::common;

use amuse::model::amuse::Amuse;
use amuse::model::batch::{Batch, UtteranceInput};
use amuse::model::config::{Config, FusionMode};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

fn tiny() -> Config {
    Config {
        man_layers: 2,
        sa_layers: 1,
        training: amuse::model::config::TrainingConfig {
            nce_weight: 0.1,
            ..common::tiny_config().training
        },
        ..common::tiny_config()
    }
}

/// XOR of the signs of text[0] and audio[0]: label 4 (joy) or 0 (neutral).
fn xor_data(n: usize, with_audio: bool, seed: i64) -> Vec<Vec<UtteranceInput>> {
    tch::manual_seed(seed);
    (0..n)
        .map(|_| {
            let t = Tensor::randn([3, 4], (Kind::Float, Device::Cpu));
            let a = Tensor::randn([5, 4], (Kind::Float, Device::Cpu));
            let st = t.double_value(&[0, 0]) > 0.0;
            let sa = a.double_value(&[0, 0]) > 0.0;
            // Make the decisive element visible everywhere in the sequence.
            let t = t.ones_like() * if st { 1.0 } else { -1.0 } + t * 0.3;
            let a = a.ones_like() * if sa { 1.0 } else { -1.0 } + a * 0.3;
            vec![UtteranceInput {
                text: Some(t),
                audio: with_audio.then_some(a),
                face: None,
                back: None,
                speaker: Some("s".into()),
                label: Some(if st ^ sa { 4 } else { 0 }),
            }]
        })
        .collect()
}

fn accuracy(model: &Amuse, data: &[Vec<UtteranceInput>]) -> f64 {
    let refs: Vec<&[UtteranceInput]> = data.iter().map(Vec::as_slice).collect();
    let b = Batch::new(&refs, [4, 4, 3, 3], Device::Cpu);
    let pred = tch::no_grad(|| model.forward(&b, false).logits.argmax(-1, false));
    pred.eq_tensor(&b.labels)
        .to_kind(Kind::Float)
        .mean(Kind::Float)
        .double_value(&[])
}

fn train(model: &Amuse, vs: &nn::VarStore, data: &[Vec<UtteranceInput>], steps: usize) {
    let mut opt = nn::Adam::default().build(vs, 3e-3).unwrap();
    for step in 0..steps {
        let chunk: Vec<&[UtteranceInput]> = data
            .iter()
            .skip((step * 32) % data.len())
            .take(32)
            .map(Vec::as_slice)
            .collect();
        let b = Batch::new(&chunk, [4, 4, 3, 3], Device::Cpu);
        let out = model.forward(&b, true);
        opt.backward_step(&model.losses(&b, &out).total);
        model.fusion.project();
    }
}

#[test]
fn combining_modalities_learns_what_one_modality_cannot() {
    common::init();
    // The same seeds and steps for both; only the presence of audio differs.
    let trained = |with_audio: bool| {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let model = Amuse::new(&vs.root(), tiny());
        train(&model, &vs, &xor_data(512, with_audio, 1), 400);
        let acc = accuracy(&model, &xor_data(256, with_audio, 2));
        (vs, model, acc)
    };
    let (_vs, model, both) = trained(true);
    let (_, _, one) = trained(false);
    eprintln!("XOR task: text+audio {both:.3}, text only {one:.3}");
    assert!(both > 0.9, "MAN + AF learns the cross-modal rule: {both}");
    assert!(one < 0.65, "one modality cannot: {one}");
    let alpha = model.fusion.alpha.shallow_clone();
    assert!(
        alpha.min().double_value(&[]) >= 0.0 && alpha.max().double_value(&[]) <= 1.0,
        "α in [0, 1]"
    );
}

#[test]
fn gradient_reaches_every_parameter() {
    common::init();
    tch::manual_seed(5);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Amuse::new(
        &vs.root(),
        Config {
            fusion: FusionMode::Learned,
            ..tiny()
        },
    );
    let mut data = xor_data(8, true, 3);
    for d in &mut data {
        d[0].face = Some(Tensor::randn([2, 3], (Kind::Float, Device::Cpu)));
        d[0].back = Some(Tensor::randn([4, 3], (Kind::Float, Device::Cpu)));
    }
    // Two dialogues of four utterances by two speakers, so the context LSTMs recur.
    let mut utterances: Vec<UtteranceInput> = data.into_iter().flatten().collect();
    for (k, u) in utterances.iter_mut().enumerate() {
        u.speaker = Some(format!("s{}", k % 2));
    }
    let second = utterances.split_off(4);
    let b = Batch::new(&[utterances.as_slice(), second.as_slice()], [4, 4, 3, 3], Device::Cpu);
    let out = model.forward(&b, true);
    model.losses(&b, &out).total.backward();
    let mut dead = Vec::new();
    for (name, v) in vs.variables() {
        let g = v.grad();
        if !g.defined() || g.abs().sum(Kind::Float).double_value(&[]) == 0.0 {
            dead.push(name);
        }
    }
    assert!(dead.is_empty(), "parameters without gradient: {dead:?}");
}

#[test]
fn any_subset_of_modalities_gets_a_prediction() {
    common::init();
    tch::manual_seed(6);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Amuse::new(&vs.root(), tiny());
    let t = || Some(Tensor::randn([3, 4], (Kind::Float, Device::Cpu)));
    let a = || Some(Tensor::randn([2, 4], (Kind::Float, Device::Cpu)));
    let f = || Some(Tensor::randn([2, 3], (Kind::Float, Device::Cpu)));
    let cases: Vec<UtteranceInput> = vec![
        UtteranceInput {
            text: t(),
            audio: None,
            face: None,
            back: None,
            speaker: None,
            label: None,
        },
        UtteranceInput {
            text: None,
            audio: a(),
            face: None,
            back: None,
            speaker: None,
            label: None,
        },
        UtteranceInput {
            text: None,
            audio: None,
            face: f(),
            back: f(),
            speaker: None,
            label: None,
        },
        UtteranceInput {
            text: t(),
            audio: a(),
            face: f(),
            back: f(),
            speaker: None,
            label: None,
        },
    ];
    let b = Batch::new(&[cases.as_slice()], [4, 4, 3, 3], Device::Cpu);
    let probs = tch::no_grad(|| model.forward(&b, false).logits.softmax(-1, Kind::Float));
    assert_eq!(probs.size(), [4, 7]);
    let sums = probs.sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
    assert!((sums - 1.0).abs().max().double_value(&[]) < 1e-5);
    assert_eq!(probs.isfinite().all().int64_value(&[]), 1);
}

#[test]
fn an_utterance_encoded_alone_gets_its_descriptor_within_the_dialogue() {
    common::init();
    tch::manual_seed(8);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Amuse::new(&vs.root(), tiny());
    let data: Vec<UtteranceInput> = xor_data(5, true, 9).into_iter().flatten().collect();
    let whole = Batch::new(&[data.as_slice()], [4, 4, 3, 3], Device::Cpu);
    let all = tch::no_grad(|| model.encode(&whole, false).fused);
    let alone = Batch::new(&[&data[2..3]], [4, 4, 3, 3], Device::Cpu);
    let one = tch::no_grad(|| model.encode(&alone, false).fused);
    assert!((all.get(2) - one.get(0)).abs().max().double_value(&[]) < 1e-5);
    // And the context classifier over those descriptors is the full forward pass.
    let logits = tch::no_grad(|| model.classify(&all, &whole.dialogues, &whole.speakers));
    let full = tch::no_grad(|| model.forward(&whole, false).logits);
    assert!((logits - full).abs().max().double_value(&[]) < 1e-6);
}
