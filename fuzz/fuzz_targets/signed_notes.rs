#![no_main]
//! `cargo +nightly fuzz run signed_notes` (see `clearroom::fuzzing`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| clearroom::fuzzing::run("signed_notes", data));
