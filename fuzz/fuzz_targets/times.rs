#![no_main]
//! `cargo +nightly fuzz run times` (see `clearroom::fuzzing`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| clearroom::fuzzing::run("times", data));
