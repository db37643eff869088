#![no_main]
//! `cargo +nightly fuzz run ids_and_paths` (see `clearroom::fuzzing`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| clearroom::fuzzing::run("ids_and_paths", data));
