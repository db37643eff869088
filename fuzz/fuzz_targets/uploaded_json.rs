#![no_main]
//! `cargo +nightly fuzz run uploaded_json` (see `clearroom::fuzzing`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| clearroom::fuzzing::run("uploaded_json", data));
