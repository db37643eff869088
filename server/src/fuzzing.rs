//! The fuzz targets: every parser of user input, each behind one function of bytes that must never
//! panic. `fuzz/` runs them coverage-guided under cargo-fuzz (nightly, libFuzzer: `cargo +nightly
//! fuzz run NAME` in `fuzz/`); the test below runs each on its seeds and on many deterministic
//! mutations of them in every `cargo test`, so CI checks them without a nightly toolchain.

use crate::audit::note::{NoteSigner, NoteVerifier};
use std::sync::OnceLock;

/// A fuzz target: a name (the file under `fuzz/fuzz_targets/`) and the function it drives.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
    /// Inputs that reach deep into the parser, to mutate from.
    pub seeds: &'static [&'static str],
}

fn text(data: &[u8]) -> &str {
    std::str::from_utf8(data).unwrap_or("")
}

fn verifier() -> &'static (NoteSigner, NoteVerifier) {
    static KEY: OnceLock<(NoteSigner, NoteVerifier)> = OnceLock::new();
    KEY.get_or_init(|| {
        let signer = NoteSigner::generate("fuzz.example/log").expect("a key");
        let verifier = NoteVerifier::parse(&signer.verifier().to_string()).expect("its verifier");
        (signer, verifier)
    })
}

fn ids_and_paths(data: &[u8]) {
    let text = text(data);
    let _ = app::model::PinId::parse(text);
    let _ = app::model::Sha256Hex::parse(text);
    let _ = app::model::RepoPath::parse(text);
    let _ = app::model::RepoPath::parse_url_encoded(text);
    let _ = app::model::LineRange::parse(text);
    let _ = app::model::Role::parse(text);
    let _ = app::model::Scope::parse(text);
    let _ = app::model::CommentKind::parse(text);
    let _ = app::model::Severity::parse(text);
    let _ = app::model::ThreadState::parse(text);
    let _ = app::model::VerdictKind::parse(text);
    let _ = crate::domain::parse_repository_name(text);
    let _ = crate::auth::parse_username(text);
    let _ = crate::auth::normalise_username(text);
}

fn times(data: &[u8]) {
    let _ = app::times::parse(text(data));
}

fn sign_in_inputs(data: &[u8]) {
    let text = text(data);
    let next = crate::http::session::safe_next(text);
    assert!(next == "/" || (next.starts_with('/') && !next.starts_with("//")), "{next:?}");
    let _ = crate::auth::password_policy(text, "reviewer");
    let _ = crate::network::PublicUrl::parse(text);
    let _ = crate::metrics::route_family(text);
}

fn forwarded_headers(data: &[u8]) {
    use axum::http::{HeaderMap, HeaderName, HeaderValue};
    let mut headers = HeaderMap::new();
    for line in text(data).lines() {
        let Some((name, value)) = line.split_once(':') else { continue };
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.trim()), HeaderValue::from_str(value.trim())) {
            headers.append(name, value);
        }
    }
    let network = crate::network::Network {
        trusted_proxies: vec!["10.0.0.0/8".parse().expect("a range"), "::1/128".parse().expect("a range")],
        public_url: None,
    };
    let _ = network.client("10.1.2.3".parse().expect("an address"), &headers);
    let _ = network.expected_origin("10.1.2.3".parse().expect("an address"), &headers);
}

fn signed_notes(data: &[u8]) {
    let text = text(data);
    let (_, verifier) = verifier();
    let _ = crate::audit::checkpoint::open(verifier, text);
    let _ = crate::audit::checkpoint::parse_body(text);
    let _ = crate::audit::note::split(text);
    let _ = NoteVerifier::parse(text);
    let _ = NoteSigner::parse(text);
    let _ = crate::audit::cosignature::CosignatureVerifier::parse(text);
    let _ = crate::audit::policy::Policy::parse(text);
    let _ = crate::builds::parse_public_key(text);
}

fn uploaded_json(data: &[u8]) {
    let _ = serde_json::from_slice::<app::model::ExportRequest>(data);
    let _ = serde_json::from_slice::<app::model::NewComment>(data);
    let _ = serde_json::from_slice::<app::model::CommentFilter>(data);
    let _ = crate::export::Leaf::parse(data);
    let _ = serde_html_form::from_bytes::<Vec<(String, String)>>(data);
}

pub const TARGETS: &[Target] = &[
    Target {
        name: "ids_and_paths",
        run: ids_and_paths,
        seeds: &["12", "src/main.rs", "a/../b", "src%2Fmain.rs", "10-20", "L5-L9", "finding", "ab12"],
    },
    Target {
        name: "times",
        run: times,
        seeds: &["2026-11-28T14:05:00Z", "2026-11-28T14:05", "2026-02-30T00:00:00+01:00"],
    },
    Target {
        name: "sign_in_inputs",
        run: sign_in_inputs,
        seeds: &["/pins/1?x=2#L3", "/\t/evil.example", "//evil", "https://review.example.org", "correct horse battery"],
    },
    Target {
        name: "forwarded_headers",
        run: forwarded_headers,
        seeds: &[
            "x-forwarded-for: 1.2.3.4, 10.0.0.9\nhost: a.test\nx-forwarded-proto: https",
            "forwarded: for=\"[2001:db8::1]:80\";proto=https, for=unknown",
        ],
    },
    Target {
        name: "signed_notes",
        run: signed_notes,
        seeds: &[
            "fuzz.example/log\n3\nq0Yz7cZ0rjO9n2Xx2DkLd8t3nYhP2c2QWbDk5b2bYm0=\n\n— fuzz.example/log AAAAAAAA\n",
            "log vkey+1234+AbCd\nwitness w1 w.example+abcd+AQID https://w.example\ngroup g 1 w1\nquorum g\n",
        ],
    },
    Target {
        name: "uploaded_json",
        run: uploaded_json,
        seeds: &[
            "{\"pins\":[1,2],\"reviewer\":\"r\",\"from\":\"2026-01-01T00:00:00Z\"}",
            "{\"path\":\"src/a.rs\",\"lines\":[1,2],\"body\":\"x\",\"kind\":\"finding\"}",
            "{\"v\":2,\"prev\":\"\",\"action\":\"blob.view\",\"objects\":[]}",
            "csrf=a&pins=1&pins=2&name=%FF",
        ],
    },
];

/// Runs one target by name (the cargo-fuzz entry points call this).
pub fn run(name: &str, data: &[u8]) {
    if let Some(target) = TARGETS.iter().find(|t| t.name == name) {
        (target.run)(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so a failure replays exactly.
    struct Mutator(u64);

    impl Mutator {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
            const INTERESTING: &[&[u8]] = &[
                b"\0",
                b"\xff",
                b"\xc3\xa9",
                b"%",
                b"%2F",
                b"..",
                b"/",
                b"\\",
                b"\t",
                b"\n",
                b"-",
                b"9223372036854775807",
                b"18446744073709551616",
                b"-1",
                b"0",
                b":",
                b"[",
                b"]",
                b"\"",
                b"=",
                b",",
                b";",
                b"+",
                b"\xe2\x80\x94",
                b"{",
                b"}",
                b"null",
                b"1e999",
            ];
            let mut data = seed.to_vec();
            for _ in 0..1 + self.next() % 4 {
                let at = if data.is_empty() { 0 } else { (self.next() as usize) % (data.len() + 1) };
                match self.next() % 5 {
                    0 if !data.is_empty() => {
                        let at = at.min(data.len() - 1);
                        data[at] = self.next() as u8;
                    }
                    1 if at < data.len() => {
                        let end = (at + 1 + (self.next() as usize) % 8).min(data.len());
                        data.drain(at..end);
                    }
                    2 => {
                        let piece = INTERESTING[(self.next() as usize) % INTERESTING.len()];
                        data.splice(at..at, piece.iter().copied());
                    }
                    3 if !data.is_empty() => {
                        let from = (self.next() as usize) % data.len();
                        let end = (from + 1 + (self.next() as usize) % 16).min(data.len());
                        let copy: Vec<u8> = data[from..end].to_vec();
                        data.splice(at..at, copy);
                    }
                    _ => data.insert(at, self.next() as u8),
                }
            }
            data
        }
    }

    #[test]
    fn every_parser_of_user_input_survives_mutated_input() {
        for target in TARGETS {
            let mut mutator = Mutator(0x9e37_79b9_7f4a_7c15 ^ target.name.len() as u64);
            for seed in target.seeds {
                (target.run)(seed.as_bytes());
                let mut current = seed.as_bytes().to_vec();
                for round in 0..20_000 {
                    let input = mutator.mutate(&current);
                    let outcome = std::panic::catch_unwind(|| (target.run)(&input));
                    assert!(outcome.is_ok(), "{} panicked on {:?}", target.name, String::from_utf8_lossy(&input));
                    // Walk away from the seed now and then, back to it now and then.
                    current = if round % 7 == 0 { seed.as_bytes().to_vec() } else { input };
                    if current.len() > 4096 {
                        current.truncate(4096);
                    }
                }
            }
        }
    }
}
