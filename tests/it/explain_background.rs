//! Issue 9: a small model trained on a synthetic task where the background colour decides
//! the label; LIME on background superpixels must mark the background green and leave the
//! foreground object (irrelevant by construction) near zero.

use amuse::lime::engine::{Labels, LimeConfig};
use amuse::lime::image::{explain_image_with, slic, Fill, SlicParams};
use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

const SIDE: u32 = 32;

/// A scene: warm (label 1) or cool (label 0) background with noise, and an object of a
/// random colour at a random place.
fn scene(rng: &mut ChaCha8Rng, warm: bool, object: Option<(u32, u32, Rgb<u8>)>) -> RgbImage {
    let (x0, y0, colour) = object.unwrap_or_else(|| {
        let c = Rgb([rng.random(), rng.random(), rng.random()]);
        (rng.random_range(2..SIDE - 12), rng.random_range(2..SIDE - 12), c)
    });
    let base: [i32; 3] = if warm { [200, 80, 60] } else { [60, 90, 200] };
    RgbImage::from_fn(SIDE, SIDE, |x, y| {
        if (x0..x0 + 10).contains(&x) && (y0..y0 + 10).contains(&y) {
            colour
        } else {
            Rgb(base.map(|b| (b + rng.random_range(-25..=25)).clamp(0, 255) as u8))
        }
    })
}

fn tensor(images: &[RgbImage]) -> Tensor {
    let flat: Vec<f32> = images
        .iter()
        .flat_map(|im| im.as_raw().iter().map(|&v| f32::from(v) / 255.0))
        .collect();
    Tensor::from_slice(&flat).view([images.len() as i64, -1])
}

#[test]
fn the_background_that_decides_the_label_is_marked_green() {
    tch::manual_seed(0);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = nn::seq()
        .add(nn::linear(
            vs.root(),
            i64::from(SIDE * SIDE * 3),
            16,
            Default::default(),
        ))
        .add_fn(|x| x.relu())
        .add(nn::linear(vs.root(), 16, 2, Default::default()));
    let mut opt = nn::Adam::default().build(&vs, 1e-3).unwrap();
    let labels: Vec<bool> = (0..256).map(|i| i % 2 == 0).collect();
    let images: Vec<RgbImage> = labels.iter().map(|&w| scene(&mut rng, w, None)).collect();
    let (x, y) = (
        tensor(&images),
        Tensor::from_slice(&labels.iter().map(|&w| i64::from(w)).collect::<Vec<_>>()),
    );
    for _ in 0..30 {
        let loss = net.forward(&x).cross_entropy_for_logits(&y);
        opt.backward_step(&loss);
    }
    let accuracy = net
        .forward(&x)
        .argmax(-1, false)
        .eq_tensor(&y)
        .to_kind(Kind::Float)
        .mean(Kind::Float);
    assert!(accuracy.double_value(&[]) > 0.99, "the model learns the task");

    // A warm scene with a green object in the middle, explained for "warm".
    let image = scene(&mut rng, true, Some((11, 11, Rgb([40, 220, 40]))));
    let segments = slic(
        &image,
        &SlicParams {
            n_segments: 16,
            ..Default::default()
        },
    );
    let cfg = LimeConfig {
        num_samples: 600,
        seed: 3,
        ..LimeConfig::image()
    };
    let classify = |batch: &[RgbImage]| -> Result<Vec<Vec<f64>>, std::convert::Infallible> {
        let p = tch::no_grad(|| net.forward(&tensor(batch)).softmax(-1, Kind::Float));
        Ok(Vec::<Vec<f32>>::try_from(p)
            .unwrap()
            .into_iter()
            .map(|r| r.into_iter().map(f64::from).collect())
            .collect())
    };
    let grey = Fill::Colour(Rgb([128, 128, 128]));
    let e = explain_image_with(&image, &segments, grey, &Labels::Given(vec![1]), &cfg, classify).unwrap();
    let weights = &e.explanations[0].weights;
    let weight = |s: usize| weights.iter().find(|(k, _)| *k == s).map_or(0.0, |(_, w)| *w);
    // Share of each segment's pixels inside the object.
    let mut inside = vec![(0usize, 0usize); segments.count];
    for y in 0..SIDE {
        for x in 0..SIDE {
            let s = segments.label(x, y);
            inside[s].1 += 1;
            inside[s].0 += usize::from((11..21).contains(&x) && (11..21).contains(&y));
        }
    }
    let background: Vec<usize> = (0..segments.count).filter(|&s| inside[s].0 == 0).collect();
    let object: Vec<usize> = (0..segments.count).filter(|&s| 2 * inside[s].0 > inside[s].1).collect();
    assert!(!background.is_empty() && !object.is_empty(), "{inside:?}");
    let bg_mean = background.iter().map(|&s| weight(s)).sum::<f64>() / background.len() as f64;
    let obj_max = object.iter().map(|&s| weight(s).abs()).fold(0.0, f64::max);
    eprintln!(
        "background mean weight {bg_mean:.4}, object |w| max {obj_max:.4}, R² {:.3}",
        e.explanations[0].score
    );
    assert!(bg_mean > 0.0, "background segments support 'warm'");
    assert!(
        background.iter().all(|&s| weight(s) > 0.0),
        "every background segment is green"
    );
    assert!(
        obj_max < bg_mean,
        "the object matters less than an average background segment"
    );
}
