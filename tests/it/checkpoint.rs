//! The shipped checkpoints (`models/amuse`, `models/amuse-text`, with their text adapter) on
//! held-in dev data: MELD dev from text and context, RAVDESS dev actors (17–20) where only
//! the voice carries the emotion. The figures are the model card's; the bounds sit a little
//! below them so that a regression (a broken loader, a changed encoder, a worse checkpoint)
//! fails.

use crate::common;

use amuse::features::audio::SpeechEncoder;
use amuse::features::text::TextEncoder;
use amuse::model::checkpoint;
use amuse::train::data::{self, AudioEncoderRef};
use amuse::train::evaluate;
use tch::Device;

/// A checkpoint, the text encoder with its adapter merged, and its MELD dev scores.
fn meld_dev(
    store: &amuse::manifest::ModelStore,
    dir: &std::path::Path,
) -> (checkpoint::Loaded, TextEncoder, amuse::metrics::Report) {
    let loaded = checkpoint::load(dir, Device::Cpu).unwrap();
    let text = TextEncoder::load_adapted(store, Device::Cpu, loaded.text_adapter.as_ref()).unwrap();
    let r = evaluate(&loaded.model, &data::meld(store, &text, "dev").unwrap(), Device::Cpu);
    eprintln!(
        "MELD dev ({}): accuracy {:.4}, weighted F1 {:.4}",
        dir.display(),
        r.accuracy,
        r.weighted_f1
    );
    assert_eq!(r.n, 1109);
    (loaded, text, r)
}

/// The text-and-context checkpoint the demo opens (`models/amuse-text`, with its own
/// adapter): MELD dev above the paper's text-only row (0.6041, on test).
#[test]
fn text_checkpoint_meld_dev_score() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/amuse-text");
    let (_, _, r) = meld_dev(&common::store(), &dir);
    // The model card says 0.6071; the bound leaves room for a few flipped predictions on
    // another CPU, and still fails on a regression (the previous checkpoint had 0.5868).
    assert!(r.weighted_f1 > 0.600, "MELD dev weighted F1 {:.4}", r.weighted_f1);
}

#[test]
fn meld_dev_and_ravdess_dev_scores() {
    let store = common::store();
    let (loaded, text, r) = meld_dev(&store, &checkpoint::default_dir());
    // 0.6071 in the model card; the previous default (text and audio trained jointly) had
    // 0.6032, under the paper's text-only row.
    assert!(r.weighted_f1 > 0.6041, "MELD dev weighted F1 {:.4}", r.weighted_f1);
    assert!(
        data::meld(&store, &text, "test").is_err(),
        "the test split stays held out"
    );

    if loaded.info.reads(amuse::model::amuse::Modality::Audio) {
        let speech = SpeechEncoder::load(&store, Device::Cpu).unwrap();
        let mut rav = data::ravdess(&store, &text, &AudioEncoderRef::Whisper(&speech), 17..=20, None).unwrap();
        let fused = evaluate(&loaded.model, &rav, Device::Cpu);
        for d in &mut rav.dialogues {
            d[0].audio = None;
        }
        let text_only = evaluate(&loaded.model, &rav, Device::Cpu);
        eprintln!(
            "RAVDESS dev: fused accuracy {:.4}, text only {:.4}",
            fused.accuracy, text_only.accuracy
        );
        assert_eq!(fused.n, 240);
        assert!(
            fused.accuracy > text_only.accuracy + 0.2,
            "the voice informs the fused prediction"
        );
        assert!(fused.accuracy > 0.65, "RAVDESS dev accuracy {:.4}", fused.accuracy);
    }
}

/// The default checkpoint is `models/amuse-text` extended with audio (`amuse train
/// --extend`): where there is no audio, as in MELD here, it predicts exactly what the text
/// checkpoint predicts, so adding the modality cannot have cost MELD anything.
#[test]
fn the_default_predicts_what_the_text_checkpoint_predicts_without_audio() {
    let store = common::store();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let (default, text_enc, _) = meld_dev(&store, &root.join("amuse"));
    let text = checkpoint::load(&root.join("amuse-text"), Device::Cpu).unwrap();
    assert_eq!(
        default.text_adapter.as_ref().map(|a| &a.sha256),
        text.text_adapter.as_ref().map(|a| &a.sha256),
        "the same text features"
    );
    let dev = data::meld(&store, &text_enc, "dev").unwrap();
    let a = amuse::train::predict(&default.model, &dev, Device::Cpu);
    let b = amuse::train::predict(&text.model, &dev, Device::Cpu);
    assert_eq!(a.len(), 1109);
    let worst = a
        .iter()
        .zip(&b)
        .flat_map(|((_, p), (_, q))| p.iter().zip(q).map(|(x, y)| (x - y).abs()))
        .fold(0.0, f64::max);
    assert!(worst < 1e-6, "probabilities differ by up to {worst}");
}
