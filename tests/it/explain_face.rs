//! LIME on a real face with the real expression CNN: the smiling astronaut (scikit-image's
//! `astronaut`, public domain) reads as joy, and the mouth region is what supports it.

use crate::common;

use amuse::analysis::Analyzer;
use amuse::emotion::Emotion;

#[test]
fn the_smile_supports_joy_on_the_astronaut() {
    common::init();
    let analyzer = Analyzer::load(tch::Device::Cpu).unwrap();
    let frame = image::open(common::store().root().join("golden/mtcnn_astronaut.png"))
        .unwrap()
        .to_rgb8();
    let e = analyzer.explain_face(&frame, 0.0, None, 300, 0).unwrap();
    for r in &e.regions {
        eprintln!("{:>18} {:+.4}  {}", r.name, r.weight, r.action_units);
    }
    eprintln!(
        "{:?} p={:.3} R²={:.3} evaluated {} in {:.2}s",
        e.label, e.probability, e.score, e.evaluated, e.seconds
    );
    assert_eq!(e.label, Emotion::Joy);
    let mouth = e.regions.iter().find(|r| r.name == "mouth").unwrap().weight;
    let best = e.regions.iter().map(|r| r.weight).fold(f64::MIN, f64::max);
    assert!(mouth > 0.0 && mouth == best, "the mouth region supports joy most");
    assert_eq!(e.labels.len() as u32, (e.crop[2] - e.crop[0]) * (e.crop[3] - e.crop[1]));
    assert!(e.evaluated <= 64, "6 regions: at most 2^6 distinct patterns");
    // Same seed, same explanation.
    let again = analyzer.explain_face(&frame, 0.0, None, 300, 0).unwrap();
    assert_eq!(again.regions, e.regions);
    let overlay = e.overlay(&frame).unwrap();
    assert_eq!(overlay.width(), e.crop[2] - e.crop[0]);
}
