//! The reviewer workflow end to end: comments, findings and private notes, replies and states,
//! versions, reviewed marks, coverage against hand-computed figures, carried review across pins,
//! and verdicts.

use crate::helpers::*;
use clearroom::domain::Actor;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// A signed-in browser with its anti-forgery token, for the JSON API.
struct Browser {
    client: Client,
    csrf: String,
}

async fn browser(app: &TestApp, username: &str) -> Browser {
    let (client, csrf) = signed_in(app, username).await;
    Browser { client, csrf }
}

impl Browser {
    async fn post(&self, app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(app.url(path))
            .header("origin", &app.address)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get_json(&self, app: &TestApp, path: &str) -> (StatusCode, Value) {
        let response = self.client.get(app.url(path)).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn page(&self, app: &TestApp, path: &str) -> (StatusCode, String) {
        let response = self.client.get(app.url(path)).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }
}

fn blob_of(app: &TestApp, path: &str) -> String {
    let repo = git2::Repository::open_bare(&app.repository_path).unwrap();
    let tree = repo.head().unwrap().peel_to_tree().unwrap();
    tree.get_path(std::path::Path::new(path)).unwrap().id().to_string()
}

#[tokio::test]
async fn a_reviewer_comments_on_lines_staff_answer_and_the_thread_is_resolved() {
    let app = spawn_app().await;
    let reviewer = browser(&app, "reviewer").await;
    let pin = app.pin;
    let (status, created) = reviewer
        .post(
            &app,
            &format!("/api/v1/pins/{pin}/comments"),
            json!({"path": "src/main.rs", "start_line": 5, "end_line": 7, "body": "Is `count` **bounded**?"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();

    let staff = browser(&app, "staff").await;
    let (status, _) = staff
        .post(
            &app,
            &format!("/api/v1/pins/{pin}/comments"),
            json!({"path": "src/main.rs", "body": "Yes: by the input size.", "reply_to": id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = reviewer.post(&app, &format!("/api/v1/comments/{id}/state"), json!({"state": "resolved"})).await;
    assert_eq!(status, StatusCode::OK);

    let (_, list) = reviewer.get_json(&app, &format!("/api/v1/pins/{pin}/comments")).await;
    let thread = &list["comments"][0];
    assert_eq!(thread["id"], id);
    assert_eq!((thread["start_line"].as_u64(), thread["end_line"].as_u64()), (Some(5), Some(7)));
    assert_eq!(thread["state"], "resolved");
    assert_eq!(thread["kind"], "comment");
    assert_eq!(thread["replies"][0]["author"], "staff");

    // The file view shows the thread under its last line, rendered, with the staff reply.
    let (_, html) = reviewer.page(&app, &format!("/pins/{pin}/blob/src/main.rs")).await;
    let thread_at = html.find(&format!("id=\"thread-{id}\"")).expect("the thread is on the page");
    assert!(html.find("id=\"L7\"").unwrap() < thread_at && thread_at < html.find("id=\"L8\"").unwrap(), "under line 7");
    assert!(html.contains("Is <code>count</code> <strong>bounded</strong>?"));
    assert!(html.contains("Yes: by the input size."));
    // Sent compressed, the page still has the thread between its rows (such rows are not packed).
    let (status, _, compressed) =
        get_compressed(&reviewer.client, &app.url(&format!("/pins/{pin}/blob/src/main.rs"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(code_rows(&compressed), code_rows(&html));
    assert!(code_rows(&compressed).contains(&format!("id=\"thread-{id}\"")));

    // The event names the lines and the blob, and binds the text by its hash only.
    let events = app.events("comment.create").await;
    let leaf: Value =
        serde_json::from_str(&events.iter().find(|e| e.actor.as_deref() == Some("reviewer")).unwrap().leaf).unwrap();
    assert_eq!(leaf["objects"][0]["lines"], json!([5, 7]));
    assert_eq!(leaf["objects"][0]["blob"], blob_of(&app, "src/main.rs"));
    assert!(!leaf.to_string().contains("bounded"), "the text is in the log only as a hash");
    assert_eq!(app.events("comment.state").await.len(), 1);
}

#[tokio::test]
async fn a_private_note_is_seen_by_its_author_alone() {
    let app = spawn_app().await;
    let pin = app.pin;
    app.domain
        .access()
        .grant(Actor::Operator, "outsider", &[pin], app.clock.now_ms() - 1000, app.clock.now_ms() + 3_600_000)
        .await
        .unwrap();
    let reviewer = browser(&app, "reviewer").await;
    let (_, created) = reviewer
        .post(
            &app,
            &format!("/api/v1/pins/{pin}/comments"),
            json!({"path": "README.md", "body": "PRIVATE-THOUGHT: ask about the key schedule", "private": true}),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    let (_, mine) = reviewer.get_json(&app, &format!("/api/v1/pins/{pin}/comments")).await;
    assert_eq!(mine["comments"][0]["kind"], "note");

    for other in ["outsider", "staff"] {
        let other = browser(&app, other).await;
        let (_, list) = other.get_json(&app, &format!("/api/v1/pins/{pin}/comments")).await;
        assert!(!list.to_string().contains("PRIVATE-THOUGHT"), "{list}");
        let (_, page) = other.page(&app, &format!("/pins/{pin}/blob/README.md")).await;
        assert!(!page.contains("PRIVATE-THOUGHT"));
        let (_, page) = other.page(&app, &format!("/pins/{pin}/comments")).await;
        assert!(!page.contains("PRIVATE-THOUGHT"));
        let (status, _) =
            other.post(&app, &format!("/api/v1/comments/{id}/versions"), json!({"body": "overwritten"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another's note is not found");
        let (status, _) =
            other.post(&app, &format!("/api/v1/comments/{id}/state"), json!({"state": "withdrawn"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = other
            .post(
                &app,
                &format!("/api/v1/pins/{pin}/comments"),
                json!({"path": "README.md", "body": "x", "reply_to": id}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (_, page) = reviewer.page(&app, &format!("/pins/{pin}/blob/README.md")).await;
    assert!(page.contains("PRIVATE-THOUGHT"), "the author sees it");
    let staff_log = app.events("note.create").await;
    assert_eq!(staff_log.len(), 1);
    assert!(!staff_log[0].leaf.contains("PRIVATE") && !staff_log[0].leaf.contains("README"), "{}", staff_log[0].leaf);

    // Security defect 5: the note's place was an unsalted hash, found from the pin's file list in
    // a few guesses. It is an HMAC under the note's own key: trying every path of the pin, with a
    // plain hash or any key but the note's, finds nothing; the author, who alone is given the key,
    // opens both commitments.
    let details = &serde_json::from_str::<Value>(&staff_log[0].leaf).unwrap()["details"];
    assert!(details.get("anchor_sha256").is_none() && details.get("content_sha256").is_none(), "{details}");
    let (anchor, content) = (details["anchor_hmac"].as_str().unwrap(), details["content_hmac"].as_str().unwrap());
    use hmac::Mac as _;
    use sha2::Digest as _;
    let keyed = |key: &[u8], text: &str| {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        mac.update(text.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    };
    for path in ["README.md", "src/main.rs", "src/deep/secret.c", "data/big.py"] {
        let guess = format!("{path}\n");
        assert_ne!(hex::encode(sha2::Sha256::digest(guess.as_bytes())), anchor);
        assert_ne!(keyed(b"", &guess), anchor);
    }
    let key = mine["comments"][0]["commitment_key"].as_str().expect("the author is given the key");
    let key = hex::decode(key).unwrap();
    assert_eq!(key.len(), 32);
    assert_eq!(keyed(&key, "README.md\n"), anchor, "the author opens the place");
    assert_eq!(keyed(&key, "PRIVATE-THOUGHT: ask about the key schedule"), content, "and the text");
    for other in ["outsider", "staff"] {
        let other = browser(&app, other).await;
        let (_, list) = other.get_json(&app, &format!("/api/v1/pins/{pin}/comments")).await;
        assert!(!list.to_string().contains("commitment_key"), "no one else is given it");
    }
    // An edit is committed to under the same key.
    let (status, _) =
        reviewer.post(&app, &format!("/api/v1/comments/{id}/versions"), json!({"body": "second thought"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let edits = app.events("note.edit").await;
    let edit = &serde_json::from_str::<Value>(&edits[0].leaf).unwrap()["details"];
    assert_eq!(edit["content_hmac"], keyed(&key, "second thought"));
}

#[tokio::test]
async fn without_an_active_grant_no_one_comments_or_marks() {
    let app = spawn_app().await;
    let outsider = browser(&app, "outsider").await;
    let pin = app.pin;
    let (status, _) = outsider
        .post(&app, &format!("/api/v1/pins/{pin}/comments"), json!({"path": "README.md", "body": "hello"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = outsider
        .client
        .put(app.url(&format!("/api/v1/pins/{pin}/reviewed/README.md")))
        .header("origin", &app.address)
        .header("x-csrf-token", &outsider.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.events("access.denied").await.len(), 2, "both attempts are recorded");
    let regulator = browser(&app, "regulator").await;
    let (status, _) = regulator
        .post(&app, &format!("/api/v1/pins/{pin}/comments"), json!({"path": "README.md", "body": "hello"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A write without the page's token is refused.
    let reviewer = browser(&app, "reviewer").await;
    let response = reviewer
        .client
        .post(app.url(&format!("/api/v1/pins/{pin}/comments")))
        .header("origin", &app.address)
        .json(&json!({"path": "README.md", "body": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_edit_adds_a_version_and_every_version_stays() {
    let app = spawn_app().await;
    let reviewer = browser(&app, "reviewer").await;
    let pin = app.pin;
    let (_, created) = reviewer
        .post(
            &app,
            &format!("/api/v1/pins/{pin}/comments"),
            json!({"path": "src/main.rs", "start_line": 2, "body": "first", "severity": "high"}),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    for body in ["second", "third"] {
        let (status, _) = reviewer.post(&app, &format!("/api/v1/comments/{id}/versions"), json!({"body": body})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, list) = reviewer.get_json(&app, &format!("/api/v1/pins/{pin}/comments")).await;
    let thread = &list["comments"][0];
    assert_eq!(thread["kind"], "finding");
    assert_eq!(thread["severity"], "high");
    assert_eq!(thread["body"], "third");
    let bodies: Vec<&str> =
        thread["versions"].as_array().unwrap().iter().map(|v| v["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["first", "second", "third"]);
    let staff = browser(&app, "staff").await;
    let (status, _) =
        staff.post(&app, &format!("/api/v1/comments/{id}/versions"), json!({"body": "vendor rewrite"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the author edits");
    let (status, _) = staff
        .post(&app, &format!("/api/v1/comments/{id}/state"), json!({"state": "fixed", "fixed_pin": pin.to_string()}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the vendor does not verify its own fix");
    let (status, _) = staff
        .post(&app, &format!("/api/v1/comments/{id}/state"), json!({"state": "accepted", "reason": "we agree"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = reviewer
        .post(&app, &format!("/api/v1/comments/{id}/state"), json!({"state": "fixed", "fixed_pin": pin.to_string()}))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn markdown_with_scripts_links_and_remote_images_comes_out_inert() {
    let app = spawn_app().await;
    let reviewer = browser(&app, "reviewer").await;
    let pin = app.pin;
    let body = "<script>alert('x')</script>\n\nSee [go](javascript:alert(1)) and ![t](https://evil.example/p.png) and <img src=x onerror=alert(1)>";
    reviewer.post(&app, &format!("/api/v1/pins/{pin}/comments"), json!({"path": "README.md", "body": body})).await;
    let (_, html) = reviewer.page(&app, &format!("/pins/{pin}/blob/README.md")).await;
    let thread = &html[html.find("class=\"comment-body markdown\"").unwrap()..];
    let thread = &thread[..thread.find("</div>").unwrap()];
    assert!(
        !thread.contains("<script") && !thread.contains("<img") && !thread.contains("href=\"javascript"),
        "{thread}"
    );
    assert!(thread.contains("&lt;script&gt;") && thread.contains("&lt;img"), "shown as text: {thread}");
    assert!(thread.contains("[image: https://evil.example/p.png]"), "{thread}");
}

async fn coverage_of(app: &TestApp, who: &Browser, pin: app::model::PinId) -> Value {
    for _ in 0..100 {
        let (status, report) = who.get_json(app, &format!("/api/v1/pins/{pin}/coverage")).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        if report["indexed"] == true {
            return report;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the pin was not indexed in ten seconds");
}

fn amount(value: &Value) -> (u64, u64) {
    (value["files"].as_u64().unwrap(), value["lines"].as_u64().unwrap())
}

#[tokio::test]
async fn coverage_counts_what_was_shown_marked_and_carried() {
    let app = spawn_app().await;
    let reviewer = browser(&app, "reviewer").await;
    let pin = app.pin;
    let main_lines = main_rs().lines().count() as u64;
    // Shown: all of src/main.rs; lines 1-1 of the secret (through a view of the whole file? no: only main).
    reviewer.page(&app, &format!("/pins/{pin}/blob/src/main.rs")).await;
    // Reviewed: README.md (3 lines), marked without being opened.
    let response = reviewer
        .client
        .put(app.url(&format!("/api/v1/pins/{pin}/reviewed/README.md")))
        .header("origin", &app.address)
        .header("x-csrf-token", &reviewer.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let report = coverage_of(&app, &reviewer, pin).await;
    // The fixture: README.md 3 lines, src/main.rs, src/deep/secret.c 2, assets/logo.png (binary, 0), data/big.py 200000.
    assert_eq!(amount(&report["total"]), (5, 3 + main_lines + 2 + 200_000));
    let mine = &report["reviewers"][0];
    assert_eq!(mine["username"], "reviewer");
    assert_eq!(amount(&mine["shown"]), (1, main_lines));
    assert_eq!(amount(&mine["reviewed"]), (1, 3));
    assert_eq!(amount(&mine["carried"]), (0, 0));
    let states: Vec<(String, String)> = mine["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().to_string(), f["state"].as_str().unwrap().to_string()))
        .collect();
    assert!(states.contains(&("README.md".into(), "reviewed".into())));
    assert!(states.contains(&("src/main.rs".into(), "shown".into())));
    assert!(!states.iter().any(|(path, _)| path == "data/big.py"), "files neither shown nor reviewed are left out");

    // A reviewer sees only their own figures; staff see every reviewer's.
    let staff = browser(&app, "staff").await;
    let everyone = coverage_of(&app, &staff, pin).await;
    assert!(everyone["reviewers"].as_array().unwrap().iter().any(|r| r["username"] == "reviewer"));
    let (status, page) = staff.page(&app, &format!("/pins/{pin}/coverage?reviewer=reviewer")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<svg") && page.contains("data/big.py — none, 200000 lines"), "the picture names files");

    // The next release: README.md unchanged (same blob), src/main.rs changed.
    let repos = app.data_dir.join("repos/product.git");
    let repo = git2::Repository::open_bare(&repos).unwrap();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("README.md", b"# Sample\n\nReview me.\n".to_vec()),
        ("src/main.rs", format!("{}// changed\n", main_rs()).into_bytes()),
    ];
    let commit = clearroom::demo::write_commit(&repo, &files, "Release 1.1").unwrap();
    let next =
        app.domain.admin().create_pin(Actor::Operator, "product", &commit.to_string(), "Release 1.1").await.unwrap();
    app.domain
        .access()
        .grant(Actor::Operator, "reviewer", &[next], app.clock.now_ms() - 1000, app.clock.now_ms() + 3_600_000)
        .await
        .unwrap();
    let report = coverage_of(&app, &reviewer, next).await;
    let mine = &report["reviewers"][0];
    assert_eq!(amount(&report["total"]), (2, 3 + main_lines + 1));
    assert_eq!(amount(&mine["carried"]), (1, 3), "README.md was reviewed at the earlier pin");
    assert_eq!(amount(&mine["reviewed"]), (0, 0));
    assert_eq!(amount(&mine["shown"]), (0, 0));
    let readme = mine["files"].as_array().unwrap().iter().find(|f| f["path"] == "README.md").unwrap();
    assert_eq!(readme["carried_from"], pin.get());
}

#[tokio::test]
async fn a_comment_is_carried_to_an_identical_file_at_the_next_pin() {
    let app = spawn_app().await;
    let reviewer = browser(&app, "reviewer").await;
    let pin = app.pin;
    reviewer
        .post(
            &app,
            &format!("/api/v1/pins/{pin}/comments"),
            json!({"path": "README.md", "start_line": 1, "body": "CARRIED-REMARK"}),
        )
        .await;
    let repo = git2::Repository::open_bare(app.data_dir.join("repos/product.git")).unwrap();
    let files: Vec<(&str, Vec<u8>)> = vec![("README.md", b"# Sample\n\nReview me.\n".to_vec())];
    let commit = clearroom::demo::write_commit(&repo, &files, "Release 1.1").unwrap();
    let next =
        app.domain.admin().create_pin(Actor::Operator, "product", &commit.to_string(), "Release 1.1").await.unwrap();
    app.domain
        .access()
        .grant(Actor::Operator, "reviewer", &[next], app.clock.now_ms() - 1000, app.clock.now_ms() + 3_600_000)
        .await
        .unwrap();
    let (_, html) = reviewer.page(&app, &format!("/pins/{next}/blob/README.md")).await;
    assert!(html.contains("CARRIED-REMARK"));
    assert!(html.contains(&format!("carried from pin {pin}")));
}

#[tokio::test]
async fn a_verdict_records_the_commit_coverage_findings_and_binaries() {
    let app = spawn_app().await;
    let reviewer = browser(&app, "reviewer").await;
    let pin = app.pin;
    reviewer
        .post(
            &app,
            &format!("/api/v1/pins/{pin}/comments"),
            json!({"path": "src/deep/secret.c", "start_line": 1, "body": "weak", "severity": "critical"}),
        )
        .await;
    // A verdict records coverage, so it waits for the pin's index (a background job).
    coverage_of(&app, &reviewer, pin).await;
    let (status, first) = reviewer
        .post(
            &app,
            &format!("/api/v1/pins/{pin}/verdicts"),
            json!({"verdict": "concerns", "summary": "One critical finding."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    // A build recorded between the two verdicts is bound to the second only.
    let input = clearroom::domain::builds::BuildInput {
        name: "product.bin".into(),
        builder: Some("ci".into()),
        ..Default::default()
    };
    let hash = app::model::Sha256Hex::parse(&"9a".repeat(32)).unwrap();
    app.domain.builds().record_build(Actor::Operator, pin, &input, &hash, None).await.unwrap();
    let (status, second) = reviewer
        .post(
            &app,
            &format!("/api/v1/pins/{pin}/verdicts"),
            json!({"verdict": "objection", "summary": "On reflection, no."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, verdicts) = reviewer.get_json(&app, &format!("/api/v1/pins/{pin}/verdicts")).await;
    let list = verdicts["verdicts"].as_array().unwrap();
    assert_eq!(list.len(), 2, "a verdict is superseded, never edited");
    let commit = git2::Repository::open_bare(&app.repository_path)
        .unwrap()
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .id()
        .to_string();
    assert_eq!(list[0]["commit_id"], commit);
    assert_eq!(list[0]["superseded"], true);
    assert_eq!(list[1]["supersedes"], first["id"]);
    assert_eq!(list[1]["id"], second["id"]);
    assert_eq!(list[1]["open_findings"][0]["severity"], "critical");
    assert_eq!(list[0]["binaries"], json!([]), "no build recorded yet: the list exists and is empty");
    assert_eq!(list[1]["binaries"], json!([{ "name": "product.bin", "sha256": "9a".repeat(32) }]));
    let staff = browser(&app, "staff").await;
    let (status, _) = staff
        .post(&app, &format!("/api/v1/pins/{pin}/verdicts"), json!({"verdict": "no_objection", "summary": "fine"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "staff do not give verdicts");
    assert_eq!(app.events("verdict.submit").await.len(), 2);
}

#[tokio::test]
async fn the_forms_work_without_javascript() {
    let app = spawn_app().await;
    coverage_of(&app, &browser(&app, "staff").await, app.pin).await;
    app.login_as("reviewer").await;
    let csrf = app.csrf_token().await;
    let pin = app.pin.to_string();
    let back = format!("/pins/{pin}/blob/src/main.rs#L3");
    let response = app
        .post_form(
            &format!("/pins/{pin}/comments"),
            &[
                ("csrf", &csrf),
                ("back", &back),
                ("path", "src/main.rs"),
                ("start_line", "3"),
                ("end_line", ""),
                ("body", "FORM-COMMENT"),
                ("severity", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with(&format!("/pins/{pin}/blob/src/main.rs?done=")), "{}", location(&response));
    assert!(location(&response).ends_with("#L3"));
    let response = app
        .post_form(
            &format!("/pins/{pin}/reviewed"),
            &[("csrf", &csrf), ("back", &back), ("path", "src/main.rs"), ("reviewed", "1")],
        )
        .await;
    assert!(location(&response).contains("done="), "{}", location(&response));
    let (_, html) = app.open_file("src/main.rs").await;
    assert!(html.contains("FORM-COMMENT") && html.contains("Reviewed ✓"));
    let response = app
        .post_form(
            &format!("/pins/{pin}/comments"),
            &[
                ("csrf", &csrf),
                ("back", &back),
                ("path", "src/main.rs"),
                ("start_line", "9999"),
                ("body", "my **finding**"),
            ],
        )
        .await;
    // Refused: back to the composer, the reason beside the text, the text kept; once only.
    let answer = location(&response);
    assert_eq!(answer, format!("/pins/{pin}/blob/src/main.rs"), "the text takes the focus, so no fragment");
    let (_, page) = app.get_text(&answer).await;
    assert_eq!(outcomes(&page), ["those lines are past the end of the file"]);
    assert!(page.contains(">my **finding**</textarea>"), "the text is kept");
    assert!(page.contains(r#"name="start_line" id="composer-start" value="9999""#));
    let (_, page) = app.get_text(&answer).await;
    assert!(outcomes(&page).is_empty() && !page.contains("my **finding**"), "shown once");
    // Kept for its own page only: another page's request takes it and shows nothing.
    app.post_form(
        &format!("/pins/{pin}/comments"),
        &[("csrf", &csrf), ("back", &back), ("path", "src/main.rs"), ("body", " ")],
    )
    .await;
    let (_, other) = app.get_text("/account").await;
    assert!(outcomes(&other).is_empty());
    let (_, page) = app.get_text(&answer).await;
    assert!(outcomes(&page).is_empty(), "and it is gone");
}

/// Security defect 8: a token could probe which files exist, and how long they are, through refused
/// comments and marks, without a trace. Each refusal is recorded (`access.denied`, naming the path
/// asked), and a line range past the end does not say how long the file is.
#[tokio::test]
async fn a_refused_comment_or_mark_is_recorded_and_tells_no_length() {
    let app = spawn_app().await;
    let token = app.token("reviewer").await;
    let client = new_client();
    let comment = |body: serde_json::Value| {
        client.post(app.url(&format!("/api/v1/pins/{}/comments", app.pin))).bearer_auth(&token).json(&body).send()
    };
    let missing = comment(json!({ "path": "src/nothing.rs", "body": "hi" })).await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let past =
        comment(json!({ "path": "src/main.rs", "start_line": 1, "end_line": 99999, "body": "hi" })).await.unwrap();
    assert_eq!(past.status(), StatusCode::BAD_REQUEST);
    let said: Value = past.json().await.unwrap();
    let said = said["error"].as_str().unwrap().to_string();
    let lines = main_rs().lines().count().to_string();
    assert!(!said.contains(&lines) && said.contains("past the end of the file"), "{said}");
    let mark = client
        .put(app.url(&format!("/api/v1/pins/{}/reviewed/src/nothing.c", app.pin)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(mark.status(), StatusCode::NOT_FOUND);
    let denied = app.events("access.denied").await;
    let paths: Vec<_> = denied.iter().filter_map(|e| e.path.clone()).collect();
    for asked in ["src/nothing.rs", "src/main.rs", "src/nothing.c"] {
        assert!(paths.iter().any(|p| p == asked), "{asked} is recorded: {paths:?}");
    }
    assert!(denied.iter().all(|e| e.outcome == "denied"));
    assert!(app.events("comment.create").await.is_empty(), "nothing was commented");
}

/// Security defect 9: a regulator without a grant was refused the file tree but read every path of
/// the pin through coverage. The guard lets only who may read the source list every file by path;
/// others see the pin's size and the files some reviewer was shown or marked (the log names those).
#[tokio::test]
async fn coverage_names_no_path_a_person_could_not_read_or_find_in_the_log() {
    let app = spawn_app().await;
    let pin = app.pin;
    let reviewer = browser(&app, "reviewer").await;
    reviewer.page(&app, &format!("/pins/{pin}/blob/src/main.rs")).await;
    let regulator = browser(&app, "regulator").await;
    let report = coverage_of(&app, &regulator, pin).await;
    assert_eq!(amount(&report["total"]).0, 5, "the pin's size is not a path");
    let (status, page) = regulator.page(&app, &format!("/pins/{pin}/coverage")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("src/main.rs"), "a file a reviewer was shown is named");
    for unseen in ["data/big.py", "src/deep/secret.c", "assets/logo.png"] {
        assert!(!page.contains(unseen), "{unseen} is not named to the regulator");
    }
    let staff = browser(&app, "staff").await;
    let (_, page) = staff.page(&app, &format!("/pins/{pin}/coverage")).await;
    assert!(page.contains("data/big.py"), "staff, who read the source, see every path");
}
