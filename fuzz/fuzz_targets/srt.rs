//! Fuzz the SRT parser: arbitrary bytes → decoding → parse → repair (see `amuse_formats::fuzzing`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| amuse_formats::fuzzing::srt(data));
