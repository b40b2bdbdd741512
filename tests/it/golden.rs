//! Each exported encoder, loaded through tch, reproduces the output Python computed for the
//! same input (`models/pretrained/golden/<name>.safetensors`, written by the export step).
//! This proves the TorchScript files hold the real weights and that our loading path
//! (device, eval mode, tuple outputs) does not change them.

use crate::common;

use std::collections::BTreeMap;

use amuse::torchscript::TorchScript;
use tch::{Device, Tensor};

/// Every model the export is expected to produce; each has a test below.
const ENCODERS: &[&str] = &[
    "text_mpnet",
    "mtcnn_pnet",
    "mtcnn_rnet",
    "mtcnn_onet",
    "face_expression",
    "scene_effnet_lite0",
    "speech_whisper_encoder",
    "speech_whisper_encoder_ctx",
    "speech_whisper_decoder",
    "sound_aisfx",
    "voice_resemblyzer",
];

/// Models checked otherwise than by a golden file: MPNet's two halves for `amuse adapt-text`
/// must compose, with any adapter, to `text_mpnet` with that adapter merged
/// (`tests/it/text_adapter.rs`, on real MELD utterances); the expression encoder the project
/// trained itself (`models/face_expression/`) is scored on FER+ Valid and a real smile
/// (`tests/it/faces.rs`).
const CHECKED_ELSEWHERE: &[&str] = &["text_mpnet_lower", "text_mpnet_upper", "face_expression_ferplus"];

fn check(name: &str) {
    let store = common::store();
    let golden = store
        .golden_of(name)
        .unwrap()
        .unwrap_or_else(|| panic!("{name}: no golden file in manifest"));
    let tensors: BTreeMap<String, Tensor> = Tensor::read_safetensors(&golden).unwrap().into_iter().collect();
    let inputs: Vec<Tensor> = (0..)
        .map_while(|i| tensors.get(&format!("input_{i}")).map(|t| t.shallow_clone()))
        .collect();
    let expected: Vec<Tensor> = (0..)
        .map_while(|i| tensors.get(&format!("output_{i}")).map(|t| t.shallow_clone()))
        .collect();
    assert!(
        !inputs.is_empty() && !expected.is_empty(),
        "{name}: golden file has no input_0/output_0"
    );
    let module = TorchScript::load(&store, name, Device::Cpu).unwrap();
    let outputs = module.forward(&inputs).unwrap();
    assert_eq!(outputs.len(), expected.len(), "{name}: number of outputs");
    for (i, (out, exp)) in outputs.iter().zip(&expected).enumerate() {
        let d = common::assert_close(&format!("{name} output {i}"), out, exp, 1e-4, 1e-4);
        eprintln!("{name} output {i} {:?}: max abs diff {d:e}", out.size());
    }
}

macro_rules! golden_tests {
    ($($name:ident),* $(,)?) => { $( #[test] fn $name() { check(stringify!($name)); } )* };
}

golden_tests!(
    text_mpnet,
    mtcnn_pnet,
    mtcnn_rnet,
    mtcnn_onet,
    face_expression,
    scene_effnet_lite0,
    speech_whisper_encoder,
    speech_whisper_encoder_ctx,
    speech_whisper_decoder,
    sound_aisfx,
    voice_resemblyzer,
);

#[test]
fn manifest_lists_exactly_the_tested_encoders() {
    let store = common::store();
    let mut names: Vec<&str> = store
        .entries()
        .map(|(n, _)| n)
        .filter(|n| !n.ends_with("tokenizer"))
        .collect();
    names.sort();
    let mut expected = [ENCODERS, CHECKED_ELSEWHERE].concat();
    expected.sort();
    assert_eq!(names, expected, "a new export needs a golden test here");
}

#[test]
fn every_model_file_matches_its_checksum() {
    let store = common::store();
    for (name, _) in store.entries() {
        assert_eq!(store.status(name).unwrap(), amuse::manifest::FileStatus::Ok, "{name}");
    }
}
