//! Tests of `image.rs` (kept apart to keep the module short).
use super::super::engine::FeatureSelection;
use super::*;
use crate::lime::slic::enforce_connectivity;

/// Four flat quadrants split at x = 23 and y = 37 (off the SLIC grid), with mild texture.
fn quadrants() -> RgbImage {
    RgbImage::from_fn(60, 60, |x, y| {
        let base: [u8; 3] = match (x < 23, y < 37) {
            (true, true) => [200, 30, 30],
            (false, true) => [30, 180, 40],
            (true, false) => [40, 50, 200],
            (false, false) => [230, 220, 60],
        };
        Rgb(base.map(|c| c.saturating_add(((x * 7 + y * 13) % 9) as u8)))
    })
}

fn textured(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            ((x * 37 + y * 91) % 256) as u8,
            ((x * x + y * 7) % 256) as u8,
            ((x * y) % 256) as u8,
        ])
    })
}

/// 3 × 3 grid of equal blocks on a 48 × 48 image.
fn grid() -> Segments {
    Segments::from_labels(
        48,
        48,
        (0..48 * 48).map(|i| (i / 48 / 16) * 3 + (i % 48) / 16).collect(),
    )
    .unwrap()
}

#[test]
fn slic_finds_compact_segments_that_respect_colour_edges() {
    let img = quadrants();
    let seg = slic(
        &img,
        &SlicParams {
            n_segments: 16,
            ..SlicParams::default()
        },
    );
    assert!((8..=32).contains(&seg.count), "asked for 16, got {}", seg.count);
    let step = (60.0 * 60.0 / 16.0f64).sqrt();
    for s in 0..seg.count {
        let px: Vec<(u32, u32)> = (0..60u32)
            .flat_map(|y| (0..60u32).map(move |x| (x, y)))
            .filter(|&(x, y)| seg.label(x, y) == s)
            .collect();
        assert!(!px.is_empty(), "label {s} unused");
        let mut quads = [0usize; 4];
        px.iter()
            .for_each(|&(x, y)| quads[usize::from(x < 23) * 2 + usize::from(y < 37)] += 1);
        let purity = *quads.iter().max().unwrap() as f64 / px.len() as f64;
        assert!(purity >= 0.97, "segment {s} straddles a colour edge: {quads:?}");
        let (xs, ys) = (px.iter().map(|p| p.0), px.iter().map(|p| p.1));
        let (wx, wy) = (
            xs.clone().max().unwrap() - xs.min().unwrap(),
            ys.clone().max().unwrap() - ys.min().unwrap(),
        );
        assert!(
            f64::from(wx.max(wy)) <= 3.0 * step,
            "segment {s} is not compact: {wx}×{wy}"
        );
    }
    // Connectivity: flood from one pixel of each label reaches all of it.
    let sizes = (0..seg.count).map(|s| seg.labels.iter().filter(|&&l| l == s).count());
    let comps = enforce_connectivity(&vec![[0.0; 3]; 3600], &seg.labels, 60, 60, 0);
    assert_eq!(comps.1, seg.count, "a label is split into pieces");
    assert!(
        sizes.clone().all(|n| n >= (0.5 * step * step) as usize),
        "tiny pieces were merged: {:?}",
        sizes.collect::<Vec<_>>()
    );
    assert_eq!(
        seg,
        slic(
            &img,
            &SlicParams {
                n_segments: 16,
                ..SlicParams::default()
            }
        ),
        "deterministic"
    );
}

#[test]
fn slic_on_flat_and_tiny_images() {
    let flat = RgbImage::from_pixel(30, 20, Rgb([90, 90, 90]));
    let seg = slic(
        &flat,
        &SlicParams {
            n_segments: 6,
            ..SlicParams::default()
        },
    );
    assert!(
        (3..=12).contains(&seg.count),
        "flat image still gets a grid: {}",
        seg.count
    );
    assert_eq!(slic(&RgbImage::new(1, 1), &SlicParams::default()).count, 1);
    assert_eq!(slic(&RgbImage::new(0, 0), &SlicParams::default()).count, 0);
}

#[test]
fn perturb_fills_switched_off_segments_with_their_truncated_mean() {
    let (img, seg) = (textured(48, 48), grid());
    let p = ImagePerturber::new(&img, &seg).unwrap();
    let mut sum = [0u64; 3];
    for (x, y, px) in img.enumerate_pixels().filter(|(x, y, _)| seg.label(*x, *y) == 4) {
        assert_eq!(seg.label(x, y), 4);
        (0..3).for_each(|c| sum[c] += u64::from(px[c]));
    }
    let mean = Rgb(sum.map(|s| (s / 256) as u8));
    assert_eq!(p.mean_colours()[4], mean);
    let mut mask = vec![true; 9];
    mask[4] = false;
    let out = p.perturb(&mask);
    for (x, y, px) in out.enumerate_pixels() {
        assert_eq!(
            *px,
            if seg.label(x, y) == 4 {
                mean
            } else {
                *img.get_pixel(x, y)
            }
        );
    }
    assert_eq!(p.perturb(&[true; 9]), img);
    assert!(ImagePerturber::new(&textured(10, 10), &seg).is_err());
    // Mean 127.5 becomes 127, not 128, as numpy's uint8 cast does.
    let (bw, two) = (
        RgbImage::from_fn(2, 1, |x, _| Rgb([255 * x as u8; 3])),
        Segments::from_labels(2, 1, vec![0, 0]).unwrap(),
    );
    assert_eq!(
        ImagePerturber::new(&bw, &two).unwrap().perturb(&[false]),
        RgbImage::from_pixel(2, 1, Rgb([127; 3]))
    );
}

#[test]
fn scraps_merge_into_the_nearest_coloured_neighbour() {
    // Columns 0-2: cluster 0 (dark); column 3: a 4-pixel strip of cluster 2 (bright);
    // columns 4-7: cluster 1 (bright). The strip is too small and joins the bright side.
    let (w, h) = (8, 4);
    let assign: Vec<usize> = (0..w * h)
        .map(|i| match i % w {
            0..=2 => 0,
            3 => 2,
            _ => 1,
        })
        .collect();
    let lab: Vec<[f64; 3]> = (0..w * h)
        .map(|i| if i % w < 3 { [10.0, 0.0, 0.0] } else { [90.0, 5.0, 5.0] })
        .collect();
    let (labels, count) = enforce_connectivity(&lab, &assign, w, h, 6);
    assert_eq!(count, 2);
    assert!((0..w * h).all(|i| labels[i] == usize::from(i % w >= 3)), "{labels:?}");
    // On texture, raw SLIC leaves disconnected scraps; none survive the merge.
    let seg = slic(
        &textured(48, 48),
        &SlicParams {
            n_segments: 9,
            ..SlicParams::default()
        },
    );
    let min = (0.5 * 256.0) as usize;
    assert!((0..seg.count).all(|s| seg.labels.iter().filter(|&&l| l == s).count() >= min));
}

#[test]
fn recovers_weights_of_a_segment_presence_classifier() {
    let (img, seg) = (textured(48, 48), grid());
    let w = [0.2, -0.1, 0.0, 0.05, 0.3, -0.15, 0.0, 0.1, -0.05];
    let mut inputs = 0;
    let classifier = |batch: &[RgbImage]| {
        assert!(batch.len() <= 10);
        inputs += batch.len();
        Ok::<_, BoxError>(
            batch
                .iter()
                .map(|im| {
                    let kept = |s: usize| {
                        im.enumerate_pixels()
                            .filter(|(x, y, _)| seg.label(*x, *y) == s)
                            .all(|(x, y, p)| p == img.get_pixel(x, y))
                    };
                    let p = 0.3 + (0..9).filter(|&s| kept(s)).map(|s| w[s]).sum::<f64>();
                    vec![1.0 - p, p]
                })
                .collect(),
        )
    };
    let cfg = LimeConfig {
        num_samples: 3000,
        feature_selection: FeatureSelection::None,
        ..LimeConfig::image()
    };
    let ex = explain_image(&img, &seg, &Labels::Given(vec![1]), &cfg, classifier).unwrap();
    assert!(ex.neighbourhood.evaluated <= 512 && inputs == ex.neighbourhood.evaluated);
    for (row, d) in ex.neighbourhood.data.iter().zip(&ex.neighbourhood.distances) {
        let on = row.iter().filter(|b| **b).count() as f64;
        assert!((d - (1.0 - (on / 9.0).sqrt())).abs() < 1e-12, "plain cosine distance");
    }
    let e = &ex.explanations[0];
    for (s, ws) in w.iter().enumerate() {
        assert!(
            (e.weight_of(s) - ws).abs() < 0.01,
            "segment {s}: {} vs {ws}",
            e.weight_of(s)
        );
    }
    assert!(e.score > 0.999 && (e.local_pred - 0.65).abs() < 0.01, "{e:?}");
    // Default image settings keep every segment (num_features = 100000 → highest weights).
    let all = explain_image(
        &img,
        &seg,
        &Labels::Top(1),
        &LimeConfig {
            num_samples: 300,
            ..LimeConfig::image()
        },
        |b: &[RgbImage]| Ok::<_, BoxError>(b.iter().map(|_| vec![0.5, 0.5]).collect()),
    );
    assert_eq!(all.unwrap().explanations[0].weights.len(), 9);
}

#[test]
fn overlay_tints_by_sign_and_magnitude() {
    let img = RgbImage::from_pixel(6, 2, Rgb([100, 100, 100]));
    let seg = Segments::from_labels(6, 2, (0..12).map(|i| (i % 6) / 2).collect()).unwrap();
    let out = render_overlay(&img, &seg, &[(0, 0.5), (1, -0.25)], 0.6, false);
    assert_eq!(
        *out.get_pixel(0, 0),
        Rgb([40, 193, 40]),
        "positive: green at full alpha 0.6"
    );
    assert_eq!(
        *out.get_pixel(2, 1),
        Rgb([147, 70, 70]),
        "negative: red at half the alpha"
    );
    assert_eq!(
        *out.get_pixel(5, 0),
        Rgb([100, 100, 100]),
        "unweighted segment untouched"
    );
    let outlined = render_overlay(&img, &seg, &[(0, 0.5)], 0.6, true);
    assert_eq!(
        *outlined.get_pixel(1, 0),
        Rgb([255, 255, 0]),
        "border of a tinted segment"
    );
    assert_eq!(render_overlay(&img, &seg, &[], 0.6, true), img);
}
