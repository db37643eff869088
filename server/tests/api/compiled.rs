//! The compiled-code map as builders and reviewers use it: a C project built by the test with
//! `gcc -g -O1` and uploaded; its map equal, file for file and line for line, to what binutils'
//! `objdump --dwarf=decodedline` reads from the same binary; the same map from a stripped binary
//! and its `--only-keep-debug` companion; a Rust crate built with line tables only; DWARF 5
//! checksums compared with the pinned blobs; and files that are not debug information.

use crate::builds::{builder_token, independent_verify, keys, sha256};
use crate::helpers::*;
use app::model::{Checksum, CompiledMap, MapState, PinId};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

const MAKEFILE: &str = include_str!("../fixtures/compiled/c/Makefile");
const MAIN_C: &str = include_str!("../fixtures/compiled/c/main.c");
const UTIL_C: &str = include_str!("../fixtures/compiled/c/util.c");
const UTIL_H: &str = include_str!("../fixtures/compiled/c/util.h");
const CARGO_TOML: &str = include_str!("../fixtures/compiled/rust/Cargo.toml.fixture");
const LIB_RS: &str = include_str!("../fixtures/compiled/rust/src/lib.rs");
const WORDS_MAIN_RS: &str = include_str!("../fixtures/compiled/rust/src/main.rs");

pub(crate) fn c_files() -> Vec<(&'static str, &'static str)> {
    vec![("Makefile", MAKEFILE), ("main.c", MAIN_C), ("util.c", UTIL_C), ("util.h", UTIL_H)]
}

/// Pins the files as the next release (granted to the reviewer).
pub(crate) async fn pin_files(app: &TestApp, files: &[(&str, &str)], label: &str) -> PinId {
    let files: Vec<(&str, Vec<u8>, u32)> = files.iter().map(|(p, t)| (*p, t.as_bytes().to_vec(), 0o100644)).collect();
    let pin = next_release(app, &files, label).await;
    jobs_done(app, pin).await;
    pin
}

/// Writes the files into a new directory and runs `command` there; the directory.
pub(crate) fn build(files: &[(&str, &str)], command: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let output = Command::new(command[0]).args(&command[1..]).current_dir(dir.path()).output().unwrap();
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
    dir
}

fn run(command: &[&str], dir: &Path) {
    let output = Command::new(command[0]).args(&command[1..]).current_dir(dir).output().unwrap();
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
}

pub(crate) async fn upload_to(
    app: &TestApp,
    token: &str,
    pin: PinId,
    query: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let response = new_client()
        .post(app.url(&format!("/api/v1/pins/{pin}/builds?{query}")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap_or_default())
}

async fn get_map(app: &TestApp, token: &str, pin: PinId, sha: &str) -> (StatusCode, Value) {
    let url = app.url(&format!("/api/v1/pins/{pin}/artifacts/{sha}/compiled"));
    let response = new_client().get(url).bearer_auth(token).send().await.unwrap();
    (response.status(), response.json().await.unwrap_or_default())
}

/// Runs the jobs waiting and reads the map until it is no longer queued or running.
pub(crate) async fn finished_map(app: &TestApp, token: &str, pin: PinId, sha: &str) -> CompiledMap {
    for _ in 0..500 {
        while app.domain.jobs().run_next_job().await.unwrap() {}
        let (status, body) = get_map(app, token, pin, sha).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let map: CompiledMap = serde_json::from_value(body).unwrap();
        if !matches!(map.state, MapState::Queued | MapState::Running) {
            return map;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the map of {sha} did not finish");
}

/// The details of every event of an action.
async fn details_of(app: &TestApp, action: &str) -> Vec<Value> {
    let events = app.events(action).await;
    events.iter().map(|e| serde_json::from_str::<Value>(&e.leaf).unwrap()["details"].clone()).collect()
}

/// `objdump --dwarf=decodedline`: the lines with code of each file, by base name.
fn objdump_lines(binary: &Path) -> BTreeMap<String, BTreeSet<u32>> {
    let output = Command::new("objdump").arg("--dwarf=decodedline").arg(binary).output().unwrap();
    assert!(output.status.success(), "objdump (binutils) is needed");
    let mut files: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [name, number, address, ..] = fields[..] {
            // A relocatable object's first address is written `0`, the others `0x…`.
            if let (Ok(number), true) = (number.parse::<u32>(), address == "0" || address.starts_with("0x")) {
                if number > 0 {
                    files.entry(name.to_string()).or_default().insert(number);
                }
            }
        }
    }
    files
}

/// The map's lines of each file, pinned or not, by base name.
pub(crate) fn map_lines(map: &CompiledMap) -> BTreeMap<String, BTreeSet<u32>> {
    let mut files: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    let all = map.files.iter().map(|f| (&f.path, &f.lines)).chain(map.elsewhere.iter().map(|f| (&f.path, &f.lines)));
    for (path, ranges) in all {
        let name = path.rsplit('/').next().unwrap().to_string();
        let lines = files.entry(name).or_default();
        for [first, last] in ranges {
            lines.extend(*first..=*last);
        }
    }
    files
}

#[tokio::test]
async fn a_c_binary_maps_onto_the_pin_as_objdump_reads_it_and_a_stripped_one_through_its_debug_file() {
    let app = spawn_app().await;
    let builder = builder_token(&app, "ci").await;
    let staff = app.token("staff").await;
    let pin = pin_files(&app, &c_files(), "c 1.0").await;
    let built = build(&c_files(), &["make", "prog"]);
    let prog = built.path().join("prog");
    let bytes = std::fs::read(&prog).unwrap();
    let (status, body) = upload_to(&app, &builder, pin, "name=prog&platform=linux-x86_64", bytes.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let map = finished_map(&app, &staff, pin, &sha256(&bytes)).await;
    assert_eq!(map.state, MapState::Done, "{:?}", map.reason);

    // Line for line what binutils reads, every file (pinned or not).
    assert_eq!(map_lines(&map), objdump_lines(&prog));
    let pinned: Vec<&str> = map.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(pinned, ["main.c", "util.c", "util.h"]);
    assert_eq!(map.source_prefix.as_deref(), Some(built.path().to_str().unwrap()));
    let util = map.files.iter().find(|f| f.path == "util.c").unwrap();
    let ifdef_line = UTIL_C.lines().position(|l| l.contains("v * 1000")).unwrap() as u32 + 1;
    assert!(!app::model::in_ranges(&util.lines, ifdef_line), "a line #ifdef removes has no code: {:?}", util.lines);
    assert!(map.files.iter().all(|f| f.checksum == Checksum::None), "gcc writes no MD5");

    // From elsewhere: the C library's header (toolchain) and the file the Makefile wrote.
    let elsewhere: BTreeMap<&str, (&str, &str)> = map
        .elsewhere
        .iter()
        .map(|f| (f.path.rsplit('/').next().unwrap(), (f.group.as_str(), f.prefix.as_str())))
        .collect();
    assert_eq!(elsewhere["stdio2.h"], ("toolchain", "/usr/include"));
    assert_eq!(elsewhere["version.c"].0, "generated");
    let totals = &map.totals;
    assert_eq!((totals.files, totals.elsewhere_files, totals.checksum_mismatches), (3, 2, 0));
    assert_eq!(totals.lines, map.files.iter().map(|f| app::model::range_lines(&f.lines)).sum::<u64>());
    assert!(map.map_sha256.as_ref().is_some_and(|s| s.len() == 64));
    let done = details_of(&app, "artifact.compiled_map").await;
    assert!(done.iter().any(|d| d["state"] == "done" && d["map_sha256"] == *map.map_sha256.as_ref().unwrap()));

    // A reader limited to util.* is shown those files, the toolchain's, and totals over them alone.
    let now = app.clock.now_ms();
    let patterns = vec!["util.*".to_string()];
    let window = (now - 1000, now + 3_600_000);
    let access = app.domain.access();
    access.grant_paths(clearroom::domain::Actor::Operator, "outsider", &[pin], window, &patterns).await.unwrap();
    let (status, body) = get_map(&app, &app.token("outsider").await, pin, &sha256(&bytes)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let scoped: CompiledMap = serde_json::from_value(body).unwrap();
    let pinned: Vec<&str> = scoped.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(pinned, ["util.c", "util.h"]);
    assert!(scoped.elsewhere.iter().all(|f| f.group == "toolchain") && !scoped.elsewhere.is_empty());
    let lines: u64 = scoped.files.iter().map(|f| app::model::range_lines(&f.lines)).sum();
    assert_eq!((scoped.totals.files, scoped.totals.lines), (2, lines), "counted over their files");
    assert_eq!(scoped.totals.elsewhere_files, scoped.elsewhere.len() as u64);
    assert!(!serde_json::to_string(&scoped).unwrap().contains("version.c"), "no generated file named");

    // A relocatable object (`util.o`, as `make` left it): its file names are relocations into
    // `.debug_line_str`, applied as read, so the same lines under the same names.
    let object = built.path().join("util.o");
    let object_bytes = std::fs::read(&object).unwrap();
    let (status, body) = upload_to(&app, &builder, pin, "name=util.o", object_bytes.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let of_object = finished_map(&app, &staff, pin, &sha256(&object_bytes)).await;
    assert_eq!(map_lines(&of_object), objdump_lines(&object));
    let pinned: Vec<&str> = of_object.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(pinned, ["util.c", "util.h"]);
    assert_eq!(of_object.files[0].lines, util.lines, "util.c compiled alone and linked: the same lines");

    // Stripped, then its debug file: the same map, through the build-id.
    run(&["objcopy", "--only-keep-debug", "prog", "prog.debug"], built.path());
    run(&["objcopy", "--strip-debug", "prog", "prog.stripped"], built.path());
    let stripped = std::fs::read(built.path().join("prog.stripped")).unwrap();
    let (status, body) = upload_to(&app, &builder, pin, "name=prog-stripped", stripped.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let bare = finished_map(&app, &staff, pin, &sha256(&stripped)).await;
    assert_eq!(bare.state, MapState::NoDebugInfo);
    assert!(bare.reason.as_deref().unwrap().starts_with("no DWARF: strip happened before upload"), "{:?}", bare.reason);
    let debug = std::fs::read(built.path().join("prog.debug")).unwrap();
    let query = format!("kind=debuginfo&of={}", sha256(&stripped));
    let (status, body) = upload_to(&app, &builder, pin, &query, debug.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["build_id"], Value::String(bare.build_id.clone().unwrap()));
    let through = finished_map(&app, &staff, pin, &sha256(&stripped)).await;
    assert_eq!(through.state, MapState::Done, "{:?}", through.reason);
    assert_eq!(through.debug_file_sha256.as_deref(), Some(sha256(&debug).as_str()));
    assert_eq!(
        (&through.files, &through.elsewhere, &through.map_sha256),
        (&map.files, &map.elsewhere, &map.map_sha256)
    );

    // A debug file of another build is refused and not kept.
    let other = build(
        &[
            ("Makefile", MAKEFILE),
            ("main.c", MAIN_C),
            ("util.c", "int scale(int v) { return v; }\n"),
            ("util.h", UTIL_H),
        ],
        &["make", "prog"],
    );
    run(&["objcopy", "--only-keep-debug", "prog", "prog.debug"], other.path());
    let foreign = std::fs::read(other.path().join("prog.debug")).unwrap();
    let (status, body) = upload_to(&app, &builder, pin, &query, foreign.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains("build-id"), "{body}");
    assert!(!app.data_dir.join("artifacts/sha256").join(sha256(&foreign)).exists());
}

#[tokio::test]
async fn who_reads_a_map_and_files_that_are_no_debug_information() {
    let app = spawn_app().await;
    let builder = builder_token(&app, "ci").await;
    let staff = app.token("staff").await;
    let pin = pin_files(&app, &c_files(), "c 1.0").await;
    let built = build(&c_files(), &["make", "prog"]);
    let bytes = std::fs::read(built.path().join("prog")).unwrap();
    upload_to(&app, &builder, pin, "name=prog", bytes.clone()).await;
    let sha = sha256(&bytes);
    finished_map(&app, &staff, pin, &sha).await;

    // Reviewers with a grant and regulators read it; a builder does not; every read is recorded.
    for (user, expected) in [("reviewer", StatusCode::OK), ("regulator", StatusCode::OK), ("ci", StatusCode::FORBIDDEN)]
    {
        let token = if user == "ci" { builder.clone() } else { app.token(user).await };
        let (status, body) = get_map(&app, &token, pin, &sha).await;
        assert_eq!(status, expected, "{user}: {body}");
    }
    let views = app.events("artifact.compiled_view").await;
    for reader in ["reviewer", "regulator"] {
        assert!(views.iter().any(|e| e.actor.as_deref() == Some(reader)), "{reader}'s read is recorded");
    }
    assert!(!views.iter().any(|e| e.actor.as_deref() == Some("ci")));
    let (status, _) = get_map(&app, &staff, pin, "nothex").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get_map(&app, &staff, pin, &sha256(b"never recorded")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Ten megabytes of noise: kept as an artifact, no map; asked for, it fails plainly.
    let mut noise = vec![0u8; 10 << 20];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for byte in noise.iter_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    let (status, _) = upload_to(&app, &builder, pin, "name=noise", noise.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = get_map(&app, &staff, pin, &sha256(&noise)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a file that is no object gets no map of itself");
    let truncated = bytes[..bytes.len() / 3].to_vec();
    upload_to(&app, &builder, pin, "name=truncated", truncated.clone()).await;
    for file in [&noise, &truncated] {
        let url = app.url(&format!("/api/v1/pins/{pin}/artifacts/{}/compiled", sha256(file)));
        let response = new_client().post(url).bearer_auth(&staff).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let map = finished_map(&app, &staff, pin, &sha256(file)).await;
        assert_eq!(map.state, MapState::Failed);
        assert!(map.reason.as_deref().unwrap().starts_with("cannot read debug information"), "{:?}", map.reason);
    }
    let url = app.url(&format!("/api/v1/pins/{pin}/artifacts/{sha}/compiled"));
    let response = new_client().post(url).bearer_auth(app.token("reviewer").await).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_rust_crate_with_line_tables_only_maps_onto_its_src_files() {
    let app = spawn_app().await;
    let builder = builder_token(&app, "ci").await;
    let staff = app.token("staff").await;
    let files = [("Cargo.toml", CARGO_TOML), ("src/lib.rs", LIB_RS), ("src/main.rs", WORDS_MAIN_RS)];
    let pin = pin_files(&app, &files, "words 1.0").await;
    let built = build(&files, &["cargo", "build", "--offline", "--quiet", "--target-dir", "target"]);
    let bytes = std::fs::read(built.path().join("target/debug/wordcount")).unwrap();
    upload_to(&app, &builder, pin, "name=wordcount", bytes.clone()).await;
    let map = finished_map(&app, &staff, pin, &sha256(&bytes)).await;
    assert_eq!(map.state, MapState::Done, "{:?}", map.reason);
    let pinned: Vec<&str> = map.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(pinned, ["src/lib.rs", "src/main.rs"]);
    let lib = &map.files[0];
    let unused = LIB_RS.lines().position(|l| l.contains("42")).unwrap() as u32 + 1;
    assert!(!app::model::in_ranges(&lib.lines, unused), "cfg'd out: {:?}", lib.lines);
    let counting = LIB_RS.lines().position(|l| l.contains("words += 1")).unwrap() as u32 + 1;
    assert!(app::model::in_ranges(&lib.lines, counting), "{:?}", lib.lines);
    assert!(map.elsewhere.iter().any(|f| f.group == "toolchain" && f.path.contains("/library/core/")));
}

#[tokio::test]
async fn compiled_coverage_after_viewing_and_marking_one_compiled_file_is_one_figure_everywhere() {
    let app = spawn_app().await;
    let builder = builder_token(&app, "ci").await;
    let staff = app.token("staff").await;
    let pin = pin_files(&app, &c_files(), "c 1.0").await;
    let built = build(&c_files(), &["make", "prog"]);
    let bytes = std::fs::read(built.path().join("prog")).unwrap();
    upload_to(&app, &builder, pin, "name=prog&platform=linux-x86_64", bytes.clone()).await;
    let map = finished_map(&app, &staff, pin, &sha256(&bytes)).await;
    let util = map.files.iter().find(|f| f.path == "util.c").unwrap();
    let util_lines = app::model::range_lines(&util.lines);
    let all_lines = map.totals.lines;
    assert!(util_lines > 0 && util_lines < all_lines);

    // The reviewer opens util.c (shown whole: its marks are part of the view) and marks it reviewed.
    let (reviewer, csrf) = signed_in(&app, "reviewer").await;
    let page = reviewer.get(app.url(&format!("/pins/{pin}/blob/util.c"))).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains(&format!("compiled into prog: {util_lines} of {} lines", UTIL_C.lines().count())),
        "the header"
    );
    let first = util.lines[0][0];
    let style = page.split(":is(").nth(1).and_then(|s| s.split(") .ln{").next()).expect("the marks' style");
    assert!(style.split(',').any(|id| id == format!("#L{first}")), "the compiled lines are marked: {style}");
    let views = details_of(&app, "blob.view").await;
    let view = views.iter().rev().find(|d| d.get("compiled").is_some()).expect("the view names the map shown");
    assert_eq!(view["compiled"]["map_sha256"], Value::String(map.map_sha256.clone().unwrap()));
    let marked = reviewer
        .put(app.url(&format!("/api/v1/pins/{pin}/reviewed/util.c")))
        .header("origin", &app.address)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert!(marked.status().is_success(), "{}", marked.status());

    // The coverage API, per reviewer and combined.
    let coverage: Value =
        reviewer.get(app.url(&format!("/api/v1/pins/{pin}/coverage"))).send().await.unwrap().json().await.unwrap();
    let expected = serde_json::json!([{ "artifact": "prog", "sha256": sha256(&bytes), "lines": all_lines, "shown": util_lines, "reviewed": util_lines }]);
    assert_eq!(coverage["combined"]["compiled"], expected, "{coverage}");
    assert_eq!(coverage["reviewers"][0]["compiled"], expected);

    // The page, switched to the artifact's compiled code.
    let url = app.url(&format!("/pins/{pin}/coverage?compiled={}", sha256(&bytes)));
    let page = reviewer.get(url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("Of the {all_lines} lines of this pin compiled into prog")), "the page's table");
    assert!(page.contains(&format!("{util_lines} of {all_lines} lines")), "shown and reviewed of the compiled lines");

    // A verdict keeps and records it.
    let verdict = reviewer
        .post(app.url(&format!("/api/v1/pins/{pin}/verdicts")))
        .header("origin", &app.address)
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({ "verdict": "concerns", "summary": "util.c only so far" }))
        .send()
        .await
        .unwrap();
    assert!(verdict.status().is_success(), "{}", verdict.status());
    let submitted = details_of(&app, "verdict.submit").await;
    let compiled = &submitted[0]["coverage"]["compiled"][0];
    assert_eq!(
        (&compiled["lines"], &compiled["shown"], &compiled["reviewed"]),
        (&all_lines.into(), &util_lines.into(), &util_lines.into())
    );
    assert_eq!(compiled["map_sha256"], Value::String(map.map_sha256.clone().unwrap()));

    // And the review summary, signed.
    let response = new_client()
        .post(app.url(&format!("/api/v1/pins/{pin}/review-summary")))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (pem, keyid) = keys(&app, &staff).await;
    let body: Value = new_client()
        .get(app.url(&format!("/api/v1/attestations/{}", sha256(&bytes))))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let envelope = body["envelopes"].as_array().unwrap().last().unwrap();
    let summary = independent_verify(envelope, &pem, &keyid).unwrap();
    let bound = &summary["predicate"]["compiledCoverage"][0];
    assert_eq!(bound["digest"]["sha256"], Value::String(sha256(&bytes)));
    assert_eq!(
        (&bound["compiledLines"], &bound["linesShown"], &bound["linesReviewed"]),
        (&all_lines.into(), &util_lines.into(), &util_lines.into())
    );
    assert_eq!(
        (&bound["compiledFiles"], &bound["filesElsewhere"], &bound["checksumMismatches"]),
        (&3.into(), &2.into(), &0.into())
    );

    // The regulator's bundle holds the map and the same figures, recomputed by the verifier.
    use crate::exports::{download, export_over_api, member, members, rebuild_signed, verify};
    let regulator = app.token("regulator").await;
    let (id, _) = export_over_api(&app, &regulator, serde_json::json!({ "pins": [pin.get()] })).await;
    let bundle = download(&app, &regulator, id).await.bytes().await.unwrap().to_vec();
    let outcome = verify(&app, &bundle, None);
    assert!(outcome.ok(), "{outcome:#?}");
    assert!(outcome.passed.iter().any(|p| p.starts_with("compiled code: 1 maps")), "{:#?}", outcome.passed);
    let list = members(&bundle);
    let map_name = format!("compiled/{pin}-{}.json", sha256(&bytes));
    assert_eq!(sha256(member(&list, &map_name)), map.map_sha256.clone().unwrap());
    let compiled: Value = serde_json::from_slice(member(&list, "compiled.json")).unwrap();
    let figures = (&compiled[0]["lines"], &compiled[0]["files"], &compiled[0]["elsewhere_files"]);
    assert_eq!(figures, (&all_lines.into(), &3.into(), &2.into()));
    let mine = serde_json::json!({ "reviewer": "reviewer", "shown": util_lines, "reviewed": util_lines });
    assert_eq!(compiled[0]["reviewers"], serde_json::json!([mine]));
    assert_eq!(compiled[0]["combined"], serde_json::json!({ "shown": util_lines, "reviewed": util_lines }));
    let csv = String::from_utf8(member(&list, "coverage.csv").to_vec()).unwrap();
    assert!(csv.starts_with("pin,path,lines,views,viewed_by,first_viewed,last_viewed,reviewed_by,compiled_lines\r\n"));
    let util_row = csv.lines().find(|l| l.starts_with(&format!("{pin},util.c,"))).unwrap();
    assert!(util_row.ends_with(&format!(",reviewer,{util_lines}")), "{util_row}");
    let report = String::from_utf8(member(&list, "report.html").to_vec()).unwrap();
    assert!(report.contains("Compiled code") && report.contains(&format!("{util_lines} of {all_lines}")));

    // A map altered after the fact (the manifest brought up to date and signed again with the log's
    // own key) is caught by the digest its event recorded.
    let forged = rebuild_signed(&app, &bundle, &map_name, |text| text.replacen("\"none\"", "\"same\"", 1));
    let outcome = verify(&app, &forged, None);
    assert!(outcome.failures.iter().any(|f| f.contains("is not the map_sha256")), "{:#?}", outcome.failures);
}

/// Adds `md5 0x…` to the assembler's `.file` lines that name `name`. GNU as reads the MD5 as a
/// number and writes it little-endian, so the digest is given byte-reversed for the file to hold it
/// in digest order, as DWARF 5 says (and clang writes it).
fn with_md5(assembly: &str, name: &str, digest: &[u8]) -> String {
    let md5: String = digest.iter().rev().map(|b| format!("{b:02x}")).collect();
    assembly
        .lines()
        .map(|line| {
            let trimmed = line.trim();
            if trimmed.starts_with(".file")
                && trimmed.ends_with(&format!("\"{name}\""))
                && trimmed.split_whitespace().nth(1).is_some_and(|n| n.parse::<u32>().is_ok())
            {
                format!("{line} md5 0x{md5}\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

#[tokio::test]
async fn dwarf5_checksums_are_compared_with_the_pinned_files() {
    let app = spawn_app().await;
    let builder = builder_token(&app, "ci").await;
    let staff = app.token("staff").await;
    let pin = pin_files(&app, &c_files(), "c 1.0").await;
    let dir = build(&c_files(), &["gcc", "-g", "-gdwarf-5", "-O1", "-S", "util.c", "main.c"]);
    use md5::Digest as _;
    let util = std::fs::read_to_string(dir.path().join("util.s")).unwrap();
    let util = with_md5(&util, "util.c", &md5::Md5::digest(UTIL_C));
    let main = std::fs::read_to_string(dir.path().join("main.s")).unwrap();
    let main = with_md5(&main, "main.c", &md5::Md5::digest(format!("{MAIN_C}// as it was built\n")));
    std::fs::write(dir.path().join("util.s"), util).unwrap();
    std::fs::write(dir.path().join("main.s"), main).unwrap();
    run(&["sh", "-c", "printf 'int version(void) { return 7; }\\n' > version.c"], dir.path());
    run(&["gcc", "-g", "-gdwarf-5", "main.s", "util.s", "version.c", "-o", "prog"], dir.path());
    let bytes = std::fs::read(dir.path().join("prog")).unwrap();
    upload_to(&app, &builder, pin, "name=prog", bytes.clone()).await;
    let map = finished_map(&app, &staff, pin, &sha256(&bytes)).await;
    assert_eq!(map.state, MapState::Done, "{:?}", map.reason);
    let checks: BTreeMap<&str, Checksum> = map.files.iter().map(|f| (f.path.as_str(), f.checksum)).collect();
    assert_eq!(checks["util.c"], Checksum::Same);
    assert_eq!(checks["main.c"], Checksum::Different);
    assert_eq!(map.totals.checksum_mismatches, 1);
    // Comparing read the pinned blobs through a whole-pin receipt, recorded first.
    assert!(details_of(&app, "artifact.compiled_map").await.iter().any(|d| d["state"] == "reading"));
}

/// A line program written by the assembler with `rows` rows, the last naming line `last`.
fn line_program(rows: usize, last: u64) -> tempfile::TempDir {
    let mut text = String::from(".text\n.globl f\nf:\n.file 1 \"big.c\"\n");
    for row in 1..rows {
        text.push_str(&format!(".loc 1 {}\nnop\n", row % 5000 + 1));
    }
    text.push_str(&format!(".loc 1 {last}\nret\n"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.s"), text).unwrap();
    run(&["gcc", "-c", "big.s", "-o", "big.o"], dir.path());
    dir
}

#[test]
fn line_programs_past_the_limits_are_refused_without_reading_on() {
    use clearroom::builds::dwarf::{read, Limits};
    let dir = line_program(60_000, 7);
    let object = dir.path().join("big.o");
    let read_all = read(&object, Limits::default()).unwrap();
    assert_eq!(read_all.files[0].lines, vec![(1, 5000)]);
    let error = read(&object, Limits { rows: 50_000, ..Limits::default() }).unwrap_err();
    assert_eq!(error.to_string(), "cannot read debug information: its line programs have more than 50000 rows");
    let far = line_program(10, 2_000_000_000);
    let error = read(&far.path().join("big.o"), Limits::default()).unwrap_err();
    assert!(error.to_string().contains("past the limit"), "{error}");
    let error = read(&object, Limits { set_bytes: 64, ..Limits::default() }).unwrap_err();
    assert!(error.to_string().contains("MiB"), "{error}");
}

/// A C file longer than a window, compiled: the window a reader loads on scrolling marks the
/// lines with code in it (`tr.compiled`, as `objdump` reads them), and its read names the map.
#[tokio::test]
async fn a_window_loaded_on_scrolling_marks_its_compiled_lines() {
    let app = spawn_app().await;
    let builder = builder_token(&app, "ci").await;
    let staff = app.token("staff").await;
    // 4,100 lines: comments, then a function whose lines all lie past line 4,000.
    let mut long = "/* filler */\n".repeat(4_040);
    long.push_str("int late(int v)\n{\n    if (v > 3)\n        v = v * 7;\n    return v + 1;\n}\n");
    long.push_str(&"/* tail */\n".repeat(54));
    let files = [("long.c", long.as_str())];
    let pin = pin_files(&app, &files, "long 1.0").await;
    let built = build(&files, &["gcc", "-g", "-O0", "-c", "long.c", "-o", "long.o"]);
    let object = std::fs::read(built.path().join("long.o")).unwrap();
    let (status, body) = upload_to(&app, &builder, pin, "name=long.o", object.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let map = finished_map(&app, &staff, pin, &sha256(&object)).await;
    let expected: BTreeSet<u32> = objdump_lines(&built.path().join("long.o"))["long.c"].clone();
    assert!(expected.iter().all(|line| *line > 4_000), "{expected:?}");
    assert_eq!(map_lines(&map)["long.c"], expected);

    let session = app.session_client("reviewer").await;
    let response = session.get(app.url(&format!("/pins/{pin}/lines/long.c?from=4001"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let rows = response.text().await.unwrap();
    let marked: BTreeSet<u32> = rows
        .split("<tr id=\"L")
        .skip(1)
        .filter(|row| row.split('>').next().unwrap().contains("class=\"compiled\""))
        .map(|row| row.split('"').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(marked, expected);
    let read = details_of(&app, "blob.lines").await.pop().unwrap();
    assert_eq!(read["compiled"]["map_sha256"], Value::String(map.map_sha256.clone().unwrap()));
    // A malformed artifact is refused; the first window's page marks by its style.
    let bad = session.get(app.url(&format!("/pins/{pin}/lines/long.c?from=4001&artifact=xyz"))).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
