//! `server backup` while the server serves readers, and `server restore` into a new directory: the
//! restored log verifies and holds every event acknowledged before the backup began; keys left out
//! on request; a damaged backup, a used directory and an existing file refused, nothing left behind.

use crate::helpers::*;
use reqwest::StatusCode;
use std::path::Path;
use std::process::Command;

/// Runs the server's command line; whether it succeeded, and what it printed.
fn server(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_server")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

fn names_in(backup: &Path) -> Vec<String> {
    let archive = zip::ZipArchive::new(std::fs::File::open(backup).unwrap()).unwrap();
    archive.file_names().map(|name| name.unwrap().into_owned()).collect()
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_to_a_log_that_verifies_with_every_event_before_it() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    for path in ["src/main.rs", "README.md"] {
        assert_eq!(app.open_file(path).await.0, StatusCode::OK);
    }
    app.publish_checkpoint().await;
    let acknowledged = app.count_sql("SELECT COUNT(*) FROM audit_events").await;
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("centre.backup");

    // Readers keep the server busy (each view an event) while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (client, url, stop) =
            (app.client.clone(), app.url(&format!("/pins/{}/blob/src/main.rs", app.pin)), stop.clone());
        tokio::spawn(async move {
            let mut served = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && served < 2_000 {
                if client.get(&url).send().await.is_ok_and(|r| r.status() == StatusCode::OK) {
                    served += 1;
                }
            }
            served
        })
    };
    let data = app.data_dir.to_str().unwrap().to_string();
    let (database, target) = (app.database_url.clone(), out.to_str().unwrap().to_string());
    let (ok, said) = tokio::task::spawn_blocking(move || {
        server(&["--data-dir", &data, "--database-url", &database, "backup", "--out", &target])
    })
    .await
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let served = load.await.unwrap();
    assert!(ok, "{said}");
    assert!(served > 0, "the server kept serving");
    let names = names_in(&out);
    assert!(names.iter().any(|n| n == "clearroom-backup.json"));
    assert!(names.iter().any(|n| n.starts_with("data/repos/product.git/")), "the repositories");
    assert!(names.iter().any(|n| n == "data/log-signing.key"), "the keys");
    assert!(!names.iter().any(|n| n.starts_with("data/highlight/")), "not the cache");

    // Restored into a new directory: every file checked; the log verifies and has every event
    // acknowledged before the backup began.
    let restored = work.path().join("restored");
    let (ok, said) = server(&["--data-dir", restored.to_str().unwrap(), "restore", out.to_str().unwrap()]);
    assert!(ok, "{said}");
    assert!(said.contains("not in it"), "the restore says what a backup cannot hold: {said}");
    assert!(restored.join("repos/product.git/HEAD").exists());
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&restored).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "the restored directory is private");
    if !app.is_postgres() {
        let key = work.path().join("log.pub");
        std::fs::write(&key, app.signer.verifier().to_string()).unwrap();
        let (ok, said) =
            server(&["--data-dir", restored.to_str().unwrap(), "verify", "log", "--key", key.to_str().unwrap()]);
        assert!(ok && said.contains("verified"), "{said}");
        let url = format!("sqlite://{}", restored.join("clearroom.db").display());
        let store = clearroom::store::Store::connect(&url).await.unwrap();
        let log = clearroom::audit::AuditLog::new(store, clearroom::clock::Clock::system());
        let size = log.size().await.unwrap() as i64;
        assert!(size >= acknowledged, "{size} events restored, {acknowledged} acknowledged before the backup");
    } else {
        assert!(!names.iter().any(|n| n.starts_with("database/")), "PostgreSQL is dumped by its own tools");
    }
}

#[tokio::test]
async fn keys_are_left_out_on_request_and_damage_is_refused_with_nothing_left_behind() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let data = app.data_dir.to_str().unwrap();
    let out = work.path().join("no-keys.backup");
    let (ok, said) = server(&[
        "--data-dir",
        data,
        "--database-url",
        &app.database_url,
        "backup",
        "--out",
        out.to_str().unwrap(),
        "--without-keys",
    ]);
    assert!(ok, "{said}");
    assert!(!names_in(&out).iter().any(|n| n.ends_with(".key")), "no key in {:?}", names_in(&out));
    let (ok, said) =
        server(&["--data-dir", data, "--database-url", &app.database_url, "backup", "--out", out.to_str().unwrap()]);
    assert!(!ok && said.contains("exists already"), "{said}");

    let restored = work.path().join("restored");
    let (ok, said) = server(&["--data-dir", restored.to_str().unwrap(), "restore", out.to_str().unwrap()]);
    assert!(ok && said.contains("without its keys"), "{said}");
    let (ok, said) = server(&["--data-dir", restored.to_str().unwrap(), "restore", out.to_str().unwrap()]);
    assert!(!ok && said.contains("not empty"), "{said}");

    // One byte of a stored file changed: the restore stops and removes what it wrote.
    let at = {
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
        let head = archive.by_name("data/repos/product.git/HEAD").unwrap();
        head.data_start().expect("a stored entry's data") as usize
    };
    let mut bytes = std::fs::read(&out).unwrap();
    bytes[at] ^= 0x20;
    let damaged = work.path().join("damaged.backup");
    std::fs::write(&damaged, &bytes).unwrap();
    let elsewhere = work.path().join("elsewhere");
    let (ok, said) = server(&["--data-dir", elsewhere.to_str().unwrap(), "restore", damaged.to_str().unwrap()]);
    assert!(!ok && (said.contains("damaged") || said.contains("checksum")), "{said}");
    assert!(!elsewhere.exists(), "nothing is left of a refused restore");
    let (ok, said) = server(&["--data-dir", elsewhere.to_str().unwrap(), "restore", "/no/such/file"]);
    assert!(!ok && said.contains("/no/such/file"), "{said}");
}
