//! Tests of `lime.rs` (kept apart to keep the module short).
use super::*;

fn text_cfg(num_features: usize, fs: FeatureSelection) -> LimeConfig {
    LimeConfig {
        num_features,
        feature_selection: fs,
        ..LimeConfig::text()
    }
}

/// Deterministic neighbourhood also built in Python to produce the reference's numbers.
fn gold_data() -> (Vec<Vec<bool>>, Vec<Vec<f64>>, Vec<f64>) {
    let data: Vec<Vec<bool>> = (0..300)
        .map(|i| {
            (0..8)
                .map(|j| i == 0 || (i * i * 7 + i * (j + 1) * 13 + j * 5) % 11 < 6)
                .collect()
        })
        .collect();
    let x = |r: &Vec<bool>, j: usize| f64::from(u8::from(r[j]));
    let probs = data
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let y = 0.1 + 0.3 * x(r, 0) - 0.2 * x(r, 2)
                + 0.15 * x(r, 0) * x(r, 3)
                + 0.1 * x(r, 5) * x(r, 6)
                + 0.02 * ((i * 37) % 13) as f64 / 13.0;
            vec![y, 1.0 - y]
        })
        .collect();
    let distances = cosine_distances(&data).iter().map(|d| d * 100.0).collect();
    (data, probs, distances)
}

/// Selection, num_features, intercept, weights, score, local_pred.
type Gold = (FeatureSelection, usize, f64, &'static [(usize, f64)], f64, f64);

#[test]
fn matches_reference_lime_numbers() {
    // Printed by lime 0.2.0.1 (scikit-learn 1.9.1) `LimeBase.explain_instance_with_data`
    // on `gold_data()`, label 0, kernel width 25.
    #[rustfmt::skip]
    let cases: [Gold; 5] = [
        (FeatureSelection::Forward, 3, 0.04904286357944965,
         &[(0, 0.3897336241967131), (2, -0.17407703061631605), (3, 0.11075512063199137)],
         0.9434079824079815, 0.37545457779183805),
        (FeatureSelection::HighestWeights, 3, -0.12714906790292568,
         &[(0, 0.3882168235065773), (3, 0.13057162049227802), (4, 0.08184299003147004)],
         0.8350599847912814, 0.4734823661273997),
        (FeatureSelection::Auto, 8, -0.09944845049880602,
         &[(0, 0.43413678877591505), (2, -0.16933685771191245), (3, 0.14046006609277786),
           (4, 0.1031179273377532), (7, 0.08793868245326739), (6, -0.04338482368934262),
           (5, -0.03740704636731768), (1, 0.03112092296874259)],
         0.9919747958694978, 0.4471972093610772),
        // `auto` switches from forward selection to highest weights above 6 features.
        (FeatureSelection::Auto, 6, -0.08739592091601067,
         &[(0, 0.4226487636856661), (2, -0.1715529796511776), (3, 0.12252920156886654),
           (4, 0.06798168051865514), (7, 0.06124740620665487), (1, 0.035512963390252596)],
         0.987053050588162, 0.45097111480290697),
        (FeatureSelection::Auto, 7, -0.0756567156730455,
         &[(0, 0.43233041304029884), (2, -0.16837630860813313), (3, 0.13575370423039604),
           (4, 0.09972036498064346), (7, 0.09754701929339632), (6, -0.051125291645889595),
           (5, -0.03155153269139559)],
         0.9889760557657374, 0.4386416529262707),
    ];
    let (data, probs, distances) = gold_data();
    for (fs, k, intercept, weights, score, local_pred) in cases {
        let e = explain(&data, &probs, &distances, 0, &text_cfg(k, fs)).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(
            close(e.intercept, intercept),
            "{fs:?}: intercept {} vs {intercept}",
            e.intercept
        );
        assert_eq!(
            e.weights.iter().map(|w| w.0).collect::<Vec<_>>(),
            weights.iter().map(|w| w.0).collect::<Vec<_>>()
        );
        assert!(
            e.weights.iter().zip(weights).all(|(a, b)| close(a.1, b.1)),
            "{fs:?}: {:?}",
            e.weights
        );
        assert!(
            close(e.score, score) && close(e.local_pred, local_pred),
            "{fs:?}: {e:?}"
        );
    }
    let none = explain(&data, &probs, &distances, 1, &text_cfg(3, FeatureSelection::None)).unwrap();
    assert!((none.intercept - 1.0994484504988065).abs() < 1e-9 && none.weights.len() == 8);
}

/// p = b + Σ wᵢ·xᵢ on sampled masks.
fn linear_probs(data: &[Vec<bool>], b: f64, w: &[f64]) -> Vec<Vec<f64>> {
    data.iter()
        .map(|r| {
            let p = b + r.iter().zip(w).filter(|(x, _)| **x).map(|(_, w)| w).sum::<f64>();
            vec![p, 1.0 - p]
        })
        .collect()
}

#[test]
fn recovers_weights_of_a_linear_classifier() {
    let w = [0.3, -0.2, 0.0, 0.15, -0.05, 0.1, 0.0, 0.05];
    let data = sample_text_masks(w.len(), 5000, &mut rng_from_seed(7));
    let probs = linear_probs(&data, 0.1, &w);
    let dist: Vec<f64> = cosine_distances(&data).iter().map(|d| d * 100.0).collect();
    for label in [0, 1] {
        let e = explain(&data, &probs, &dist, label, &text_cfg(10, FeatureSelection::None)).unwrap();
        let sign = if label == 0 { 1.0 } else { -1.0 };
        for (j, wj) in w.iter().enumerate() {
            assert!(
                (e.weight_of(j) - sign * wj).abs() < 0.01,
                "feature {j}: {} vs {wj}",
                e.weight_of(j)
            );
        }
        assert!(e.score > 0.999, "R² {}", e.score);
        assert!((e.local_pred - probs[0][label]).abs() < 0.01);
        assert!((e.intercept - if label == 0 { 0.1 } else { 0.9 }).abs() < 0.01);
        assert!(
            e.weights.windows(2).all(|p| p[0].1.abs() >= p[1].1.abs()),
            "sorted by |weight|"
        );
    }
}

#[test]
fn forward_and_highest_weights_pick_the_influential_features() {
    let mut w = vec![0.01; 12];
    (w[3], w[7], w[10]) = (0.4, -0.3, 0.2);
    let mut rng = rng_from_seed(3);
    let data = sample_text_masks(w.len(), 3000, &mut rng);
    let mut probs = linear_probs(&data, 0.2, &w);
    for p in &mut probs {
        p[0] += rng.random_range(-0.05..0.05);
    }
    let dist: Vec<f64> = cosine_distances(&data).iter().map(|d| d * 100.0).collect();
    for (fs, k) in [
        (FeatureSelection::Forward, 3),
        (FeatureSelection::Auto, 3),
        (FeatureSelection::HighestWeights, 3),
    ] {
        let e = explain(&data, &probs, &dist, 0, &text_cfg(k, fs)).unwrap();
        assert_eq!(
            e.weights.iter().map(|w| w.0).collect::<Vec<_>>(),
            vec![3, 7, 10],
            "{fs:?}"
        );
    }
    let e = explain(&data, &probs, &dist, 0, &text_cfg(8, FeatureSelection::Auto)).unwrap();
    assert_eq!(e.weights.len(), 8);
    assert_eq!(e.weights[..3].iter().map(|w| w.0).collect::<Vec<_>>(), vec![3, 7, 10]);
}

#[test]
fn text_sampling_matches_reference_distribution() {
    let (d, n) = (6, 60_001);
    let data = sample_text_masks(d, n, &mut rng_from_seed(11));
    assert!(data[0].iter().all(|&b| b));
    let mut by_k = vec![0.0; d + 1];
    let mut off = vec![0.0; d];
    for row in &data[1..] {
        by_k[row.iter().filter(|b| !**b).count()] += 1.0;
        row.iter()
            .enumerate()
            .filter(|(_, b)| !**b)
            .for_each(|(j, _)| off[j] += 1.0);
    }
    assert_eq!(by_k[0], 0.0, "at least one feature is always switched off");
    let chi2 = |obs: &[f64], exp: f64| obs.iter().map(|o| (o - exp).powi(2) / exp).sum::<f64>();
    // 5 degrees of freedom: P(χ² > 20.5) = 0.001.
    assert!(
        chi2(&by_k[1..], (n - 1) as f64 / d as f64) < 20.5,
        "k not uniform: {by_k:?}"
    );
    let total: f64 = off.iter().sum();
    assert!(
        chi2(&off, total / d as f64) < 20.5,
        "features not chosen uniformly: {off:?}"
    );
    assert!((total / (n - 1) as f64 - 3.5).abs() < 0.05, "E[k] = (d+1)/2");
}

#[test]
fn image_sampling_is_bernoulli_half() {
    let (d, n) = (20, 20_001);
    let data = sample_image_masks(d, n, &mut rng_from_seed(5));
    assert!(data[0].iter().all(|&b| b));
    let sd = (0.25 / (n - 1) as f64).sqrt();
    for j in 0..d {
        let on = data[1..].iter().filter(|r| r[j]).count() as f64 / (n - 1) as f64;
        assert!((on - 0.5).abs() < 4.0 * sd, "bit {j}: {on}");
        let both = data[1..].iter().filter(|r| r[j] && r[(j + 1) % d]).count() as f64 / (n - 1) as f64;
        assert!(
            (both - 0.25).abs() < 4.0 * sd,
            "bits {j},{} not independent: {both}",
            (j + 1) % d
        );
    }
}

#[test]
fn seeds_make_runs_reproducible() {
    let masks = |seed| sample_text_masks(15, 500, &mut rng_from_seed(seed));
    assert_eq!(masks(1), masks(1));
    assert_ne!(masks(1), masks(2));
    let run = |seed| {
        let data = masks(seed);
        let probs = linear_probs(&data, 0.0, &[0.1; 15]);
        let dist = cosine_distances(&data);
        explain(&data, &probs, &dist, 0, &LimeConfig::text()).unwrap()
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10));
}

#[test]
fn distances_and_kernel() {
    let data = vec![
        vec![true; 4],
        vec![true, false, false, false],
        vec![false; 4],
        vec![true; 4],
    ];
    let d = cosine_distances(&data);
    assert!(d[0].abs() < 1e-12 && d[3].abs() < 1e-12);
    assert!((d[1] - 0.5).abs() < 1e-12, "1 - sqrt(1/4)");
    assert_eq!(d[2], 1.0, "zero vector: similarity 0");
    assert_eq!(kernel(0.0, 25.0), 1.0);
    assert!((kernel(25.0, 25.0) - (-0.5f64).exp()).abs() < 1e-15);
}

#[test]
fn constant_classifier_and_bad_inputs() {
    let data = sample_text_masks(5, 200, &mut rng_from_seed(0));
    let probs = vec![vec![0.25, 0.75]; 200];
    let dist = cosine_distances(&data);
    let e = explain(&data, &probs, &dist, 1, &LimeConfig::text()).unwrap();
    assert!(e.weights.iter().all(|w| w.1.abs() < 1e-12) && (e.intercept - 0.75).abs() < 1e-12);
    assert_eq!(
        e.score, 1.0,
        "scikit-learn's r2_score of a perfect fit to constant labels"
    );
    assert!(matches!(
        explain(&data, &probs, &dist, 2, &LimeConfig::text()),
        Err(LimeError::LabelOutOfRange { label: 2, classes: 2 })
    ));
    assert!(explain(&data, &probs[1..], &dist, 0, &LimeConfig::text()).is_err());
    assert!(explain(&[], &[], &[], 0, &LimeConfig::text()).is_err());
    let bad = LimeConfig {
        kernel_width: 0.0,
        ..LimeConfig::text()
    };
    assert!(explain(&data, &probs, &dist, 0, &bad).is_err());
}

#[test]
fn evaluation_is_batched_and_deduplicated() {
    let keys = [3, 1, 3, 2, 1, 1, 4, 3];
    let mut calls = Vec::new();
    let (out, evaluated) = evaluate_distinct(
        &keys,
        |i| keys[i],
        |batch: &[i32]| {
            calls.push(batch.to_vec());
            Ok::<_, BoxError>(batch.iter().map(|&k| vec![f64::from(k)]).collect())
        },
        3,
    )
    .unwrap();
    assert_eq!(evaluated, 4);
    assert_eq!(calls, vec![vec![3, 1, 2], vec![4]]);
    assert_eq!(out, keys.iter().map(|&k| vec![f64::from(k)]).collect::<Vec<_>>());
    let short = evaluate_distinct(&keys, |i| keys[i], |_: &[i32]| Ok::<_, BoxError>(vec![vec![0.5]]), 2);
    assert!(matches!(short, Err(LimeError::Invalid(_))));
    let failing = evaluate_distinct(&keys, |i| keys[i], |_: &[i32]| Err::<Vec<Vec<f64>>, _>("model down"), 2);
    assert!(matches!(failing, Err(LimeError::Classifier(e)) if e.to_string() == "model down"));
    let nan = evaluate_distinct(
        &keys,
        |i| keys[i],
        |b: &[i32]| Ok::<_, BoxError>(vec![vec![f64::NAN]; b.len()]),
        2,
    );
    assert!(nan.is_err());
}

#[test]
fn top_labels_and_serde() {
    let hood = Neighbourhood {
        data: vec![vec![true], vec![false]],
        probs: vec![vec![0.2, 0.5, 0.3], vec![0.6, 0.1, 0.3]],
        distances: vec![0.0, 100.0],
        evaluated: 2,
    };
    assert_eq!(hood.resolve_labels(&Labels::Top(2)), vec![1, 2]);
    let ex = hood.explain_labels(&Labels::Top(2), &LimeConfig::text()).unwrap();
    assert_eq!(ex.iter().map(|e| e.label).collect::<Vec<_>>(), vec![1, 2]);
    let json = serde_json::to_string(&ex[0]).unwrap();
    assert_eq!(serde_json::from_str::<Explanation>(&json).unwrap(), ex[0]);
}

/// `cargo test -- --ignored --nocapture engine_timing`: sampling, distances and the fit
/// (highest weights + final ridge) for 5000 samples of 15 words; no classifier cost.
#[test]
#[ignore]
fn engine_timing() {
    let cfg = LimeConfig::text();
    let w: Vec<f64> = (0..15).map(|j| (j as f64 - 7.0) / 50.0).collect();
    let reps = 20;
    let start = std::time::Instant::now();
    for seed in 0..reps {
        let data = sample_text_masks(15, cfg.num_samples, &mut rng_from_seed(seed));
        let probs = linear_probs(&data, 0.5, &w);
        let dist: Vec<f64> = cosine_distances(&data).iter().map(|d| d * 100.0).collect();
        std::hint::black_box(explain(&data, &probs, &dist, 0, &cfg).unwrap());
    }
    let per = start.elapsed().as_secs_f64() / reps as f64;
    println!(
        "LIME engine: {:.2} ms per explanation (5000 samples, 15 features)",
        per * 1e3
    );
}
