//! The tamper-evident log end to end: checkpoints, proofs, the verifier, tampering, and two server
//! instances appending to one database.

use crate::helpers::*;
use base64::Engine as _;
use clearroom::audit::checkpoint;
use clearroom::audit::merkle::{leaf_hash, Frontier, Hash};
use clearroom::audit::note::NoteVerifier;
use clearroom::audit::proof;
use clearroom::domain::Actor;
use reqwest::StatusCode;
use std::path::Path;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

async fn regulator_token(app: &TestApp) -> String {
    app.token("regulator").await
}

async fn get_text(app: &TestApp, token: &str, path: &str) -> (StatusCode, String) {
    let response = new_client().get(app.url(path)).bearer_auth(token).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

fn hashes(value: &serde_json::Value) -> Vec<Hash> {
    value.as_array().unwrap().iter().map(|h| B64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap()).collect()
}

#[tokio::test]
async fn a_signed_checkpoint_and_its_proofs_verify_with_the_published_key() {
    let app = spawn_app().await;
    let token = regulator_token(&app).await;
    let (status, key) = get_text(&app, &token, "/api/v1/log/key").await;
    assert_eq!(status, StatusCode::OK);
    let key = NoteVerifier::parse(&key).unwrap();
    assert_eq!(key.name(), "test.invalid/clearroom/log");

    let (_, old_note) = get_text(&app, &token, "/api/v1/log/checkpoint").await;
    let (old_size, old_root) = checkpoint::open(&key, &old_note).unwrap();
    assert!(old_size >= 7, "the setup's events are in the log");

    app.login_as("reviewer").await;
    app.open_file("src/main.rs").await;
    let (_, note) = get_text(&app, &token, "/api/v1/log/checkpoint").await;
    let (size, root) = checkpoint::open(&key, &note).unwrap();
    assert!(size > old_size);

    let view = app.events("blob.view").await.remove(0);
    let (_, body) =
        get_text(&app, &token, &format!("/api/v1/log/proof/inclusion?index={}&size={size}", view.index)).await;
    let inclusion = hashes(&serde_json::from_str::<serde_json::Value>(&body).unwrap()["proof"]);
    let leaf = leaf_hash(view.leaf.as_bytes());
    assert!(proof::verify_inclusion(view.index as u64, size, &leaf, &inclusion, &root).is_ok());

    let (_, body) = get_text(&app, &token, &format!("/api/v1/log/proof/consistency?from={old_size}&to={size}")).await;
    let consistency = hashes(&serde_json::from_str::<serde_json::Value>(&body).unwrap()["proof"]);
    assert!(proof::verify_consistency(old_size, size, &old_root, &root, &consistency).is_ok());

    let (status, _) = get_text(&app, &token, &format!("/api/v1/log/proof/inclusion?index={size}&size={size}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get_text(&app, &token, "/api/v1/log/proof/consistency?from=1&to=999999").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_entry_proof_is_a_tlog_proof_document() {
    let app = spawn_app().await;
    let token = regulator_token(&app).await;
    let (status, document) = get_text(&app, &token, "/api/v1/log/entries/2/proof").await;
    assert_eq!(status, StatusCode::OK);
    let (head, note) = document.split_once("\n\n").unwrap();
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("c2sp.org/tlog-proof@v1"));
    assert_eq!(lines.next(), Some("index 2"));
    let path: Vec<Hash> = lines.map(|l| B64.decode(l).unwrap().try_into().unwrap()).collect();
    let key = NoteVerifier::parse(&app.domain.log().log_verifier_key()).unwrap();
    let (size, root) = checkpoint::open(&key, note).unwrap();
    let entry = &app.log.entries(2, 3).await.unwrap()[0];
    assert!(proof::verify_inclusion(2, size, &leaf_hash(entry.leaf.as_bytes()), &path, &root).is_ok());
    let (status, _) = get_text(&app, &token, "/api/v1/log/entries/999999/proof").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Writes the verifier key and a checkpoint to files and runs `server verify log` on the database.
async fn verify(app: &TestApp, dir: &Path, old_checkpoint: Option<&str>) -> Result<(), String> {
    let key = dir.join("log.pub");
    std::fs::write(&key, app.domain.log().log_verifier_key()).unwrap();
    let old = old_checkpoint.map(|note| {
        let path = dir.join("old.checkpoint");
        std::fs::write(&path, note).unwrap();
        path
    });
    clearroom::verify_cli::verify_log(&key, old.as_deref(), None, None, &app.database_url, None)
        .await
        .map_err(|e| e.to_string())
}

/// What a malicious database administrator does first.
async fn disable_append_only(app: &TestApp) {
    if app.is_postgres() {
        app.execute_sql(&[
            "ALTER TABLE audit_events DISABLE TRIGGER USER",
            "ALTER TABLE audit_objects DISABLE TRIGGER USER",
            "ALTER TABLE log_state DISABLE TRIGGER USER",
            "ALTER TABLE merkle_nodes DISABLE TRIGGER USER",
            "ALTER TABLE checkpoints DISABLE TRIGGER USER",
        ])
        .await;
    } else {
        app.execute_sql(&[
            "DROP TRIGGER audit_events_no_update",
            "DROP TRIGGER audit_events_no_delete",
            "DROP TRIGGER audit_objects_no_delete",
            "DROP TRIGGER log_state_only_grows",
            "DROP TRIGGER merkle_nodes_no_update",
            "DROP TRIGGER merkle_nodes_no_delete",
            "DROP TRIGGER checkpoints_no_delete",
        ])
        .await;
    }
}

async fn signed_log(app: &TestApp) -> String {
    app.login_as("reviewer").await;
    for path in ["README.md", "src/main.rs", "src/deep/secret.c"] {
        app.open_file(path).await;
    }
    app.publish_checkpoint().await.note
}

#[tokio::test]
async fn an_untouched_log_verifies() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let old = signed_log(&app).await;
    app.open_file("README.md").await;
    app.publish_checkpoint().await;
    assert_eq!(verify(&app, dir.path(), Some(&old)).await, Ok(()));
}

/// The exact bytes of entry `index` as stored.
async fn stored_leaf(app: &TestApp, index: i64) -> Vec<u8> {
    app.log.raw_entries(index as u64, index as u64 + 1).await.unwrap()[0].1.clone()
}

/// Overwrites the stored bytes of entry `index`, as an administrator with the triggers off can.
async fn store_leaf(app: &TestApp, index: i64, leaf: &[u8]) {
    let mut connection = sqlx::AnyConnection::connect(&app.database_url).await.unwrap();
    sqlx::query("UPDATE audit_events SET leaf = $1 WHERE idx = $2")
        .bind(leaf.to_vec())
        .bind(index)
        .execute(&mut connection)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_verifier_names_an_edited_byte() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    signed_log(&app).await;
    disable_append_only(&app).await;
    let target = app.events("blob.view").await.last().unwrap().index;
    let mut edited = stored_leaf(&app, target).await;
    let at = edited.windows(6).position(|w| w == b"README").unwrap();
    edited[at] = b'X';
    store_leaf(&app, target, &edited).await;
    let error = verify(&app, dir.path(), None).await.unwrap_err();
    assert!(error.contains(&format!("first bad index {target}")), "{error}");
}

use sqlx::Connection;

#[tokio::test]
async fn the_verifier_names_a_leaf_that_is_not_text() {
    // Leaves are read many to a row as text; a stored leaf that is not UTF-8 cannot travel that
    // way, and the range is read again row by row, so the verifier still sees the stored bytes.
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    signed_log(&app).await;
    disable_append_only(&app).await;
    let target = app.events("blob.view").await.last().unwrap().index;
    let mut edited = stored_leaf(&app, target).await;
    edited[1] = 0xff;
    store_leaf(&app, target, &edited).await;
    let size = app.log.size().await.unwrap();
    let entries = app.log.raw_entries(0, size).await.unwrap();
    assert_eq!(entries.len() as u64, size);
    assert_eq!(entries[target as usize].1, edited, "the stored bytes, as they are");
    let error = verify(&app, dir.path(), None).await.unwrap_err();
    assert!(error.contains(&format!("first bad index {target}")), "{error}");
}

#[tokio::test]
async fn the_verifier_names_a_deleted_row() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    signed_log(&app).await;
    disable_append_only(&app).await;
    app.execute_sql(&["DELETE FROM audit_events WHERE idx = 3"]).await;
    let error = verify(&app, dir.path(), None).await.unwrap_err();
    assert!(error.contains("first bad index 3"), "{error}");
}

#[tokio::test]
async fn the_verifier_names_swapped_rows() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    signed_log(&app).await;
    disable_append_only(&app).await;
    let rows = app.log.raw_entries(4, 6).await.unwrap();
    let mut connection = sqlx::AnyConnection::connect(&app.database_url).await.unwrap();
    for (to, from) in [(4i64, &rows[1]), (5i64, &rows[0])] {
        sqlx::query("UPDATE audit_events SET leaf = $1, leaf_hash = $2 WHERE idx = $3")
            .bind(from.1.clone())
            .bind(from.2.clone())
            .bind(to)
            .execute(&mut connection)
            .await
            .unwrap();
    }
    let error = verify(&app, dir.path(), None).await.unwrap_err();
    assert!(error.contains("first bad index 4"), "{error}");
}

#[tokio::test]
async fn a_rewritten_history_signed_with_the_real_key_fails_consistency() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let old = signed_log(&app).await;
    let key = NoteVerifier::parse(&app.domain.log().log_verifier_key()).unwrap();
    let (old_size, _) = checkpoint::open(&key, &old).unwrap();

    // The vendor drops the last events (the views of the secret), rebuilds the head, appends
    // innocuous events and has the server sign the new history with its real key.
    disable_append_only(&app).await;
    let keep = old_size - 3;
    let kept = app.log.raw_entries(0, keep).await.unwrap();
    let mut frontier = Frontier::empty();
    for (_, _, hash) in &kept {
        frontier.push(hash.clone().try_into().unwrap());
    }
    let mut statements = vec![
        format!("DELETE FROM audit_events WHERE idx >= {keep}"),
        format!("DELETE FROM audit_objects WHERE event_idx >= {keep}"),
        "DELETE FROM checkpoints".to_string(),
    ];
    for level in 1..40u32 {
        statements.push(format!("DELETE FROM merkle_nodes WHERE level = {level} AND idx >= {}", keep >> level));
    }
    let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
    app.execute_sql(&refs).await;
    let mut connection = sqlx::AnyConnection::connect(&app.database_url).await.unwrap();
    sqlx::query("UPDATE log_state SET size = $1, root = $2, frontier = $3 WHERE id = 1")
        .bind(keep as i64)
        .bind(frontier.root().to_vec())
        .bind(frontier.to_bytes())
        .execute(&mut connection)
        .await
        .unwrap();
    for _ in 0..6 {
        app.open_file("README.md").await;
    }
    let rewritten = app.publish_checkpoint().await;
    assert!(rewritten.size > old_size, "the new history is longer than the old one");

    assert_eq!(verify(&app, dir.path(), None).await, Ok(()), "on its own the rewritten log is self-consistent");
    let error = verify(&app, dir.path(), Some(&old)).await.unwrap_err();
    assert!(error.contains("history was rewritten"), "{error}");
}

#[tokio::test]
async fn the_server_refuses_to_sign_a_history_inconsistent_with_its_last_checkpoint() {
    let app = spawn_app().await;
    signed_log(&app).await;
    disable_append_only(&app).await;
    // Rewrite the stored subtrees over the oldest entries: the tree no longer extends the checkpoint.
    app.execute_sql(&[
        "UPDATE merkle_nodes SET hash = (SELECT leaf_hash FROM audit_events WHERE idx = 1) WHERE idx = 0",
    ])
    .await;
    app.open_file("README.md").await;
    assert!(app.log.publish_checkpoint(&app.signer).await.is_err());
}

#[tokio::test]
async fn two_instances_append_one_log_without_gaps() {
    let app = spawn_app().await;
    let second = crate::helpers::spawn_second_instance(&app).await;
    let mut clients = Vec::new();
    for address in [&app.address, &second] {
        let client = new_client();
        let response = client
            .post(format!("{address}/login"))
            .form(&[("username", "reviewer"), ("password", PASSWORD), ("next", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        clients.push((client, address.clone()));
    }
    let before = app.events("blob.view").await.len();
    let mut requests = Vec::new();
    for i in 0..40 {
        let (client, address) = clients[i % 2].clone();
        let url = format!("{address}/pins/{}/blob/src/main.rs", app.pin);
        requests.push(tokio::spawn(async move { client.get(url).send().await.unwrap().status() }));
    }
    for request in requests {
        assert_eq!(request.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(app.events("blob.view").await.len() - before, 40, "every request's event is present");
    let size = app.log.size().await.unwrap();
    let entries = app.log.raw_entries(0, size).await.unwrap();
    assert_eq!(entries.len() as u64, size);
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry.0, i as u64, "no gap, no duplicate");
    }
    let dir = tempfile::tempdir().unwrap();
    app.publish_checkpoint().await;
    assert_eq!(verify(&app, dir.path(), None).await, Ok(()));
}

#[tokio::test]
async fn a_committer_whose_last_head_went_stale_appends_after_the_others() {
    // On PostgreSQL a committer that knows the head it left commits in one statement that holds
    // only if nobody appended since; here the server, a business transaction and this log take
    // turns, so every commit after the first finds its known head stale once.
    let app = spawn_app().await;
    let event = |i: u32| {
        let path = app::model::RepoPath::parse(&format!("turn-{i}")).unwrap();
        clearroom::audit::Event::by_operator(clearroom::audit::Action::BlobView)
            .on(clearroom::audit::Object::at(app.pin, None, &path))
    };
    app.login_as("reviewer").await;
    let mut indices = Vec::new();
    for turn in 0..3 {
        indices.push(app.log.record(&event(turn * 10)).await.unwrap());
        indices.push(app.log.record(&event(turn * 10 + 1)).await.unwrap());
        let (status, _) = app.get_text(&format!("/pins/{}/blob/src/main.rs", app.pin)).await;
        assert_eq!(status, StatusCode::OK);
        indices.push(app.log.record(&event(turn * 10 + 2)).await.unwrap());
        let mut tx = app.log.begin().await.unwrap();
        tx.append(&event(turn * 10 + 3)).await.unwrap();
        tx.commit().await.unwrap();
    }
    let size = app.log.size().await.unwrap();
    let entries = app.log.raw_entries(0, size).await.unwrap();
    assert_eq!(entries.len() as u64, size);
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry.0, i as u64, "no gap, no duplicate");
    }
    for pair in indices.windows(2) {
        assert!(pair[0] < pair[1], "each record lands after the one before: {indices:?}");
    }
    let turns = app.events("blob.view").await;
    assert_eq!(turns.iter().filter(|e| e.path.as_deref().is_some_and(|p| p.starts_with("turn-"))).count(), 12);
    let dir = tempfile::tempdir().unwrap();
    app.publish_checkpoint().await;
    assert_eq!(verify(&app, dir.path(), None).await, Ok(()), "the chain and the tree hold across the turns");
}

#[tokio::test]
async fn a_regulator_checks_an_old_checkpoint_in_the_ui() {
    let app = spawn_app().await;
    app.login_as("regulator").await;
    let (status, page) = app.get_text("/log").await;
    assert_eq!(status, StatusCode::OK);
    let key = NoteVerifier::parse(&app.domain.log().log_verifier_key()).unwrap();
    assert!(page.contains(&key.fingerprint()), "the fingerprint is shown");
    assert!(page.contains("test.invalid/clearroom/log"), "the checkpoint is shown");

    let old = app.log.latest_checkpoint().await.unwrap().unwrap().note;
    app.open_file("README.md").await; // A regulator without a grant: recorded, refused.
    let csrf = app.csrf_token().await;
    let response = app.post_form("/log/check", &[("csrf", &csrf), ("checkpoint", &old)]).await;
    let answer = location(&response);
    assert!(answer.starts_with("/log?done=consistent"), "{answer}");

    let forged = old.replacen("test.invalid", "evil.invalid", 1);
    let response = app.post_form("/log/check", &[("csrf", &csrf), ("checkpoint", &forged)]).await;
    assert!(location(&response).starts_with("/log?error="), "{}", location(&response));
}

#[tokio::test]
async fn many_concurrent_views_share_commits_and_all_are_recorded() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let log = app.log.clone();
        tasks.push(tokio::spawn(async move {
            let path = app::model::RepoPath::parse(&format!("file-{i}")).unwrap();
            let event = clearroom::audit::Event::by_operator(clearroom::audit::Action::BlobView)
                .on(clearroom::audit::Object::at(app::model::PinId::from_stored(1), None, &path));
            log.record(&event).await.unwrap()
        }));
    }
    let mut indices = Vec::new();
    for task in tasks {
        indices.push(task.await.unwrap());
    }
    indices.sort();
    indices.dedup();
    assert_eq!(indices.len(), 64, "each event has its own index");
    assert_eq!(app.events("blob.view").await.len(), 64);
}

#[tokio::test]
async fn a_server_started_on_an_empty_log_goes_on_publishing_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let config = clearroom::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("fresh"),
        database_url: test_database_url(dir.path()).await,
        site_root: dir.path().join("site"),
        limits: clearroom::config::SourceLimits::default(),
        log_key: None,
        log_origin: "fresh.invalid/clearroom/log".into(),
        witness_policy: None,
        clock: clearroom::clock::Clock::system(),
        network: Default::default(),
        import_roots: Vec::new(),
        require_staff_second_factor: false,
        connections: Default::default(),
        room: Default::default(),
    };
    let domain = clearroom::startup::open_domain(&config).await.unwrap();
    let application = clearroom::startup::Application::build(config.clone(), domain.clone()).await.unwrap();
    let address = format!("http://{}", application.address());
    tokio::spawn(application.run_until_stopped());
    let (log, _) = outside_log(&config).await;

    // The first event after start: the background publisher must sign past the empty checkpoint.
    domain
        .admin()
        .create_user(
            Actor::Operator,
            "rex",
            app::model::Role::Regulator,
            Some(clearroom::auth::Password::new(PASSWORD.into())),
        )
        .await
        .unwrap();
    let mut signed = 0;
    for _ in 0..50 {
        signed = log.latest_checkpoint().await.unwrap().map(|c| c.size).unwrap_or(0);
        if signed >= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(signed, 1, "the publisher signed the log of one entry");

    let request = clearroom::domain::TokenRequest { scopes: &[app::model::Scope::LogRead], days: 1, label: "" };
    let token = domain.access().create_token(Actor::Operator, "rex", request).await.unwrap();
    let response =
        new_client().get(format!("{address}/api/v1/log/checkpoint")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let key = NoteVerifier::parse(&domain.log().log_verifier_key()).unwrap();
    let (size, _) = checkpoint::open(&key, &response.text().await.unwrap()).unwrap();
    assert_eq!(size, 2, "on demand, too");
    let response = new_client()
        .get(format!("{address}/api/v1/log/proof/consistency?from=0&to=2"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the empty log is a prefix of every log");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["proof"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn the_server_catches_an_edited_entry_itself_and_raises_the_alarm() {
    let app = spawn_app().await;
    signed_log(&app).await;
    // A full pass, then incremental rounds as the log grows: all well.
    let status = app.domain.log().self_audit(true).await.unwrap();
    assert!(status.alarm.is_none() && status.verified_size > 0, "{status:?}");
    let before = status.verified_size;
    app.open_file("src/main.rs").await;
    app.publish_checkpoint().await;
    let status = app.domain.log().self_audit(false).await.unwrap();
    assert!(status.alarm.is_none() && status.verified_size > before, "{status:?}");

    // An insider edits one byte of an entry already checked: the incremental round cannot see
    // it (it reads only new entries), the next full pass does.
    disable_append_only(&app).await;
    let target = app.events("blob.view").await.last().unwrap().index;
    let mut edited = stored_leaf(&app, target).await;
    let at = edited.windows(6).position(|w| w == b"README").unwrap();
    edited[at] = b'X';
    store_leaf(&app, target, &edited).await;
    let status = app.domain.log().self_audit(true).await.unwrap();
    let alarm = status.alarm.expect("the alarm is raised");
    assert_eq!(alarm.index, Some(target as u64));
    assert!(alarm.reason.contains("altered"), "{}", alarm.reason);

    // Every channel says so: /healthz, the banner for staff (not reviewers), the log itself.
    let health: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["status"], "alarm");
    assert_eq!(health["self_audit"]["alarm"]["index"], target);
    let staff = app.session_client("staff").await;
    let page = staff.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Integrity alarm") && page.contains(&format!("entry {target}")), "{page}");
    let reviewer = app.session_client("reviewer").await;
    let page = reviewer.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("Integrity alarm"));
    let failed = app.events("log.self_check_failed").await;
    assert_eq!(failed.len(), 1);
    // The alarm stays, even if the edit is put back.
    assert!(app.domain.log().self_audit(true).await.unwrap().alarm.is_some());
}

/// SQLite migration 9 rebuilds the events table (its index becomes the rowid). A log written
/// before it keeps every byte, still verifies against its old checkpoint, refuses edits, and grows.
#[tokio::test]
async fn a_sqlite_log_from_before_the_events_table_was_rebuilt_verifies_and_grows_after_it() {
    use clearroom::audit::note::NoteSigner;
    use clearroom::audit::{AuditLog, Event, Object};
    use sqlx::{Executor, Row};

    let dir = tempfile::tempdir().unwrap();
    let event = |i: usize| {
        let path = app::model::RepoPath::parse(&format!("src/file_{i}.rs")).unwrap();
        Event::by_operator(clearroom::audit::Action::BlobView).on(Object::at(
            app::model::PinId::from_stored(1),
            Some("9f1c0ffee0000000000000000000000000000001"),
            &path,
        )
        .shown(&format!("{i:040x}")))
    };
    // A log written today, whose rows are then copied into a database with the older schema.
    let source = dir.path().join("source.db");
    let log = AuditLog::new(
        clearroom::store::Store::connect(&format!("sqlite://{}?mode=rwc", source.display())).await.unwrap(),
        clearroom::clock::Clock::system(),
    );
    for i in 0..40 {
        log.record(&event(i)).await.unwrap();
    }
    let signer = NoteSigner::generate("test.invalid/clearroom/log").unwrap();
    let old = log.publish_checkpoint(&signer).await.unwrap();
    drop(log);
    let key = dir.path().join("log.pub");
    std::fs::write(&key, signer.verifier().to_string()).unwrap();
    let old_note = dir.path().join("old.checkpoint");
    std::fs::write(&old_note, &old.note).unwrap();

    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/sqlite");
    let before = dir.path().join("before-9");
    std::fs::create_dir(&before).unwrap();
    for file in std::fs::read_dir(&migrations).unwrap() {
        let file = file.unwrap();
        let name = file.file_name().into_string().unwrap();
        if name.as_str() < "0009" {
            std::fs::copy(file.path(), before.join(&name)).unwrap();
        }
    }
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    let stored = {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::migrate::Migrator::new(before.as_path()).await.unwrap().run(&pool).await.unwrap();
        let mut conn = pool.acquire().await.unwrap();
        conn.execute(format!("ATTACH DATABASE '{}' AS source", source.display()).as_str()).await.unwrap();
        for table in ["audit_events", "audit_objects", "merkle_nodes", "checkpoints"] {
            conn.execute(format!("INSERT INTO {table} SELECT * FROM source.{table}").as_str()).await.unwrap();
        }
        conn.execute(
            "UPDATE log_state SET size = s.size, root = s.root, frontier = s.frontier FROM source.log_state s",
        )
        .await
        .unwrap();
        let index: String = sqlx::query("SELECT sql FROM sqlite_master WHERE name = 'audit_objects_by_blob'")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get(0);
        assert!(index.contains("blob_id"), "the older schema is in place");
        let rows =
            sqlx::query("SELECT idx, leaf, leaf_hash FROM audit_events ORDER BY idx").fetch_all(&mut *conn).await;
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = rows.unwrap().iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
        assert_eq!(rows.len(), 40);
        pool.close().await;
        rows
    };

    // Opening the store runs migration 9 on the old log.
    let store = clearroom::store::Store::connect(&url).await.unwrap();
    let log = AuditLog::new(store.clone(), clearroom::clock::Clock::system());
    let after: Vec<(u64, Vec<u8>, Vec<u8>)> = store.raw_log_entries(0, 40).await.unwrap();
    let stored: Vec<(u64, Vec<u8>, Vec<u8>)> = stored.into_iter().map(|(i, l, h)| (i as u64, l, h)).collect();
    assert_eq!(after, stored, "every entry keeps its index and exact bytes");
    clearroom::verify_cli::verify_log(&key, Some(&old_note), None, None, &url, None).await.unwrap();

    // Still append-only, and the head still moves only over stored entries.
    let mut outside = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let schema: Vec<String> = sqlx::query("SELECT name || ': ' || sql FROM sqlite_master WHERE tbl_name = 'audit_events' OR name LIKE 'audit_objects_by%'")
        .fetch_all(&mut outside)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(schema.iter().any(|s| s.contains("idx         INTEGER PRIMARY KEY")), "{schema:#?}");
    assert!(!schema.iter().any(|s| s.contains("audit_objects_by_blob")), "{schema:#?}");
    assert_eq!(schema.iter().filter(|s| s.contains("TRIGGER")).count(), 2, "{schema:#?}");
    for refused in [
        "UPDATE audit_events SET actor = 'someone else' WHERE idx = 3",
        "DELETE FROM audit_events WHERE idx = 39",
        "UPDATE log_state SET size = size + 1",
    ] {
        assert!(sqlx::query(refused).execute(&mut outside).await.is_err(), "{refused}");
    }

    for i in 40..70 {
        log.record(&event(i)).await.unwrap();
    }
    let grown = log.publish_checkpoint(&signer).await.unwrap();
    assert_eq!(grown.size, 70);
    clearroom::verify_cli::verify_log(&key, Some(&old_note), None, None, &url, None).await.unwrap();
}

/// The tiles of the log (C2SP tlog-tiles) as a client reads them: from the checkpoint's size,
/// every hash tile equal to the subtree roots computed from the entries, the entry bundles
/// holding the exact leaves, partial tiles at the edge, and nothing past it.
#[tokio::test]
async fn the_log_is_served_as_tiles_that_agree_with_its_entries() {
    use clearroom::audit::tiles::{self, TileKind};
    let app = spawn_app().await;
    let token = regulator_token(&app).await;
    // Past one full tile at level 0, so that level 1 has a node.
    let mut tx = app.log.begin().await.unwrap();
    for n in 0..300 {
        let event = clearroom::audit::Event::by_operator(clearroom::audit::Action::PinCreate)
            .with(serde_json::json!({ "n": n }));
        tx.append(&event).await.unwrap();
    }
    tx.commit().await.unwrap();
    let key = NoteVerifier::parse(&get_text(&app, &token, "/api/v1/log/key").await.1).unwrap();
    let (_, note) = get_text(&app, &token, "/api/v1/log/checkpoint?latest=1").await;
    let (size, root) = checkpoint::open(&key, &note).unwrap();
    assert!(size > 300);

    let get = |path: String| {
        let request = new_client().get(app.url(&format!("/api/v1/log/{path}"))).bearer_auth(&token);
        async move {
            let response = request.send().await.unwrap();
            let cache = response.headers()["cache-control"].to_str().unwrap().to_string();
            (response.status(), cache, response.bytes().await.unwrap().to_vec())
        }
    };
    let (mut from_entries, mut from_tiles, mut level1): (Vec<Hash>, Vec<Hash>, Vec<Hash>) = Default::default();
    for tile in tiles::tiles_of(size) {
        let (status, cache, body) = get(tile.path()).await;
        assert_eq!(status, StatusCode::OK, "{}", tile.path());
        let (_, start, _) = tile.span();
        match tile.kind {
            TileKind::Entries => {
                let entries = tiles::parse_entry_bundle(&body).unwrap();
                assert_eq!(entries.len(), tile.width as usize);
                let stored = app.log.raw_entries(start, start + tile.width as u64).await.unwrap();
                assert!(entries.iter().zip(&stored).all(|(entry, (_, leaf, _))| entry == leaf));
                assert_eq!(cache, "no-store", "entry bundles are recorded reads");
                from_entries.extend(entries.iter().map(|entry| leaf_hash(entry)));
            }
            TileKind::Hashes { level } => {
                let hashes: Vec<Hash> = body.chunks_exact(32).map(|c| c.try_into().unwrap()).collect();
                assert_eq!(hashes.len(), tile.width as usize);
                assert_eq!(cache.contains("immutable"), tile.full(), "{}", tile.path());
                match level {
                    0 => from_tiles.extend(hashes),
                    1 => level1.extend(hashes),
                    _ => unreachable!("{size} leaves reach level 1"),
                }
            }
        }
    }
    assert_eq!(from_entries.len() as u64, size);
    assert_eq!(from_entries, from_tiles);
    // Level 1's first node is the root of the first 256 leaves; the tree's root from the tiles.
    let mut frontier = Frontier::empty();
    for hash in &from_entries[..256] {
        frontier.push(*hash);
    }
    assert_eq!(level1, vec![frontier.root()]);
    let mut whole = Frontier::empty();
    for hash in &from_entries {
        whole.push(*hash);
    }
    assert_eq!(whole.root(), root, "the checkpoint's root, from the tiles alone");

    // Past the edge, a wider partial, a malformed path; the entries read is recorded.
    let edge = tiles::TileRef { kind: TileKind::Hashes { level: 0 }, index: size / 256, width: 256 };
    assert_eq!(get(edge.path()).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(format!("tile/0/{:03}.p/255", size / 256 + 1)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get("tile/0/7".into()).await.0, StatusCode::BAD_REQUEST);
    let reads = app.events("log.read").await;
    assert!(reads.iter().any(|e| e.leaf.contains("\"tile\":\"tile/entries/000\"")), "the bundle's read is recorded");
    let anonymous = new_client().get(app.url("/api/v1/log/tile/0/000")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let reviewer = app.token("reviewer").await;
    let refused = new_client().get(app.url("/api/v1/log/tile/0/000")).bearer_auth(&reviewer).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}
