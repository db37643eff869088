#![no_main]
//! `cargo +nightly fuzz run sign_in_inputs` (see `clearroom::fuzzing`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| clearroom::fuzzing::run("sign_in_inputs", data));
