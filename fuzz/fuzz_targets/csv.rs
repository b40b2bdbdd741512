//! Fuzz the CSV/TSV transcript loader in MELD and IEMOCAP styles (the first byte picks the
//! header; see `amuse_formats::fuzzing::csv_table`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| amuse_formats::fuzzing::csv_table(data));
