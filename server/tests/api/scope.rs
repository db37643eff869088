//! Grants limited to paths, as an IDOR matrix: a lab reviewer granted `crypto/**` without
//! `crypto/*test*/**` tries every route that reads a pin (pages and API) against paths outside that
//! scope. Every out-of-scope file holds a marker in its name and its bytes (and so does every
//! out-of-scope directory's name); no answer carries it, and each out-of-scope path is answered
//! exactly as an absent path of the same shape, apart from what varies between any two answers.
//! Each refusal is recorded, naming the path. A reviewer with an unscoped grant sees the marked
//! files, so the marker is there to be found.

use crate::exports::post_json;
use crate::helpers::*;
use app::model::{HistoryPolicy, PinId, Role};
use clearroom::auth::Password;
use clearroom::domain::Actor;
use clearroom::store::pins::PolicyChange;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// In every out-of-scope name and file.
const MARK: &str = "ZQXJ";
/// The same shape, at no path of the pins.
const ABSENT: &str = "QQQQ";
const PATTERNS: [&str; 2] = ["crypto/**", "!crypto/*test*/**"];

fn release(second: bool) -> Vec<(&'static str, Vec<u8>)> {
    let extra = if second { "/* revised */\n" } else { "" };
    let mut files = vec![
        ("crypto/aes.c", format!("int aes_encrypt(void) {{ return shared_fn(); }}\n{extra}")),
        ("crypto/ZQXJtest/ZQXJvectors.c", format!("/* ZQXJ */ int vectors(void) {{ return shared_fn(); }}\n{extra}")),
        ("ZQXJnet/ZQXJsocket.c", format!("/* ZQXJ */\nint shared_fn(void) {{ return 1; }}\n{extra}")),
        ("ZQXJREADME.md", format!("ZQXJ: read shared_fn\n{extra}")),
    ];
    if second {
        files.push(("crypto/gcm.c", "int gcm_seal(void) { return shared_fn(); }\n".into()));
    }
    files.into_iter().map(|(path, text)| (path, text.into_bytes())).collect()
}

/// Two releases of a "lab" repository pinned (history `full`), granted to `lab` with the scope and
/// to `reviewer` without one, indexed; the reviewer's comments and a finding on files in and out
/// of the scope. Returns (older, newer).
async fn lab_pins(app: &TestApp) -> (PinId, PinId) {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init_bare(dir.path()).unwrap();
    clearroom::demo::write_commit(&repo, &release(false), "First release").unwrap();
    // A commit changing only files outside the scope, between the pins.
    let mut tidied = release(false);
    tidied[2].1.extend_from_slice(b"/* tidied */\n");
    clearroom::demo::write_commit(&repo, &tidied, "Tidy the network code").unwrap();
    clearroom::demo::write_commit(&repo, &release(true), "Second release").unwrap();
    let admin = app.domain.admin();
    admin.import_repository(Actor::Operator, "lab", &dir.path().display().to_string()).await.unwrap();
    let older = admin.create_pin(Actor::Operator, "lab", "HEAD~2", "Lab 1").await.unwrap();
    let newer = admin.create_pin(Actor::Operator, "lab", "HEAD", "Lab 2").await.unwrap();
    admin.create_user(Actor::Operator, "lab", Role::Reviewer, Some(Password::new(PASSWORD.into()))).await.unwrap();
    for pin in [older, newer] {
        let change = PolicyChange { history: Some(HistoryPolicy::Full), ..PolicyChange::default() };
        admin.set_pin_policy(Actor::Operator, pin, change).await.unwrap();
    }
    let now = app.clock.now_ms();
    let window = (now - 1000, now + 3_600_000);
    let patterns: Vec<String> = PATTERNS.iter().map(|p| p.to_string()).collect();
    let access = app.domain.access();
    access.grant_paths(Actor::Operator, "lab", &[older, newer], window, &patterns).await.unwrap();
    access.grant_paths(Actor::Operator, "reviewer", &[older, newer], window, &[]).await.unwrap();
    jobs_done(app, older).await;
    jobs_done(app, newer).await;
    // A requirement list; the reviewer traces code in and out of the lab's scope to it.
    let list = b"id,title,text\nR.1,Encryption,Encrypt.\nR.2,Networking,Send.\n";
    app.domain.requirements().import(Actor::Operator, newer, list).await.unwrap();
    let (client, csrf) = signed_in(app, "reviewer").await;
    let comments = format!("/api/v1/pins/{newer}/comments");
    for body in [
        json!({"path": "ZQXJnet/ZQXJsocket.c", "start_line": 2, "severity": "high", "body": "ZQXJ overflow",
               "requirements": ["R.2", "R.1"]}),
        json!({"path": "crypto/ZQXJtest/ZQXJvectors.c", "body": "ZQXJ vectors are stale", "requirements": ["R.1"]}),
        json!({"path": "crypto/aes.c", "start_line": 1, "severity": "low", "body": "Constant time?", "requirements": ["R.1"]}),
    ] {
        let (status, created) = post_json(app, &client, &csrf, &comments, body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }
    (older, newer)
}

async fn send(client: &Client, csrf: &str, method: &str, url: String, body: Option<Value>) -> (StatusCode, String) {
    let origin = url.split("/pins/").next().and_then(|u| u.split("/api/").next()).unwrap_or_default().to_string();
    let request = match method {
        "GET" => client.get(url),
        "PUT" => client.put(url).header("X-CSRF-Token", csrf).header("origin", origin),
        _ => client.post(url).header("X-CSRF-Token", csrf).header("origin", origin),
    };
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// An answer with what differs between any two answers taken out (the page's script nonce, times
/// and request ids) and the path asked for made one shape, marked or absent.
fn normalised(body: &str) -> String {
    let volatile = regex::Regex::new(
        r#"nonce="[^"]*"|crossorigin="[^"]*"|"request_id":"[^"]*"|Request id [0-9a-f]+|\d{10,}|\d\d:\d\d(:\d\d)?"#,
    )
    .unwrap();
    volatile.replace_all(&body.replace(MARK, "····").replace(ABSENT, "····"), "").into_owned()
}

#[tokio::test]
async fn a_grant_limited_to_paths_reads_as_if_nothing_else_existed() {
    let app = spawn_app().await;
    let (a, b) = lab_pins(&app).await;
    let (lab, csrf) = signed_in(&app, "lab").await;
    let (full, _) = signed_in(&app, "reviewer").await;

    // What lists a pin's paths shows only those in scope (and what is in scope is shown).
    let listings: Vec<(String, &str)> = vec![
        ("/".into(), "Lab 2"),
        (format!("/pins/{b}/tree"), "crypto"),
        (format!("/pins/{b}/tree/crypto"), "aes.c"),
        (format!("/pins/{b}/blob/crypto/aes.c"), "aes_encrypt"),
        (format!("/pins/{b}/blob/crypto/gcm.c"), "gcm_seal"),
        (format!("/pins/{b}/lines/crypto/aes.c?from=1"), "aes_encrypt"),
        (format!("/pins/{b}/raw/crypto/aes.c"), "aes_encrypt"),
        (format!("/pins/{b}/search?q=shared_fn"), "aes.c"),
        (format!("/api/v1/pins/{b}/search?q=shared_fn"), "gcm.c"),
        (format!("/api/v1/pins/{b}/search?q=Z%5BQ%5DXJ&re=1"), "\"files\""),
        (format!("/api/v1/pins/{b}/search?q=revised"), "aes.c"),
        (format!("/api/v1/pins/{b}/files?q=c"), "crypto/aes.c"),
        (format!("/api/v1/pins/{b}/files?q=sock"), "["),
        (format!("/api/v1/pins/{b}/symbols/shared_fn"), "crypto/gcm.c"),
        (format!("/api/v1/pins/{a}/compare/{b}"), "crypto/gcm.c"),
        (format!("/pins/{a}/compare/{b}"), "crypto/aes.c"),
        (format!("/pins/{a}/compare/{b}/crypto/aes.c"), "revised"),
        (format!("/api/v1/pins/{a}/compare/{b}/diff?path=crypto/aes.c"), "revised"),
        (format!("/api/v1/pins/{b}/coverage"), "\"total\""),
        (format!("/pins/{b}/coverage"), "aes.c"),
        (format!("/api/v1/pins/{b}/comments"), "Constant time?"),
        (format!("/pins/{b}/comments"), "Constant time?"),
        (format!("/pins/{b}/verdicts"), "1 open finding"),
        (format!("/api/v1/pins/{b}/traceability"), "Constant time?"),
        (format!("/pins/{b}/traceability"), "crypto/aes.c:1"),
        (format!("/api/v1/pins/{a}/history/{b}"), "crypto/aes.c"),
        (format!("/pins/{a}/history/{b}"), "Second release"),
        (format!("/api/v1/pins/{b}/blame?path=crypto/aes.c"), "aes_encrypt"),
        (format!("/pins/{b}/blame/crypto/aes.c"), "aes_encrypt"),
        (format!("/pins/{b}/builds"), "Lab 2"),
    ];
    let mut probes = 0;
    for (url, shown) in &listings {
        let (status, body) = send(&lab, &csrf, "GET", app.url(url), None).await;
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
        assert!(!body.contains(MARK), "{url} tells what is out of scope: {body}");
        assert!(body.contains(shown), "{url} shows {shown:?}: {body}");
        probes += 1;
    }
    // Traceability counts only the regions in scope: R.2's one region is outside it.
    let url = app.url(&format!("/api/v1/pins/{b}/traceability"));
    let trace = |client: Client| {
        let url = url.clone();
        async move { client.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let (lab_trace, full_trace) = (trace(lab.clone()).await, trace(full.clone()).await);
    assert_eq!((lab_trace["traced"].as_u64(), lab_trace["untraced"].as_u64()), (Some(1), Some(1)), "{lab_trace}");
    assert_eq!(lab_trace["requirements"][0]["id"], "R.2");
    assert_eq!(
        (full_trace["traced"].as_u64(), full_trace["requirements"][0]["regions"].as_array().map(Vec::len)),
        (Some(2), Some(3))
    );
    // The scope is told on the pin's pages.
    let (_, tree) = send(&lab, &csrf, "GET", app.url(&format!("/pins/{b}/tree")), None).await;
    assert!(tree.contains("Your access covers: ") && tree.contains("(2 patterns)"), "{tree}");
    // A commit's files, and its diffs, are those in scope.
    let (_, history) = send(&lab, &csrf, "GET", app.url(&format!("/api/v1/pins/{a}/history/{b}")), None).await;
    let history: Value = serde_json::from_str(&history).unwrap();
    let commit = history["commits"][0]["id"].as_str().unwrap().to_string();
    let files = history["commits"][0]["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "aes.c changed and gcm.c added: {history}");
    // Only the commits changing a path in scope are listed; another is answered as no commit.
    assert_eq!(history["total"], 1, "{history}");
    let (_, everything) = send(&full, "", "GET", app.url(&format!("/api/v1/pins/{a}/history/{b}")), None).await;
    let everything: Value = serde_json::from_str(&everything).unwrap();
    assert_eq!(everything["total"], 2);
    let tidy = everything["commits"][1]["id"].as_str().unwrap().to_string();
    let (status, hidden) =
        send(&lab, &csrf, "GET", app.url(&format!("/api/v1/pins/{a}/history/{b}/commits/{tidy}")), None).await;
    let nothing = "0".repeat(40);
    let (_, absent) =
        send(&lab, &csrf, "GET", app.url(&format!("/api/v1/pins/{a}/history/{b}/commits/{nothing}")), None).await;
    assert_eq!((status, normalised(&hidden)), (StatusCode::NOT_FOUND, normalised(&absent)));
    for url in [format!("/api/v1/pins/{a}/history/{b}/commits/{commit}"), format!("/pins/{a}/history/{b}/{commit}")] {
        let (status, body) = send(&lab, &csrf, "GET", app.url(&url), None).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        assert!(!body.contains(MARK) && body.contains("gcm_seal"), "{url}: {body}");
        probes += 1;
    }

    // Every route that names a path, with each out-of-scope path, answers as for an absent one.
    let outside =
        ["ZQXJREADME.md", "ZQXJnet", "ZQXJnet/ZQXJsocket.c", "crypto/ZQXJtest", "crypto/ZQXJtest/ZQXJvectors.c"];
    type Route = fn(PinId, PinId, &str) -> (&'static str, String, Option<Value>);
    let routes: [Route; 12] = [
        |_, b, p| ("GET", format!("/pins/{b}/tree/{p}"), None),
        |_, b, p| ("GET", format!("/pins/{b}/blob/{p}"), None),
        |_, b, p| ("GET", format!("/pins/{b}/lines/{p}?from=1"), None),
        |_, b, p| ("GET", format!("/pins/{b}/raw/{p}"), None),
        |a, b, p| ("GET", format!("/api/v1/pins/{a}/compare/{b}/diff?path={p}"), None),
        |a, b, p| ("GET", format!("/pins/{a}/compare/{b}/{p}"), None),
        |_, b, p| ("GET", format!("/api/v1/pins/{b}/blame?path={p}"), None),
        |_, b, p| ("GET", format!("/pins/{b}/blame/{p}"), None),
        |_, b, p| ("GET", format!("/api/v1/pins/{b}/search?q=shared_fn&path={p}"), None),
        |_, b, p| ("PUT", format!("/api/v1/pins/{b}/reviewed/{p}"), None),
        |_, b, p| {
            let body = json!({"path": p, "start_line": 1, "body": "probe"});
            ("POST", format!("/api/v1/pins/{b}/comments"), Some(body))
        },
        |_, b, p| ("GET", format!("/api/v1/pins/{b}/comments?path={p}"), None),
    ];
    for path in outside {
        let absent = path.replace(MARK, ABSENT);
        for route in routes {
            let (method, url, body) = route(a, b, path);
            let (status, answer) = send(&lab, &csrf, method, app.url(&url), body).await;
            let (_, absent_url, absent_body) = route(a, b, &absent);
            let (absent_status, absent_answer) = send(&lab, &csrf, method, app.url(&absent_url), absent_body).await;
            assert_eq!(status, absent_status, "{method} {url}: {answer}");
            let (told, untold) = (normalised(&answer), normalised(&absent_answer));
            let at = told.bytes().zip(untold.bytes()).take_while(|(x, y)| x == y).count();
            let near =
                |text: &str| text.get(at.saturating_sub(80)..(at + 80).min(text.len())).unwrap_or("").to_string();
            assert!(told == untold, "{method} {url} differs from {absent_url}: {} | {}", near(&told), near(&untold));
            probes += 1;
        }
        // The probes reach what they name: for a reviewer whose grant is not limited, a file
        // outside the lab's scope answers unlike an absent one on every route that reads.
        if path == "ZQXJnet/ZQXJsocket.c" {
            for route in &routes[..9] {
                let (method, url, body) = route(a, b, path);
                let (_, seen) = send(&full, "", method, app.url(&url), body).await;
                let (_, absent_url, absent_body) = route(a, b, &absent);
                let (_, unseen) = send(&full, "", method, app.url(&absent_url), absent_body).await;
                assert_ne!(normalised(&seen), normalised(&unseen), "{method} {url} reads nothing");
            }
        }
        // Each refusal is recorded, naming the path.
        let denied = app.events("access.denied").await;
        assert!(
            denied.iter().any(|entry| entry.leaf.contains("\"lab\"") && entry.leaf.contains(&format!("\"{path}\""))),
            "{path}"
        );
    }
    assert!(probes >= 50, "{probes} probes");

    // Nothing the lab reviewer was refused was written.
    assert_eq!(app.count_sql("SELECT COUNT(*) FROM comments").await, 3);
    assert_eq!(app.count_sql("SELECT COUNT(*) FROM reviewed_marks").await, 0);

    // The marker is there to be found, by a reviewer whose grant is not limited.
    for url in
        [format!("/pins/{b}/tree"), format!("/api/v1/pins/{b}/search?q=shared_fn"), format!("/pins/{b}/comments")]
    {
        let (status, body) = send(&full, "", "GET", app.url(&url), None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains(MARK), "{url}");
    }
}

#[tokio::test]
async fn path_patterns_are_checked_when_granted_and_recorded() {
    let app = spawn_app().await;
    let now = app.clock.now_ms();
    let access = app.domain.access();
    for (patterns, reason) in [
        (vec!["!crypto/**"], "at least one pattern that is not"),
        (vec!["../etc/**"], "cannot name `..`"),
        (vec!["src/[z-a]"], "is not a path pattern"),
    ] {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        let refused = access.grant_paths(Actor::Operator, "outsider", &[app.pin], (now, now + 60_000), &patterns).await;
        assert!(refused.as_ref().is_err_and(|e| e.to_string().contains(reason)), "{refused:?}");
    }
    let patterns = vec!["src/deep/**".to_string(), "# a comment".to_string(), " ".to_string()];
    access.grant_paths(Actor::Operator, "outsider", &[app.pin], (now - 1000, now + 60_000), &patterns).await.unwrap();
    let granted = app.events("grant.create").await;
    assert!(granted.iter().any(|event| event.leaf.contains(r#""grantee":"outsider","paths":["src/deep/**"]"#)));
    let console = app.grants().await;
    assert_eq!(console.iter().find(|g| g.reviewer == "outsider").unwrap().paths, vec!["src/deep/**"]);

    // Only the deep directory: the root lists `src` alone, and `src` lists `deep` alone.
    let client = app.session_client("outsider").await;
    let root = client.get(app.url(&format!("/pins/{}/tree", app.pin))).send().await.unwrap().text().await.unwrap();
    assert!(root.contains("src") && !root.contains("README.md") && !root.contains("assets"), "{root}");
    let src = client.get(app.url(&format!("/pins/{}/tree/src", app.pin))).send().await.unwrap().text().await.unwrap();
    assert!(src.contains("deep") && !src.contains("main.rs"), "{src}");
    let secret = client.get(app.url(&format!("/pins/{}/raw/src/deep/secret.c", app.pin))).send().await.unwrap();
    assert_eq!(secret.status(), StatusCode::OK);
    assert!(secret.text().await.unwrap().contains(SECRET_MARKER));

    // So does the API, for staff signed in (never a token); a bad pattern is a 400 and grants nothing.
    let (staff, csrf) = signed_in(&app, "staff").await;
    let grant = json!({"username": "regulator", "pins": [app.pin.get()], "until": "2036-01-01T00:00",
                       "paths": ["src/*.rs"]});
    let (status, made) = post_json(&app, &staff, &csrf, "/api/v1/grants", grant).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let bad = json!({"username": "regulator", "pins": [app.pin.get()], "until": "2036-01-01T00:00", "paths": ["!x"]});
    let (status, refused) = post_json(&app, &staff, &csrf, "/api/v1/grants", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let listed: Value = staff.get(app.url("/api/v1/grants")).send().await.unwrap().json().await.unwrap();
    let regulators: Vec<&Value> = listed.as_array().unwrap().iter().filter(|g| g["reviewer"] == "regulator").collect();
    assert_eq!(regulators.len(), 1);
    assert_eq!(regulators[0]["paths"], json!(["src/*.rs"]));
    assert_eq!(regulators[0]["id"], made["ids"][0]);
    let token = app.token("staff").await;
    let by_token = new_client().get(app.url("/api/v1/grants")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(by_token.status(), StatusCode::FORBIDDEN);

    // The command line takes the same patterns.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["grant", "--username", "regulator", "--pin", &app.pin.to_string()])
        .args([
            "--from",
            "2026-01-01T00:00",
            "--until",
            "2036-01-01T00:00",
            "--path",
            "src/**",
            "--path",
            "!src/deep/**",
        ])
        .args(["--log-origin", "test.invalid/clearroom/log"])
        .env("CLEARROOM_DATABASE_URL", &app.database_url)
        .env("CLEARROOM_DATA_DIR", &app.data_dir)
        .env_remove("CLEARROOM_CONFIG")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("limited to src/** !src/deep/**"));
}
