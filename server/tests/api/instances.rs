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

/// The server's command line on a data directory and database.
fn command_line(data: &std::path::Path, database: &str, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["--data-dir", data.to_str().unwrap(), "--database-url", database])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let output = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{args:?}: {text}");
    text
}

/// `server serve` as its own process on the data directory and database; its address.
fn serve(data: &std::path::Path, database: &str) -> (std::process::Child, String) {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["--data-dir", data.to_str().unwrap(), "--database-url", database])
        .args(["serve", "--listen", "127.0.0.1:0", "--job-stale-seconds", "2"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("the server prints its address").unwrap();
        if let Some((_, address)) = line.split_once("listening on ") {
            break address.trim().to_string();
        }
    };
    // The rest of its output is read and dropped, so that it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, address)
}

/// The state and progress of a job, read from the shared database.
async fn job(database: &str, id: i64) -> (String, i64, i64) {
    use sqlx::{Connection as _, Row as _};
    let mut connection = sqlx::AnyConnection::connect(database).await.unwrap();
    let row = sqlx::query("SELECT state, done_units, total_units FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&mut connection)
        .await
        .unwrap();
    (row.try_get(0).unwrap(), row.try_get(1).unwrap(), row.try_get(2).unwrap())
}

#[tokio::test]
async fn a_job_of_an_instance_killed_mid_way_is_taken_over_by_another() {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let (data, database) = (dir.path().join("data"), test_database_url(dir.path()).await);
    // A repository whose highlighting takes a while: 2,000 C files of 200 lines.
    let upstream = dir.path().join("big.git");
    let repo = git2::Repository::init_bare(&upstream).unwrap();
    let body: String = (0..200).map(|i| format!("int f{i}(int x) {{ return x * {i} + {i}; }}\n")).collect();
    let files: Vec<(String, Vec<u8>)> =
        (0..2_000).map(|n| (format!("src/m{:02}/f{n}.c", n % 40), body.clone().into_bytes())).collect();
    let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, b)| (p.as_str(), b.clone())).collect();
    clearroom::demo::write_commit(&repo, &files, "Big").unwrap();
    command_line(
        &data,
        &database,
        &["user", "add", "--username", "rita", "--role", "reviewer"],
        Some(&format!("{PASSWORD}\n")),
    );
    command_line(&data, &database, &["repo", "import", "big", upstream.to_str().unwrap()], None);
    command_line(&data, &database, &["pin", "big", "HEAD", "--label", "Big 1.0"], None);
    let grant =
        ["grant", "--username", "rita", "--pin", "1", "--from", "2020-01-01T00:00", "--until", "2099-01-01T00:00"];
    command_line(&data, &database, &grant, None);

    // Instance A takes the pin's jobs; it is killed (SIGKILL) while one is part-way through.
    let (mut a, _) = serve(&data, &database);
    let mut caught = None;
    for _ in 0..2_000 {
        use sqlx::{Connection as _, Row as _};
        let mut connection = sqlx::AnyConnection::connect(&database).await.unwrap();
        let running = sqlx::query(
            "SELECT id FROM jobs WHERE state = 'running' AND done_units > 0 AND done_units < total_units ORDER BY id",
        )
        .fetch_optional(&mut connection)
        .await
        .unwrap();
        if let Some(row) = running {
            caught = Some(row.try_get::<i64, _>(0).unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    a.kill().unwrap();
    a.wait().unwrap();
    let id = caught.expect("a job of instance A was seen part-way");
    let (state, done, total) = job(&database, id).await;
    assert_eq!(state, "running", "left running by the killed instance ({done}/{total})");
    assert!(done < total);

    // Instance B finds it silent past the stale window and does it again, to the end.
    let (mut b, address) = serve(&data, &database);
    let mut finished = None;
    for _ in 0..1_200 {
        let (state, done, total) = job(&database, id).await;
        if state != "running" && state != "queued" {
            finished = Some((state, done, total));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (state, done, total) = finished.expect("instance B finished the job");
    assert_eq!((state.as_str(), done), ("done", total), "taken over and done");
    let client = new_client();
    let response = client
        .post(format!("{address}/login"))
        .form(&[("username", "rita"), ("password", PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let view = client.get(format!("{address}/pins/1/blob/src/m07/f7.c")).send().await.unwrap();
    assert_eq!(view.status(), StatusCode::OK);
    b.kill().unwrap();
    b.wait().unwrap();
}
