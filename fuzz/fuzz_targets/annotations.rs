//! Fuzz the annotation sidecar loader (`annotations::parse`), then undo/redo and re-save
//! what it accepts (see `amuse_formats::fuzzing::annotation_sidecar`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| amuse_formats::fuzzing::annotation_sidecar(data));
