//! The room, as staff and builders use it: a recipe set through the API, a room build run by the
//! server's own workers in bubblewrap with the host's gcc, its output equal to the same command
//! run outside, "reproduced by 2" with a builder that uploads its own; a build that embeds its
//! clock explained by diffoscope; the sandbox's walls and limits; recipes refused by field.

use crate::builds::{builder_token, independent_verify, keys, sha256};
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const MAKEFILE: &str = "hello: main.o greet.o\n\tgcc -O2 -o hello main.o greet.o\n\n%.o: %.c\n\tgcc -O2 -c $< -o $@\n";
const MAIN_C: &str = "void greet(void);\nint main(void) { greet(); return 0; }\n";
const GREET_C: &str = "#include <stdio.h>\nvoid greet(void) { puts(\"hello from the room\"); }\n";
/// A program that embeds the time it was built (gcc takes it from SOURCE_DATE_EPOCH when set).
const STAMP_C: &str = "#include <stdio.h>\nvoid greet(void) { puts(\"built \" __DATE__ \" \" __TIME__); }\n";

fn recipe(wall_seconds: u64) -> String {
    format!(
        "name = \"hello\"\ncommand = [\"make\", \"hello\"]\ntoolchain = \"host\"\n[[outputs]]\npath = \"hello\"\nartifact = \"hello\"\nplatform = \"linux-x86_64\"\n[limits]\nwall_seconds = {wall_seconds}\n"
    )
}

/// A release of the C project (with `greet` as given), pinned and granted: its id and its
/// commit's time (seconds), which the room gives the build as SOURCE_DATE_EPOCH.
async fn c_project(app: &TestApp, greet: &str, label: &str) -> (app::model::PinId, i64) {
    let files = [
        ("Makefile", MAKEFILE.as_bytes().to_vec(), 0o100644),
        ("main.c", MAIN_C.as_bytes().to_vec(), 0o100644),
        ("greet.c", greet.as_bytes().to_vec(), 0o100644),
    ];
    let pin = next_release(app, &files, label).await;
    let repo = git2::Repository::open_bare(app.data_dir.join("repos/product.git")).unwrap();
    // next_release commits on HEAD, and pins that commit.
    let time = repo.head().unwrap().peel_to_commit().unwrap().time().seconds();
    (pin, time)
}

/// The project built outside the sandbox, in a directory of the test's, with `epoch` as
/// SOURCE_DATE_EPOCH: the program's bytes.
fn build_outside(greet: &str, epoch: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("Makefile", MAKEFILE), ("main.c", MAIN_C), ("greet.c", greet)] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let status = std::process::Command::new("make")
        .arg("hello")
        .current_dir(dir.path())
        .env("SOURCE_DATE_EPOCH", epoch)
        .env("LC_ALL", "C.UTF-8")
        .env("TZ", "UTC")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "make outside the room");
    std::fs::read(dir.path().join("hello")).unwrap()
}

async fn put_recipe(app: &TestApp, token: &str, pin: app::model::PinId, body: &str) -> (StatusCode, Value) {
    let response = new_client()
        .put(app.url(&format!("/api/v1/pins/{pin}/recipe")))
        .bearer_auth(token)
        .header("content-type", "application/toml")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap_or_default())
}

async fn start(app: &TestApp, token: &str, pin: app::model::PinId) -> (StatusCode, Value) {
    let response =
        new_client().post(app.url(&format!("/api/v1/pins/{pin}/room-builds"))).bearer_auth(token).send().await.unwrap();
    (response.status(), response.json().await.unwrap_or_default())
}

async fn get_json(app: &TestApp, token: &str, path: &str) -> Value {
    let response = new_client().get(app.url(path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

/// Waits (in real time: the sandbox runs real processes) until room build `id` ends.
async fn ended(app: &TestApp, token: &str, id: i64) -> Value {
    for _ in 0..600 {
        let build = get_json(app, token, &format!("/api/v1/room-builds/{id}")).await;
        if build["state"] == "done" || build["state"] == "failed" {
            return build;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("room build {id} did not end");
}

/// A staff API token (build:write).
async fn staff_token(app: &TestApp) -> String {
    app.token("staff").await
}

async fn with_recipe(app: &TestApp, pin: app::model::PinId, recipe: &str) -> String {
    let token = staff_token(app).await;
    let (status, body) = put_recipe(app, &token, pin, recipe).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    token
}

#[tokio::test]
async fn a_room_build_is_the_same_as_the_command_outside_and_reproduced_by_two() {
    let app = spawn_app().await;
    let (pin, epoch) = c_project(&app, GREET_C, "C 1.0").await;
    let token = with_recipe(&app, pin, &recipe(120)).await;
    let (status, started) = start(&app, &token, pin).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let build = ended(&app, &token, started["id"].as_i64().unwrap()).await;
    assert_eq!(build["state"], "done", "{build}");
    let room_sha = build["outputs"][0]["sha256"].as_str().unwrap().to_string();
    let outside = build_outside(GREET_C, &epoch.to_string());
    assert_eq!(room_sha, sha256(&outside), "the room's output is the command's outside the sandbox");

    // The same bytes uploaded by a second builder account: reproduced by 2, the room one of them.
    let ci = builder_token(&app, "ci").await;
    let (status, _) = upload_to(&app, &ci, pin, "name=hello&platform=linux-x86_64", outside.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let builds = get_json(&app, &token, &format!("/api/v1/pins/{pin}/builds")).await;
    let artifact = &builds["artifacts"][0];
    assert_eq!(artifact["status"], json!({"status": "reproduced", "builders": 2}), "{artifact}");
    assert_eq!(artifact["accounts"][0][1], json!(["ci", "room"]));
    app.login_as("staff").await;
    let (status, page) = app.get_text(&format!("/pins/{pin}/builds")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Built by ci, room") && page.contains("reproduced by 2"), "the page names them");

    // Nobody records as the room: it has no tokens.
    let request = clearroom::domain::TokenRequest { scopes: &[app::model::Scope::BuildWrite], days: 1, label: "" };
    let refused = app.domain.access().create_token(clearroom::domain::Actor::Operator, "room", request).await;
    assert!(matches!(refused, Err(app::error::AppError::Conflict(_))), "{refused:?}");
    // Asked what the file is, the server says the room reproduced it.
    let lookup = get_json(&app, &token, &format!("/api/v1/artifacts/{room_sha}")).await;
    assert_eq!(lookup["origins"][0]["room_reproduced"], true, "{lookup}");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &outside).unwrap();
    let verified = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["verify", "binary"])
        .arg(file.path())
        .args(["--url", &app.address, "--token", &token])
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success() && printed.contains("built in the room: yes"), "{printed}");
    let other = get_json(&app, &token, &format!("/api/v1/artifacts/{}", "cd".repeat(32))).await;
    assert!(other["origins"].as_array().unwrap().is_empty());
    // The room's provenance verifies as every record's does, and says what ran and how.
    let (pem, keyid) = keys(&app, &token).await;
    let envelopes = get_json(&app, &token, &format!("/api/v1/attestations/{room_sha}")).await;
    let statements: Vec<Value> = envelopes["envelopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| independent_verify(e, &pem, &keyid).expect("verifies"))
        .collect();
    let room = statements
        .iter()
        .find(|s| s["predicate"]["buildDefinition"]["buildType"] == "https://clearroom.dev/attestations/room-build/v1")
        .expect("a room-build statement");
    let definition = &room["predicate"]["buildDefinition"];
    assert_eq!(definition["externalParameters"]["recipe"]["digest"]["sha256"], build["recipe_digest"]);
    assert_eq!(definition["internalParameters"]["sandbox"]["network"], "none");
    assert!(definition["resolvedDependencies"][0]["uri"].as_str().unwrap().starts_with("git+"));
    assert!(definition["resolvedDependencies"][1]["digest"].as_object().is_some());
    assert_eq!(room["predicate"]["runDetails"]["byproducts"][0]["digest"]["sha256"], build["log_sha256"]);
    // Every step is in the log.
    for action in ["build.recipe_set", "build.request", "build.source_export", "build.start", "build.finish"] {
        assert_eq!(app.events(action).await.len(), 1, "{action}");
    }
    let log = get_json(&app, &token, &format!("/api/v1/room-builds/{}/log", build["id"])).await;
    assert!(log["text"].as_str().unwrap().contains("gcc -O2 -c main.c"), "{log}");
    assert_eq!(app.events("build.log_view").await.len(), 1);
    for bad in ["-1", "9223372036854775808", "x"] {
        let response = new_client()
            .get(app.url(&format!("/api/v1/room-builds/{}/log?from={bad}", build["id"])))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "from={bad}");
    }
}

async fn upload_to(
    app: &TestApp,
    token: &str,
    pin: app::model::PinId,
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

#[tokio::test]
async fn a_build_that_embeds_its_clock_is_a_mismatch_diffoscope_explains() {
    let app = spawn_app().await;
    let (pin, _) = c_project(&app, STAMP_C, "C stamped").await;
    let token = with_recipe(&app, pin, &recipe(120)).await;
    let (_, started) = start(&app, &token, pin).await;
    let build = ended(&app, &token, started["id"].as_i64().unwrap()).await;
    assert_eq!(build["state"], "done", "{build}");
    // Built outside under another clock: another __DATE__ and __TIME__ in .rodata.
    let ci = builder_token(&app, "ci").await;
    let (status, _) =
        upload_to(&app, &ci, pin, "name=hello&platform=linux-x86_64", build_outside(STAMP_C, "86400")).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut mismatch = Value::Null;
    for _ in 0..600 {
        let found = get_json(&app, &token, &format!("/api/v1/pins/{pin}/mismatches")).await;
        mismatch = found[0].clone();
        if mismatch["diff"]["state"] == "done" || mismatch["diff"]["state"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(mismatch["diff"]["state"], "done", "{mismatch}");
    let accounts: Vec<&str> =
        mismatch["records"].as_array().unwrap().iter().map(|r| r["account"].as_str().unwrap()).collect();
    assert!(accounts.contains(&"room") && accounts.contains(&"ci"));
    let report = mismatch["diff"]["report"].to_string();
    assert!(report.contains("a/hello") && report.contains("b/hello"), "the differing file is named");
    assert!(report.contains(".rodata"), "the section is named");
    let id = mismatch["diff"]["id"].as_i64().unwrap();
    app.login_as("staff").await;
    let (status, page) = app.get_text(&format!("/pins/{pin}/build-diffs/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(".rodata") && page.contains("dl-add"), "the page shows the section and its diff");
    let html =
        new_client().get(app.url(&format!("/api/v1/build-diffs/{id}/html"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(html.headers()["content-type"], "application/zip");
    assert!(html.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert!(!app.events("build.diff_view").await.is_empty());
    assert_eq!(app.events("build.diff_download").await.len(), 1);
    // A reader limited to paths is told of the mismatch, not given the report or the build's log
    // (either may quote any file); each refusal is recorded.
    let now = app.clock.now_ms();
    let patterns = vec!["include/**".to_string()];
    let window = (now - 1000, now + 3_600_000);
    let access = app.domain.access();
    access.grant_paths(clearroom::domain::Actor::Operator, "outsider", &[pin], window, &patterns).await.unwrap();
    let scoped = app.token("outsider").await;
    let denied = app.events("access.denied").await.len();
    let found = get_json(&app, &scoped, &format!("/api/v1/pins/{pin}/mismatches")).await;
    assert_eq!(found[0]["diff"]["state"], "done", "{found}");
    assert!(found[0]["diff"]["report"].is_null() && !found.to_string().contains(".rodata"), "{found}");
    for path in [format!("/api/v1/build-diffs/{id}/html"), format!("/api/v1/room-builds/{}/log", build["id"])] {
        let response = new_client().get(app.url(&path)).bearer_auth(&scoped).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(response.text().await.unwrap().contains("some of its paths only"), "{path}");
    }
    assert_eq!(app.events("access.denied").await.len(), denied + 2);
    // The report's digest is in the log (and so in a regulator's bundle) and in the review summary.
    let report_sha = mismatch["diff"]["report_sha256"].as_str().unwrap().to_string();
    let done = app.events("build.diff").await;
    assert!(done.iter().any(|e| e.leaf.contains(&report_sha)), "build.diff names the report");
    let issued = new_client()
        .post(app.url(&format!("/api/v1/pins/{pin}/review-summary")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status(), StatusCode::CREATED);
    let (pem, keyid) = keys(&app, &token).await;
    let envelopes =
        get_json(&app, &token, &format!("/api/v1/attestations/{}", build["outputs"][0]["sha256"].as_str().unwrap()))
            .await;
    let summary = envelopes["envelopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| independent_verify(e, &pem, &keyid).unwrap())
        .find(|s| s["predicateType"] == "https://clearroom.dev/attestations/review-summary/v1")
        .expect("a review summary");
    assert_eq!(summary["predicate"]["buildDiffs"][0]["reportSha256"], report_sha.as_str());
    // A hash-only record cannot be compared: the page says an upload is needed.
    let lab = builder_token(&app, "lab").await;
    let (status, _) = record_hash(&app, &lab, pin, &"ab".repeat(32)).await;
    assert_eq!(status, StatusCode::CREATED);
    let found = get_json(&app, &token, &format!("/api/v1/pins/{pin}/mismatches")).await;
    assert_eq!(found.as_array().unwrap().len(), 1, "one artifact, still one mismatch");
}

async fn record_hash(app: &TestApp, token: &str, pin: app::model::PinId, sha: &str) -> (StatusCode, Value) {
    let body = json!({ "name": "hello", "platform": "linux-x86_64", "sha256": sha });
    let response = new_client()
        .post(app.url(&format!("/api/v1/pins/{pin}/builds")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap_or_default())
}

/// A recipe whose command is a shell script that tries to get out; `out` lists what it found.
fn probe(port: u16, data_dir: &Path) -> String {
    let script = format!(
        "python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), 2)\" 2>/dev/null && echo net-open >> out || echo net-closed >> out; \
         cat {key} 2>/dev/null && echo key-open >> out || echo key-closed >> out; \
         ls {data} 2>/dev/null && echo data-open >> out || echo data-closed >> out; \
         ls /proc/1/root/{data} 2>/dev/null && echo proc-open >> out || echo proc-closed >> out; \
         (sleep 3617 &) ; echo done >> out",
        key = data_dir.join("attestation-signing.key").display(),
        data = data_dir.display(),
    );
    format!(
        "name = \"probe\"\ncommand = {}\ntoolchain = \"host\"\n[[outputs]]\npath = \"out\"\nartifact = \"probe\"\n",
        serde_json::to_string(&script).unwrap()
    )
}

#[tokio::test]
async fn the_sandbox_has_no_network_no_server_files_and_no_survivors() {
    let app = spawn_app().await;
    let (pin, _) = c_project(&app, GREET_C, "C walls").await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let token = with_recipe(&app, pin, &probe(port, &app.data_dir)).await;
    let (_, started) = start(&app, &token, pin).await;
    let build = ended(&app, &token, started["id"].as_i64().unwrap()).await;
    assert_eq!(build["state"], "done", "{build}");
    let sha = build["outputs"][0]["sha256"].as_str().unwrap();
    let found = std::fs::read_to_string(app.data_dir.join("artifacts/sha256").join(sha)).unwrap();
    assert_eq!(found, "net-closed\nkey-closed\ndata-closed\nproc-closed\ndone\n");
    let survivors = std::process::Command::new("pgrep").args(["-f", "sleep 3617"]).output().unwrap();
    assert!(survivors.stdout.is_empty(), "a process left in the background is gone");

    // Limits: the wall time, and the bytes written.
    let slow = "name = \"slow\"\ncommand = \"sleep 3600\"\ntoolchain = \"host\"\n[[outputs]]\npath = \"x\"\nartifact = \"x\"\n[limits]\nwall_seconds = 5\n";
    with_recipe(&app, pin, slow).await;
    let began = std::time::Instant::now();
    let (_, started) = start(&app, &token, pin).await;
    let build = ended(&app, &token, started["id"].as_i64().unwrap()).await;
    assert_eq!(build["state"], "failed");
    assert!(build["reason"].as_str().unwrap().starts_with("timeout"), "{build}");
    assert!(began.elapsed() < Duration::from_secs(60), "ended within seconds of its limit");
    let big = "name = \"big\"\ncommand = \"head -c 3000000 /dev/zero > big\"\ntoolchain = \"host\"\n[[outputs]]\npath = \"big\"\nartifact = \"big\"\n[limits]\noutput_mb = 1\n";
    with_recipe(&app, pin, big).await;
    let (_, started) = start(&app, &token, pin).await;
    let build = ended(&app, &token, started["id"].as_i64().unwrap()).await;
    assert_eq!(build["state"], "failed");
    assert!(build["reason"].as_str().unwrap().starts_with("limit"), "{build}");
    assert_eq!(app.events("build.failed").await.len(), 2);
    let records = get_json(&app, &token, &format!("/api/v1/pins/{pin}/builds")).await;
    assert_eq!(records["artifacts"].as_array().unwrap().len(), 1, "a failed build records nothing");
}

#[tokio::test]
async fn a_bad_recipe_names_its_field_and_only_staff_set_one_or_start_a_build() {
    let app = spawn_app().await;
    let (pin, _) = c_project(&app, GREET_C, "C recipes").await;
    let token = staff_token(&app).await;
    let good = recipe(60);
    for (body, field) in [
        (format!("colour = \"red\"\n{good}"), "colour"),
        (good.replace("wall_seconds = 60", "wall_seconds = 0"), "limits.wall_seconds"),
        (good.replace("path = \"hello\"", "path = \"../hello\""), "outputs[0].path"),
        (good.replace("path = \"hello\"", "path = \"/etc/passwd\""), "outputs[0].path"),
        (good.replace("toolchain = \"host\"", "toolchain = \"gcc-13\""), "toolchain"),
        (good.replace("toolchain = \"host\"\n", ""), "toolchain"),
        (good.replace("[limits]", "[limits]\ncpus = 2"), "limits.cpus"),
    ] {
        let (status, error) = put_recipe(&app, &token, pin, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {error}");
        assert!(error["error"].as_str().unwrap().contains(field), "{field}: {error}");
    }
    let (status, _) = start(&app, &token, pin).await;
    assert_eq!(status, StatusCode::CONFLICT, "no recipe yet");
    let builder = builder_token(&app, "ci").await;
    let (status, _) = put_recipe(&app, &builder, pin, &good).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let reviewer = app.token("reviewer").await;
    let (status, _) = put_recipe(&app, &reviewer, pin, &good).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    with_recipe(&app, pin, &good).await;
    let (status, _) = start(&app, &builder, pin).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = start(&app, &reviewer, pin).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(app.events("build.request").await.is_empty());
}

#[tokio::test]
async fn a_build_runs_once_on_two_instances_and_a_stopped_one_is_taken_over_from_a_clean_directory() {
    let app = spawn_app().await;
    let _second = spawn_second_instance(&app).await;
    let (pin, _) = c_project(&app, GREET_C, "C twice").await;
    let listing = "name = \"listing\"\ncommand = \"ls -a > listing\"\ntoolchain = \"host\"\n[[outputs]]\npath = \"listing\"\nartifact = \"listing\"\n";
    let token = with_recipe(&app, pin, listing).await;
    let (_, started) = start(&app, &token, pin).await;
    let (status, busy) = start(&app, &token, pin).await;
    assert_eq!(status, StatusCode::CONFLICT, "one build of a pin at a time: {busy}");
    let build = ended(&app, &token, started["id"].as_i64().unwrap()).await;
    assert_eq!(build["state"], "done");
    assert_eq!(app.events("build.start").await.len(), 1, "one instance ran it");

    // A build whose instance stopped mid-way: its job still "running", its heartbeat old, its
    // directory left with a file of its own.
    let (_, started) = start(&app, &token, pin).await;
    let id = started["id"].as_i64().unwrap();
    let ended_first = ended(&app, &token, id).await;
    assert_eq!(ended_first["state"], "done");
    app.execute_sql(&[
        &format!("UPDATE room_builds SET state = 'running', attempts = 1, outputs = NULL WHERE id = {id}"),
        &format!("UPDATE jobs SET state = 'running', heartbeat_at = 0 WHERE kind = 'build.run' AND subject = {id}"),
    ])
    .await;
    let leftover = app.domain.room_dir().join(format!("build-{id}/tree"));
    std::fs::create_dir_all(&leftover).unwrap();
    std::fs::write(leftover.join("left-by-the-stopped-instance"), "x").unwrap();
    let build = ended(&app, &token, id).await;
    assert_eq!(build["state"], "done");
    assert_eq!(build["attempts"], 2, "taken over and started again");
    let sha = build["outputs"][0]["sha256"].as_str().unwrap();
    let listing = std::fs::read_to_string(app.data_dir.join("artifacts/sha256").join(sha)).unwrap();
    assert!(listing.contains("main.c") && !listing.contains("left-by-the-stopped-instance"), "{listing}");
}

/// A toolchain root of its own: a shell and the C library, copied from the host, nothing else.
fn mini_root(root: &Path) {
    let copy = |from: &str, to: &str| {
        let target = root.join(to);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(std::fs::canonicalize(from).unwrap(), &target).unwrap();
    };
    copy("/usr/bin/dash", "bin/sh");
    copy("/lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6");
    copy("/lib64/ld-linux-x86-64.so.2", "lib64/ld-linux-x86-64.so.2");
    // The sandbox's user passes through it.
    for dir in [root.parent().unwrap(), root] {
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
}

#[tokio::test]
async fn a_recipe_may_name_a_toolchain_root_whose_digest_is_kept_and_which_is_all_the_build_sees() {
    let roots = tempfile::tempdir().unwrap();
    let root = roots.path().join("mini");
    mini_root(&root);
    let where_roots = roots.path().to_path_buf();
    let app = spawn_app_configured(|config| config.room.toolchain_root = Some(where_roots)).await;
    let (pin, _) = c_project(&app, GREET_C, "C on mini").await;
    let script = "command -v gcc > /dev/null && echo gcc-found > out || echo no-gcc > out; ls /usr >> out 2>&1 || echo no-usr >> out";
    let recipe = format!(
        "name = \"mini\"\ncommand = {}\ntoolchain = \"mini\"\n[[outputs]]\npath = \"out\"\nartifact = \"out\"\n",
        serde_json::to_string(script).unwrap()
    );
    let token = with_recipe(&app, pin, &recipe).await;
    let set = get_json(&app, &token, &format!("/api/v1/pins/{pin}/recipe")).await;
    let digest = set["toolchain_digest"].as_str().unwrap().to_string();
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "{set}");
    let (_, started) = start(&app, &token, pin).await;
    let build = ended(&app, &token, started["id"].as_i64().unwrap()).await;
    assert_eq!(build["state"], "done", "{build}");
    assert_eq!(build["toolchain_digest"], digest.as_str());
    let sha = build["outputs"][0]["sha256"].as_str().unwrap();
    let out = std::fs::read_to_string(app.data_dir.join("artifacts/sha256").join(sha)).unwrap();
    assert!(out.starts_with("no-gcc\n") && out.contains("no-usr"), "only the root is in view: {out}");
    // Computed once and kept: a change to the directory afterwards does not move it (a root in use
    // is never changed; a new toolchain is a new directory).
    std::fs::write(root.join("extra"), "x").unwrap();
    with_recipe(&app, pin, &recipe).await;
    let again = get_json(&app, &token, &format!("/api/v1/pins/{pin}/recipe")).await;
    assert_eq!(again["toolchain_digest"], digest.as_str());
    let (status, error) = put_recipe(&app, &token, pin, &recipe.replace("\"mini\"\n[[", "\"maxi\"\n[[")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(error["error"].as_str().unwrap().contains("toolchain"), "{error}");
}
