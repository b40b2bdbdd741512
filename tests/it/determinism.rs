//! Same input + same seed → identical results on the CPU, bit for bit: features extracted
//! twice from the demo dialogue, the same features after a trip through the feature cache,
//! the model's predictions on them, and LIME word explanations with a fixed seed (and a
//! different seed really changes the explanation, so the seed is what fixes it).

use crate::common;

use amuse::analysis::{load_dialogue, Analyzer};
use amuse::features::cache;
use amuse::features::extract::{extract, ExtractOptions, UtteranceFeatures};
use amuse::progress::CancelToken;
use tch::{Device, Tensor};

fn same(name: &str, a: &Tensor, b: &Tensor) {
    assert_eq!(a.size(), b.size(), "{name}: shape");
    assert!(a.equal(b), "{name}: values differ");
}

fn same_opt(name: &str, a: &Option<Tensor>, b: &Option<Tensor>) {
    match (a, b) {
        (Some(a), Some(b)) => same(name, a, b),
        (None, None) => {}
        _ => panic!("{name}: present in one run only"),
    }
}

fn same_features(what: &str, a: &[UtteranceFeatures], b: &[UtteranceFeatures]) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let n = |m: &str| format!("{what} u{i}.{m}");
        same(&n("text"), &x.text.tokens, &y.text.tokens);
        same_opt(&n("speech"), &x.speech, &y.speech);
        same_opt(&n("sound"), &x.sound, &y.sound);
        same_opt(&n("voice"), &x.voice, &y.voice);
        let (vx, vy) = (x.visual.as_ref().unwrap(), y.visual.as_ref().unwrap());
        same(&n("face"), &vx.face, &vy.face);
        same(&n("back"), &vx.back, &vy.back);
        assert_eq!(vx.keyframes, vy.keyframes, "{}", n("faces"));
    }
}

#[test]
fn same_input_and_seed_give_identical_predictions_and_explanations() {
    common::init();
    let analyzer = Analyzer::load(Device::Cpu).unwrap();
    let mut dialogue = load_dialogue(&common::demo(), None).unwrap();
    dialogue.utterances.truncate(1);
    let opts = ExtractOptions::default();
    let run = || {
        extract(
            &analyzer.encoders,
            Some(&common::demo()),
            &dialogue,
            &opts,
            &mut |_| {},
            &CancelToken::default(),
        )
        .unwrap()
        .0
    };
    let (first, second) = (run(), run());
    assert!(
        first[0].speech.is_some() && first[0].visual.is_some(),
        "all modalities are exercised"
    );
    same_features("two extractions", &first, &second);

    let dir = tempfile::tempdir().unwrap();
    cache::store(dir.path(), "k", &first, &vec![]).unwrap();
    let cached = cache::load(dir.path(), "k").unwrap().0;
    same_features("through the cache", &first, &cached);

    let bits = |p: Vec<[f32; 7]>| p.iter().flatten().map(|v| v.to_bits()).collect::<Vec<u32>>();
    let p1 = bits(analyzer.predict(&dialogue, &first).0);
    assert_eq!(
        p1,
        bits(analyzer.predict(&dialogue, &second).0),
        "predictions, two extractions"
    );
    assert_eq!(
        p1,
        bits(analyzer.predict(&dialogue, &cached).0),
        "predictions, from the cache"
    );

    let explain = |seed| {
        analyzer
            .explain_words(&dialogue, &first, 0, None, 24, seed, &CancelToken::default())
            .unwrap()
    };
    let (a, b, other) = (explain(7), explain(7), explain(8));
    let weights = |e: &amuse::analysis::explain_words::WordExplanation| {
        e.top.iter().map(|(w, v)| (w.clone(), v.to_bits())).collect::<Vec<_>>()
    };
    assert_eq!(weights(&a), weights(&b), "same seed, same word weights");
    assert_eq!(
        (a.fit.intercept.to_bits(), a.fit.score.to_bits()),
        (b.fit.intercept.to_bits(), b.fit.score.to_bits())
    );
    assert_eq!(a.pieces, b.pieces);
    assert_ne!(weights(&a), weights(&other), "another seed samples other perturbations");
}
