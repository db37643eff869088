//! Two instances on one database and one data directory, as behind a load balancer: what one
//! writes to the shared volume (an imported repository, a new release, the highlight cache, the
//! search pack, the changed-file list, an uploaded artifact, an export bundle) the other reads, with
//! the same answers; a job left running by an instance that stopped is done again by another.

use crate::helpers::*;
use clearroom::domain::Actor;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A client signed in as `username` on the instance at `address`.
async fn signed_in_at(address: &str, username: &str) -> reqwest::Client {
    let client = new_client();
    let response = client
        .post(format!("{address}/login"))
        .form(&[("username", username), ("password", PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{username} signs in at {address}");
    client
}

async fn text(client: &reqwest::Client, url: String) -> (StatusCode, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn what_one_instance_imports_and_indexes_the_other_reads_searches_and_compares() {
    let app = spawn_app().await;
    let second = spawn_second_instance(&app).await;

    // Instance A imports a second repository and pins it; its jobs (index, pack, highlighting) run there.
    let upstream = app.data_dir.parent().unwrap().join("tools.git");
    make_repository(&upstream);
    app.domain.admin().import_repository(Actor::Operator, "tools", upstream.to_str().unwrap()).await.unwrap();
    let tools = app.domain.admin().create_pin(Actor::Operator, "tools", "HEAD", "Tools 1.0").await.unwrap();
    let now = app.clock.now_ms();
    app.domain.access().grant(Actor::Operator, "reviewer", &[tools], now - 1000, now + 3_600_000).await.unwrap();
    jobs_done(&app, tools).await;
    let on_a = app.session_client("reviewer").await;
    let (status, view_a) = text(&on_a, app.url(&format!("/pins/{tools}/blob/src/main.rs"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(std::fs::read_dir(app.data_dir.join("highlight")).is_ok_and(|mut d| d.next().is_some()), "kept on disk");

    // Instance B reads the same file, highlighted the same, from the shared volume.
    let on_b = signed_in_at(&second, "reviewer").await;
    let (status, view_b) = text(&on_b, format!("{second}/pins/{tools}/blob/src/main.rs")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(code_rows(&view_b), code_rows(&view_a), "the same rows on both instances");
    let (status, tree) = text(&on_b, format!("{second}/pins/{tools}/tree/src")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(tree.contains("main.rs") && tree.contains("deep"));

    // Search on B reads the pack A built; its results equal A's.
    let search = |address: &str| format!("{address}/api/v1/pins/{tools}/search?q={SECRET_MARKER}");
    let (status, found_b) = text(&on_b, search(&second)).await;
    assert_eq!(status, StatusCode::OK, "{found_b}");
    let (_, found_a) = text(&on_a, search(&app.address)).await;
    let results = |body: &str| serde_json::from_str::<Value>(body).unwrap()["results"].clone();
    assert_eq!(results(&found_b), results(&found_a));
    assert_eq!(results(&found_b)[0]["path"], "src/deep/secret.c");

    // A new release written and pinned through A is compared on B.
    let mut files: Vec<(&str, Vec<u8>, u32)> = vec![
        ("README.md", b"# Sample\n\nReview me again.\n".to_vec(), 0o100644),
        ("src/main.rs", main_rs().into_bytes(), 0o100644),
    ];
    files.push(("NOTICE", b"Copyright the vendor.\n".to_vec(), 0o100644));
    let next = next_release(&app, &files, "Release 1.1").await;
    jobs_done(&app, next).await;
    let compare = format!("{second}/api/v1/pins/{}/compare/{next}", app.pin);
    let (status, list) = text(&on_b, compare).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list: Value = serde_json::from_str(&list).unwrap();
    let paths: Vec<&str> = list["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"NOTICE") && paths.contains(&"README.md") && paths.contains(&"data/big.py"), "{paths:?}");

    // Both instances recorded their own reads in the one log.
    let views = app.events("blob.view").await;
    assert!(views.len() >= 2, "a view on each instance");
}

#[tokio::test]
async fn an_export_asked_for_on_one_instance_is_built_once_and_downloaded_from_either() {
    let app = spawn_app().await;
    let second = spawn_second_instance(&app).await;
    let token = app.token("regulator").await;
    let body = json!({ "pins": [app.pin.get()] });
    let (id, _) = crate::exports::export_over_api(&app, &token, body).await;
    let from_a = crate::exports::download(&app, &token, id).await;
    assert_eq!(from_a.status(), StatusCode::OK);
    let bytes_a = from_a.bytes().await.unwrap();
    let from_b =
        new_client().get(format!("{second}/api/v1/exports/{id}/bundle")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(from_b.status(), StatusCode::OK);
    assert_eq!(from_b.bytes().await.unwrap(), bytes_a, "one bundle on the shared volume");
    let members = crate::exports::members(&bytes_a);
    assert!(members.iter().any(|(name, _)| name == "manifest.json"), "a whole bundle");
    assert_eq!(app.events("export.download").await.len(), 2, "each download recorded, whichever instance served it");
}

#[tokio::test]
async fn an_artifact_uploaded_to_one_instance_is_mapped_and_read_on_the_other() {
    use crate::compiled::{build, c_files, finished_map, map_lines, pin_files};
    let app = spawn_app().await;
    let second = spawn_second_instance(&app).await;
    let builder = crate::builds::builder_token(&app, "ci").await;
    let staff = app.token("staff").await;
    let pin = pin_files(&app, &c_files(), "c 1.0").await;
    let built = build(&c_files(), &["make", "prog"]);
    let bytes = std::fs::read(built.path().join("prog")).unwrap();
    let sha = crate::builds::sha256(&bytes);
    // Uploaded to B: kept on the shared volume under its hash, its map made by a worker of either.
    let response = new_client()
        .post(format!("{second}/api/v1/pins/{pin}/builds?name=prog&platform=linux-x86_64"))
        .bearer_auth(&builder)
        .header("content-type", "application/octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(std::fs::read(app.data_dir.join("artifacts/sha256").join(&sha)).unwrap(), bytes);
    let map = finished_map(&app, &staff, pin, &sha).await;
    assert_eq!(map.state, app::model::MapState::Done, "{:?}", map.reason);
    let on_b: app::model::CompiledMap = new_client()
        .get(format!("{second}/api/v1/pins/{pin}/artifacts/{sha}/compiled"))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(map_lines(&on_b), map_lines(&map), "the one map, read on either instance");
    assert_eq!(on_b.sha256, map.sha256);
}

#[tokio::test]
async fn a_pin_job_left_running_by_a_stopped_instance_is_done_again_by_another() {
    let app = spawn_app().await;
    let _second = spawn_second_instance(&app).await;
    let files = vec![("src/lib.rs", b"pub fn answer() -> u32 {\n    42\n}\n".to_vec(), 0o100644)];
    let pin = next_release(&app, &files, "Release 2.0").await;
    jobs_done(&app, pin).await;
    // As an instance killed mid-way leaves them: running, with a heartbeat a minute and more old.
    app.execute_sql(&[&format!(
        "UPDATE jobs SET state = 'running', heartbeat_at = 0 WHERE subject = {pin} AND kind LIKE 'pin.%'"
    )])
    .await;
    let running =
        app.count_sql(&format!("SELECT COUNT(*) FROM jobs WHERE subject = {pin} AND state = 'running'")).await;
    assert!(running >= 2, "the pin's jobs are left running");
    jobs_done(&app, pin).await;
    let reviewer = app.session_client("reviewer").await;
    let (status, found) = text(&reviewer, app.url(&format!("/api/v1/pins/{pin}/search?q=answer"))).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(serde_json::from_str::<Value>(&found).unwrap()["results"][0]["path"], "src/lib.rs");
}
