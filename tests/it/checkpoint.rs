//! The shipped checkpoints (`models/amuse`, `models/amuse-text`, with their text adapter) on
//! held-in dev data: MELD dev from text and context, RAVDESS dev actors (17–20) where only
//! the voice carries the emotion. The figures are the model card's; the bounds sit a little
//! below them so that a regression (a broken loader, a changed encoder, a worse checkpoint)
//! fails.

use crate::common;

use amuse::features::audio::SpeechEncoder;
use amuse::features::text::TextEncoder;
use amuse::model::amuse::Modality;
use amuse::model::checkpoint;
use amuse::train::calibrate;
use amuse::train::corpora::{self, Dataset, Encoders, Sources, Split};
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

/// One dev split of a corpus as the shipped default reads it (`amuse eval --data SET`).
fn dev_corpus(
    store: &amuse::manifest::ModelStore,
    loaded: &checkpoint::Loaded,
    set: Dataset,
    split: Split,
) -> amuse::train::data::Corpus {
    let enc = Encoders::load(store, loaded.info.config.audio_source, loaded.text_adapter.as_ref()).unwrap();
    corpora::load(store, &enc, set, split, &Sources::default()).unwrap()
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
    assert!(loaded.info.reads(Modality::Audio), "the default hears");

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
    // RAVDESS dev has no faces, so this is the audio stage's figure, unchanged by the visual
    // extension: 173 of 240 (0.7208) in the model card; one clip is 0.004.
    assert!(
        fused.accuracy >= RAVDESS_DEV_FLOOR,
        "RAVDESS dev accuracy {:.4}",
        fused.accuracy
    );
}

/// Expected calibration error with the checkpoint's temperatures on MELD dev and RAVDESS dev:
/// 0.037 and 0.048 in the model card; the goal is 0.05.
#[test]
fn meld_dev_and_ravdess_dev_are_calibrated() {
    let store = common::store();
    let loaded = checkpoint::load(&checkpoint::default_dir(), Device::Cpu).unwrap();
    for set in [Dataset::Meld, Dataset::Ravdess] {
        let dev = dev_corpus(&store, &loaded, set, Split::Dev);
        let (raw, calibrated) = calibrate::measure(&loaded.model, &loaded.info.calibration, &dev, Device::Cpu);
        eprintln!("{set:?} dev ECE {:.4} raw / {:.4} calibrated", raw.ece, calibrated.ece);
        assert!(calibrated.ece <= 0.05, "{set:?} dev ECE {:.4}", calibrated.ece);
    }
}

/// The model card's figures for the default: RAVDESS dev (actors 17–20) accuracy, EmoDB dev
/// (speakers 03, 16) accuracy, FER+ Valid through the visual branch (majority labels, face
/// only), and ECE ceilings with the checkpoint's temperatures. Floors sit at or just below
/// the measured figures: a worse checkpoint or a broken encoder fails.
const RAVDESS_DEV_FLOOR: f64 = 0.715; // 0.7208 (173 of 240): one flipped clip allowed
const EMODB_DEV_FLOOR: f64 = 0.68; // 0.6931 (70 of 101): one flipped clip allowed
const FERPLUS_VISUAL_FLOOR: f64 = 0.835; // 0.8415 fused, 0.8427 the visual head
const FERPLUS_ECE_CEILING: f64 = 0.04; // 0.0327 (0.0577 before the temperatures)

#[test]
fn emodb_dev_and_ferplus_valid_scores_and_calibration() {
    let store = common::store();
    let loaded = checkpoint::load(&checkpoint::default_dir(), Device::Cpu).unwrap();
    assert!(loaded.info.reads(Modality::Visual), "the default reads faces");

    let emodb = dev_corpus(&store, &loaded, Dataset::Emodb, Split::Dev);
    let r = evaluate(&loaded.model, &emodb, Device::Cpu);
    let (raw, calibrated) = calibrate::measure(&loaded.model, &loaded.info.calibration, &emodb, Device::Cpu);
    eprintln!(
        "EmoDB dev: accuracy {:.4}, weighted F1 {:.4}, ECE {:.4} raw / {:.4} calibrated",
        r.accuracy, r.weighted_f1, raw.ece, calibrated.ece
    );
    assert_eq!(r.n, 101);
    assert!(r.accuracy >= EMODB_DEV_FLOOR, "EmoDB dev accuracy {:.4}", r.accuracy);
    // 0.082 in the model card, under what a perfectly calibrated model shows on 101 clips
    // by chance (0.094): the audio stage's pools were too small to fit a temperature.
    assert!(calibrated.ece <= 0.10, "EmoDB dev ECE {:.4}", calibrated.ece);
    assert!(
        calibrated.ece <= raw.ece + 1e-9,
        "the temperatures do not hurt on EmoDB dev"
    );

    let faces = dev_corpus(&store, &loaded, Dataset::Ferplus, Split::Dev);
    let r = evaluate(&loaded.model, &faces, Device::Cpu);
    let head = amuse::train::evaluate_head(&loaded.model, &faces, Device::Cpu, Modality::Visual.index()).unwrap();
    eprintln!(
        "FER+ Valid through the checkpoint: fused accuracy {:.4} (w-F1 {:.4}), visual head {:.4}",
        r.accuracy, r.weighted_f1, head.accuracy
    );
    assert_eq!(r.n, 3370);
    assert!(
        r.accuracy >= FERPLUS_VISUAL_FLOOR,
        "FER+ Valid fused accuracy {:.4}",
        r.accuracy
    );
    let (raw, calibrated) = calibrate::measure(&loaded.model, &loaded.info.calibration, &faces, Device::Cpu);
    eprintln!("FER+ Valid ECE {:.4} raw / {:.4} calibrated", raw.ece, calibrated.ece);
    assert!(
        calibrated.ece <= FERPLUS_ECE_CEILING,
        "FER+ Valid ECE {:.4}",
        calibrated.ece
    );
    assert!(
        head.accuracy >= FERPLUS_VISUAL_FLOOR,
        "visual head {:.4}",
        head.accuracy
    );
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
