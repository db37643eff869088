#![no_main]
//! `cargo +nightly fuzz run forwarded_headers` (see `clearroom::fuzzing`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| clearroom::fuzzing::run("forwarded_headers", data));
