//! AF learning (Section III-E2, Eq. 6) in the trainer: α' points the way the Central head's
//! loss falls, the update keeps α in [0, 1], touches only the pairs the pool has, and the
//! trainer runs it after each epoch on the pool it is given.

use crate::common;

use amuse::model::amuse::Amuse;
use amuse::model::batch::UtteranceInput;
use amuse::model::config::{Config, FusionMode};
use amuse::model::fusion::eq6_rows;
use amuse::train::af_learning::{self, head_gradient, AfOptions};
use amuse::train::data::Corpus;
use amuse::train::{self, TrainOptions};
use rand::SeedableRng;
use tch::{nn, Device, Kind, Tensor};

fn tiny() -> Config {
    Config {
        man_layers: 1,
        fusion: FusionMode::Guided,
        ..common::tiny_config()
    }
}

/// One-utterance dialogues with text and audio; the label follows the audio's sign.
fn corpus(n: usize, seed: i64) -> Corpus {
    tch::manual_seed(seed);
    let dialogues = (0..n)
        .map(|_| {
            let t = Tensor::randn([3, 4], (Kind::Float, Device::Cpu));
            let a = Tensor::randn([4, 4], (Kind::Float, Device::Cpu));
            let s = a.double_value(&[0, 0]) > 0.0;
            let a = a.ones_like() * if s { 1.0 } else { -1.0 } + a * 0.3;
            vec![UtteranceInput {
                text: Some(t),
                audio: Some(a),
                face: None,
                back: None,
                speaker: Some("s".into()),
                label: Some(if s { 4 } else { 0 }),
            }]
        })
        .collect();
    Corpus {
        name: "synthetic".into(),
        dialogues,
        copies: 0,
    }
}

#[test]
fn eq6_points_alpha_the_way_the_loss_falls() {
    common::init();
    tch::manual_seed(11);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Amuse::new(&vs.root(), tiny());
    let f_own = Tensor::randn([64, 16], (Kind::Float, Device::Cpu));
    let f_other = Tensor::randn([64, 16], (Kind::Float, Device::Cpu));
    let y = Tensor::randint(7, [64], (Kind::Int64, Device::Cpu));
    let grad = head_gradient(&model, 0, &f_own, &y);
    let alpha: Vec<f64> = Vec::try_from(eq6_rows(&f_own, &f_other, &grad, 1.0).to_kind(Kind::Double)).unwrap();
    // The loss of each row after a small step from f_own toward f_other.
    let loss = |f: &Tensor| -> Vec<f64> {
        let l = tch::no_grad(|| {
            model
                .central_logits(0, f)
                .cross_entropy_loss::<Tensor>(&y, None, tch::Reduction::None, -100, 0.0)
        });
        Vec::try_from(l.to_kind(Kind::Double)).unwrap()
    };
    let before = loss(&f_own);
    let after = loss(&(&f_own + (&f_other - &f_own) * 1e-3));
    let (mut toward, mut away) = (0, 0);
    for i in 0..64 {
        assert!((0.0..=1.0).contains(&alpha[i]));
        if alpha[i] > 1e-3 {
            toward += 1;
            assert!(after[i] < before[i], "row {i}: α' = {} but the loss rises", alpha[i]);
        } else if alpha[i] == 0.0 {
            away += 1;
            assert!(after[i] >= before[i] - 1e-9, "row {i}: α' = 0 but the loss falls");
        }
    }
    assert!(
        toward > 5 && away > 5,
        "both directions occur: {toward} toward, {away} away"
    );
}

#[test]
fn the_update_moves_only_present_pairs_and_keeps_alpha_in_unit_interval() {
    common::init();
    tch::manual_seed(12);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Amuse::new(&vs.root(), tiny());
    let pool = corpus(48, 13);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let opts = AfOptions {
        delta: 0.5,
        rate: 1.0,
        ..AfOptions::default()
    };
    let step = af_learning::update(&model, &[&pool], &opts, &mut rng, Device::Cpu);
    assert_eq!(step.examined, 48);
    assert!(step.informative > 0 && step.informative <= 48, "{step:?}");
    let a = &step.alpha;
    for row in a {
        for &x in row {
            assert!((0.0..=1.0).contains(&x));
        }
    }
    // No utterance has the visual modality: its pairs keep the starting 0.5.
    for (m, mi) in [(0, 2), (1, 2), (2, 0), (2, 1)] {
        assert_eq!(a[m][mi], 0.5, "pair ({m}, {mi})");
    }
    assert!(a[0][1] != 0.5 || a[1][0] != 0.5, "text/audio pairs moved: {a:?}");
}

#[test]
fn the_trainer_runs_eq6_after_each_epoch_on_the_held_out_pool() {
    common::init();
    tch::manual_seed(14);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = Amuse::new(&vs.root(), tiny());
    let (rest, pool) = af_learning::hold_out(corpus(80, 15), 0.25, 3);
    assert_eq!((rest.dialogues.len(), pool.dialogues.len()), (60, 20));
    let dev = corpus(20, 16);
    let opts = TrainOptions {
        epochs: 2,
        batch: 8,
        lr: 3e-3,
        ..Default::default()
    };
    let history = train::fit(&model, &mut vs, &[&rest], &[&pool], &[&dev], &opts, &mut |_| {}).unwrap();
    assert_eq!(history.len(), 2);
    for h in &history {
        let af = h.af.as_ref().expect("an Eq. 6 step per epoch");
        assert_eq!(af.examined, 20);
    }
    // α is not trained by the optimiser in this mode.
    assert!(!model.fusion.alpha.requires_grad());
}
