//! Comparing pins: the changed-file list (added, deleted, renamed, binary, mode change), file diffs
//! (unified and side by side, intra-line marks, CRLF, no newline at the end), grants for both pins,
//! the events naming exactly what was shown, and fetching the next release.

use crate::helpers::*;
use app::model::PinId;
use clearroom::domain::Actor;
use reqwest::StatusCode;
use serde_json::Value;

/// The files of the fixture's first commit, with the modes of the next.
fn first_files() -> Vec<(&'static str, Vec<u8>, u32)> {
    vec![
        ("README.md", b"# Sample\n\nReview me.\n".to_vec(), 0o100644),
        ("src/main.rs", main_rs().into_bytes(), 0o100644),
        ("src/deep/secret.c", format!("/* {SECRET_MARKER} */\nint f(void) {{ return 42; }}\n").into_bytes(), 0o100644),
        ("assets/logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec(), 0o100644),
        ("data/big.py", "x = 1\n".repeat(200_000).into_bytes(), 0o100644),
    ]
}

/// Release 1.1: main.rs changed on one line, secret.c renamed (and grown by a line), the logo
/// changed, README made executable, a file added; big.py unchanged.
async fn release_1_1(app: &TestApp) -> PinId {
    let mut files = first_files();
    files.retain(|(path, _, _)| *path != "src/deep/secret.c" && *path != "assets/logo.png" && *path != "src/main.rs");
    files.iter_mut().find(|f| f.0 == "README.md").unwrap().2 = 0o100755;
    files.push((
        "src/main.rs",
        main_rs().replace("const LIMIT_4: u32 = 4;", "const LIMIT_4: u32 = 40;").into_bytes(),
        0o100644,
    ));
    files.push((
        "src/deep/cipher.c",
        format!("/* {SECRET_MARKER} */\nint f(void) {{ return 42; }}\nint g(void) {{ return 7; }}\n").into_bytes(),
        0o100644,
    ));
    files.push((
        "assets/logo.png",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x02\0\0\0\x02\x08\x06\0\0\0".to_vec(),
        0o100644,
    ));
    files.push(("NOTICE", b"Copyright the vendor.\n".to_vec(), 0o100644));
    next_release(app, &files, "Release 1.1").await
}

async fn api(app: &TestApp, client: &reqwest::Client, path: &str) -> (StatusCode, Value) {
    let response = client.get(app.url(path)).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn file<'a>(list: &'a Value, path: &str) -> &'a Value {
    list["files"].as_array().unwrap().iter().find(|f| f["path"] == path).unwrap_or_else(|| panic!("{path} in {list}"))
}

#[tokio::test]
async fn the_changed_files_between_two_releases_are_listed_with_their_kind_and_lines() {
    let app = spawn_app().await;
    let next = release_1_1(&app).await;
    let session = app.session_client("staff").await;
    let (status, list) = api(&app, &session, &format!("/api/v1/pins/{}/compare/{next}", app.pin)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["files"].as_array().unwrap().len(), 5, "{list}");
    assert_eq!(file(&list, "NOTICE")["status"], "added");
    assert_eq!(file(&list, "NOTICE")["additions"], 1);
    let renamed = file(&list, "src/deep/cipher.c");
    assert_eq!(renamed["status"], "renamed");
    assert_eq!(renamed["old_path"], "src/deep/secret.c");
    assert!(renamed["similarity"].as_u64().unwrap() >= 60, "{renamed}");
    assert_eq!((renamed["additions"].as_u64(), renamed["deletions"].as_u64()), (Some(1), Some(0)));
    let main = file(&list, "src/main.rs");
    assert_eq!(
        (main["status"].as_str(), main["additions"].as_u64(), main["deletions"].as_u64()),
        (Some("modified"), Some(1), Some(1))
    );
    assert_eq!(file(&list, "assets/logo.png")["binary"], true);
    assert_eq!(file(&list, "README.md")["status"], "modified", "a mode change");
    assert!(!list.to_string().contains("big.py"), "an unchanged file is not listed");

    // The page lists the same, with the mode change named.
    app.login_as("staff").await;
    let (status, html) = app.get_text(&format!("/pins/{}/compare/{next}", app.pin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("mode 100644 → 100755"), "the mode change is shown");
    assert!(html.contains("from src/deep/secret.c"));
    let (_, filtered) = app.get_text(&format!("/pins/{}/compare/{next}?filter=deep", app.pin)).await;
    assert!(filtered.contains("cipher.c") && !filtered.contains("NOTICE"));

    // The event names both pins and exactly the paths listed.
    let listed = app.events("compare.list").await; // newest first: the filtered page
    let leaf: Value = serde_json::from_str(&listed[0].leaf).unwrap();
    let objects = leaf["objects"].as_array().unwrap();
    assert!(objects.iter().any(|o| o["pin"] == app.pin.get() && o["path"] == "src/deep/secret.c"));
    assert!(objects.iter().any(|o| o["pin"] == next.get() && o["path"] == "src/deep/cipher.c"));
    assert!(!objects.iter().any(|o| o["path"] == "NOTICE"), "the filtered page listed only deep/");
    assert_eq!(app.events("compare.open").await.len(), 3, "each list first records what it will read");
}

#[tokio::test]
async fn a_file_diff_marks_the_changed_characters_in_both_layouts() {
    let app = spawn_app().await;
    let next = release_1_1(&app).await;
    app.login_as("reviewer").await;
    let base = format!("/pins/{}/compare/{next}/src/main.rs", app.pin);
    let (status, unified) = app.get_text(&format!("{base}?view=unified")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(unified.matches("<mark>").count() >= 2, "the changed characters are marked on both lines");
    let line = main_rs().lines().position(|l| l.contains("LIMIT_4")).unwrap() + 1;
    assert!(
        unified.contains(&format!("id=\"L-{line}\"")) && unified.contains(&format!("id=\"R-{line}\"")),
        "permalinks to both sides"
    );
    assert!(unified.contains("class=\"del\"") && unified.contains("class=\"add\""));
    let (_, split) = app.get_text(&format!("{base}?view=split")).await;
    assert!(split.contains("diff-split") && split.contains("lc del") && split.contains("lc add"));
    let (_, whole) = app.get_text(&format!("{base}?view=unified&context=all")).await;
    assert!(
        whole.matches("class=\"ctx\"").count() > unified.matches("class=\"ctx\"").count(),
        "more context on request"
    );

    // The view records both blobs and the line ranges shown.
    let views = app.events("diff.view").await; // newest first: the first view is the last
    let leaf: Value = serde_json::from_str(&views.last().unwrap().leaf).unwrap();
    let objects = leaf["objects"].as_array().unwrap();
    let new_side = objects.iter().find(|o| o["pin"] == next.get()).unwrap();
    let old_side = objects.iter().find(|o| o["pin"] == app.pin.get()).unwrap();
    assert_eq!(new_side["lines"], serde_json::json!([line - 3, line + 3]));
    assert_eq!(old_side["lines"], serde_json::json!([line - 3, line + 3]));
    assert_ne!(new_side["blob"], old_side["blob"]);

    // A renamed file is compared with its old self; a binary change shows sizes and blob ids.
    let (_, renamed) =
        app.get_text(&format!("/pins/{}/compare/{next}/src/deep/cipher.c?from=src/deep/secret.c", app.pin)).await;
    assert_eq!(renamed.matches("<tr class=\"add\">").count(), 1, "the one added line is shown");
    assert!(!renamed.contains("<tr class=\"del\">"), "nothing was removed");
    let (_, binary) = app.get_text(&format!("/pins/{}/compare/{next}/assets/logo.png", app.pin)).await;
    assert!(
        binary.contains("A binary file") && binary.contains("old: assets/logo.png"),
        "{}",
        &binary[..binary.len().min(200)]
    );
}

#[tokio::test]
async fn crlf_and_a_missing_final_newline_diff_cleanly() {
    let app = spawn_app().await;
    let mut files = first_files();
    files.push(("crlf.txt", b"one\r\ntwo\r\nthree\r\n".to_vec(), 0o100644));
    files.push(("nonl.txt", b"alpha\nbeta".to_vec(), 0o100644));
    let v2 = next_release(&app, &files, "Release 2").await;
    files.iter_mut().find(|f| f.0 == "crlf.txt").unwrap().1 = b"one\r\nTWO\r\nthree\r\n".to_vec();
    files.iter_mut().find(|f| f.0 == "nonl.txt").unwrap().1 = b"alpha\nbeta\ngamma".to_vec();
    let v3 = next_release(&app, &files, "Release 3").await;
    app.login_as("reviewer").await;
    let (status, crlf) = app.get_text(&format!("/pins/{v2}/compare/{v3}/crlf.txt")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        crlf.contains("<mark>two</mark>") && crlf.contains("<mark>TWO</mark>"),
        "only the word changed, not the line ends"
    );
    let (_, nonl) = app.get_text(&format!("/pins/{v2}/compare/{v3}/nonl.txt")).await;
    assert!(nonl.contains("gamma"));
    let session = app.session_client("staff").await;
    let (_, list) = api(&app, &session, &format!("/api/v1/pins/{v2}/compare/{v3}")).await;
    assert_eq!(file(&list, "nonl.txt")["additions"], 2, "beta gained its newline and gamma came: {list}");
}

#[tokio::test]
async fn comparing_needs_a_grant_for_both_pins() {
    let app = spawn_app().await;
    let repo = git2::Repository::open_bare(app.data_dir.join("repos/product.git")).unwrap();
    let files: Vec<(&str, Vec<u8>)> = vec![("README.md", b"changed\n".to_vec())];
    let commit = clearroom::demo::write_commit(&repo, &files, "Release 9").unwrap();
    let ungranted =
        app.domain.admin().create_pin(Actor::Operator, "product", &commit.to_string(), "Release 9").await.unwrap();
    app.login_as("reviewer").await;
    let (status, html) = app.get_text(&format!("/pins/{}/compare/{ungranted}", app.pin)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("README.md"));
    let (status, _) = app.get_text(&format!("/pins/{}/compare/{ungranted}/README.md", app.pin)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.events("access.denied").await.len(), 2);
    assert!(app.events("compare.open").await.is_empty(), "nothing was read");
}

#[tokio::test]
async fn the_next_release_is_fetched_from_the_source_and_pinned() {
    let app = spawn_app().await;
    let upstream = git2::Repository::open_bare(&app.repository_path).unwrap();
    let files: Vec<(&str, Vec<u8>)> = vec![("README.md", b"# Sample 2\n".to_vec())];
    let commit = clearroom::demo::write_commit(&upstream, &files, "Release 2.0").unwrap();
    app.login_as("staff").await;
    let csrf = app.csrf_token().await;
    let response = app.post_form("/admin/repositories/product/fetch", &[("csrf", &csrf)]).await;
    assert!(
        location(&response).contains("ref%28s%29+moved") || location(&response).contains("moved"),
        "{}",
        location(&response)
    );
    let fetched = app.events("repo.fetch").await;
    assert_eq!(fetched.len(), 1);
    assert!(fetched[0].leaf.contains(&commit.to_string()), "the event names where the ref moved to");
    let pin =
        app.domain.admin().create_pin(Actor::Operator, "product", &commit.to_string(), "Release 2.0").await.unwrap();
    // The earlier pin still reads its own commit.
    let (status, html) = app.open_file("README.md").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Review me."));
    let (status, html) = app.get_text(&format!("/pins/{pin}/blob/README.md")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Sample 2"));
}

#[tokio::test]
async fn a_file_read_again_from_memory_is_the_file_of_its_own_pin_and_every_read_is_recorded() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let next = release_1_1(&app).await;
    let line = main_rs().lines().position(|l| l.contains("LIMIT_4")).unwrap() + 1;
    let before = app.events("blob.view").await.len();
    // Each page twice: the second is served from what the first kept (location, rows, listing).
    for (pin, limit) in [(app.pin, ">4<"), (next, ">40<"), (app.pin, ">4<"), (next, ">40<")] {
        let (status, html) = app.get_text(&format!("/pins/{pin}/blob/src/main.rs")).await;
        assert_eq!(status, StatusCode::OK);
        let row = code_rows(&html).split("<tr ").find(|row| row.starts_with(&format!("id=\"L{line}\""))).unwrap();
        assert!(row.contains(limit), "pin {pin} shows its own line {line}: {row}");
    }
    let views = app.events("blob.view").await;
    assert_eq!(views.len() - before, 4, "every read is recorded, kept or not");
    let blob = |leaf: &str| leaf.split("\"blob\":\"").nth(1).unwrap()[..40].to_string();
    let named: Vec<String> = views[before..].iter().map(|event| blob(&event.leaf)).collect();
    assert_eq!(named[0], named[2], "the same blob named again at the first pin");
    assert_eq!(named[1], named[3]);
    assert_ne!(named[0], named[1], "each pin's own blob");
}

/// A side larger than the diff limit is not read: its size comes from the object's header. The
/// large blobs' objects are spoilt after their headers, so reading them would fail; the diff
/// still answers, with the notice and both sizes.
#[tokio::test]
async fn a_file_diff_too_large_to_show_is_answered_without_reading_the_blobs() {
    let app = spawn_app().await;
    let huge = |fill: &str| fill.repeat(3 * 1024 * 1024 / fill.len()).into_bytes();
    let mut files = first_files();
    files.push(("data/huge.txt", huge("0123456789abcdef\n"), 0o100644));
    let before = next_release(&app, &files, "Huge 1").await;
    files.last_mut().unwrap().1 = huge("fedcba9876543210\n");
    let after = next_release(&app, &files, "Huge 2").await;
    while app.domain.jobs().run_next_job().await.unwrap() {}

    let repo = git2::Repository::open_bare(app.data_dir.join("repos/product.git")).unwrap();
    for content in [huge("0123456789abcdef\n"), huge("fedcba9876543210\n")] {
        let id = git2::Oid::hash_object(git2::ObjectType::Blob, &content).unwrap().to_string();
        let loose = app.data_dir.join(format!("repos/product.git/objects/{}/{}", &id[..2], &id[2..]));
        let mut kept = std::fs::read(&loose).expect("a loose object");
        kept[64..].fill(0xff); // the header stays; the content no longer inflates
        let mut permissions = std::fs::metadata(&loose).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o600);
        std::fs::set_permissions(&loose, permissions).unwrap();
        std::fs::write(&loose, kept).unwrap();
        assert!(repo.find_blob(git2::Oid::from_str(&id).unwrap()).is_err(), "the object can no longer be read");
    }

    app.login_as("reviewer").await;
    let (status, page) = app.get_text(&format!("/pins/{before}/compare/{after}/data/huge.txt?view=unified")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("larger than 2 MiB"), "the notice says why no line is shown");
    assert!(!page.contains("0123456789abcdef"), "no line of either side");
}

/// `GET /api/v1/pins/{a}/compare/{b}/diff?path=P`: git's hunks as JSON, each line with its kind,
/// numbers and text, recorded as the page records it; not for tokens (they never read source).
#[tokio::test]
async fn the_api_gives_a_file_diff_as_git_does_and_records_it_as_the_page_does() {
    let app = spawn_app().await;
    let next = release_1_1(&app).await;
    let session = app.session_client("reviewer").await;
    let url = |query: &str| format!("/api/v1/pins/{}/compare/{next}/diff?{query}", app.pin);
    let (status, diff) = api(&app, &session, &url("path=src/main.rs")).await;
    assert_eq!(status, StatusCode::OK, "{diff}");
    let line = main_rs().lines().position(|l| l.contains("LIMIT_4")).unwrap() as u64 + 1;
    let hunks = diff["hunks"].as_array().unwrap();
    assert_eq!(hunks.len(), 1);
    let header: Vec<u64> =
        ["old_start", "old_lines", "new_start", "new_lines"].iter().map(|k| hunks[0][k].as_u64().unwrap()).collect();
    assert_eq!(header, [line - 3, 7, line - 3, 7], "@@ -{},7 +{},7 @@ as git writes it", line - 3, line - 3);
    let lines = hunks[0]["lines"].as_array().unwrap();
    let kinds: Vec<&str> = lines.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["context", "context", "context", "removed", "added", "context", "context", "context"]);
    assert_eq!(lines[3]["text"], "const LIMIT_4: u32 = 4;");
    assert_eq!((lines[4]["text"].as_str(), lines[4]["new"].as_u64()), (Some("const LIMIT_4: u32 = 40;"), Some(line)));
    assert!(!diff.to_string().contains("<span") && diff["truncated"] == false && diff["notice"].is_null());
    let views = app.events("diff.view").await;
    assert_eq!(views.len(), 1);
    assert!(views[0].leaf.contains(&format!(r#""lines":[{},{}]"#, line - 3, line + 3)), "{}", views[0].leaf);

    let (_, whole) = api(&app, &session, &url("path=src/main.rs&context=all")).await;
    assert_eq!(whole["hunks"][0]["lines"].as_array().unwrap().len(), main_rs().lines().count() + 1);
    let (status, _) = api(&app, &session, &url("path=src/main.rs&context=lots")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api(&app, &session, &url("context=3")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a path is required");
    let token = app.token("reviewer").await;
    let refused = new_client().get(app.url(&url("path=src/main.rs"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

/// The index of a pin's search pack (`source/pack.rs`): for each frame, the pin whose pack file
/// holds its bytes.
fn pack_frames_from(app: &TestApp, pin: PinId) -> Vec<u64> {
    let pack = std::fs::read(app.data_dir.join(format!("index/pin-{pin}.zpack"))).expect("the pin's pack");
    assert_eq!(&pack[pack.len() - 8..], b"ZPACK002");
    let count = u64::from_le_bytes(pack[pack.len() - 16..pack.len() - 8].try_into().unwrap()) as usize;
    let index = &pack[pack.len() - 16 - count * 40..pack.len() - 16];
    index.chunks_exact(40).map(|frame| u64::from_le_bytes(frame[16..24].try_into().unwrap())).collect()
}

/// A release's search pack does not store again the files an earlier release's pack holds: it
/// points into that pack, and a search of the new release still finds every file, the changed,
/// the added and the shared.
#[tokio::test]
async fn a_release_search_pack_points_into_the_previous_one_for_the_files_they_share() {
    let app = spawn_app().await;
    jobs_done(&app, app.pin).await;
    let next = release_1_1(&app).await;
    jobs_done(&app, next).await;
    assert!(pack_frames_from(&app, app.pin).iter().all(|&pack| pack == app.pin.get() as u64));
    let frames = pack_frames_from(&app, next);
    assert!(frames.contains(&(app.pin.get() as u64)), "a frame of the first release's pack: {frames:?}");
    assert!(frames.contains(&(next.get() as u64)), "its own frame for the changed files: {frames:?}");

    let session = app.session_client("reviewer").await;
    let search = |q: &str| format!("/api/v1/pins/{next}/search?q={q}&per_page=500");
    for (query, path, text) in [
        ("LIMIT_4", "src/main.rs", "const LIMIT_4: u32 = 40;"),
        ("Copyright", "NOTICE", "Copyright the vendor."),
        ("Review%20me", "README.md", "Review me."),
        ("int%20g", "src/deep/cipher.c", "int g(void) { return 7; }"),
    ] {
        let (status, body) = api(&app, &session, &search(query)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let results = body["results"].as_array().unwrap();
        assert_eq!(results.len(), 1, "{query}: {body}");
        assert_eq!((results[0]["path"].as_str(), results[0]["matches"][0]["text"].as_str()), (Some(path), Some(text)));
    }
    let (_, body) = api(&app, &session, &search("x%20%3D%201")).await;
    assert_eq!(body["total"]["lines"], 200_000, "every line of the shared big.py: {body}");
}

/// A file's definitions are stored once for every pin that has the same file (path and blob): a
/// release that changes one file stores only that file's definitions again, and a lookup at each
/// pin finds its own.
#[tokio::test]
async fn definitions_of_the_files_pins_share_are_stored_once() {
    let app = spawn_app().await;
    jobs_done(&app, app.pin).await;
    let definitions = || app.count_sql("SELECT COUNT(*) FROM definitions");
    let sources = || app.count_sql("SELECT COUNT(*) FROM definition_sources");
    let (first_definitions, first_sources) = (definitions().await, sources().await);
    assert!(first_definitions >= 3 && first_sources >= 2, "{first_definitions} definitions in {first_sources} files");

    let mut files = first_files();
    files.push(("NOTICE", b"Copyright the vendor.\n".to_vec(), 0o100644));
    let same = next_release(&app, &files, "Same code").await;
    jobs_done(&app, same).await;
    assert_eq!((definitions().await, sources().await), (first_definitions, first_sources), "nothing stored again");
    let listed = format!("SELECT COUNT(*) FROM pin_definition_sources WHERE pin_id = {same}");
    assert_eq!(app.count_sql(&listed).await, first_sources);

    let changed = release_1_1(&app).await; // main.rs changed: its definitions again
    jobs_done(&app, changed).await;
    assert!(definitions().await > first_definitions && sources().await > first_sources);

    let session = app.session_client("reviewer").await;
    let line = main_rs().lines().position(|l| l.contains("pub fn count")).unwrap() as u64 + 1;
    for pin in [app.pin, same, changed] {
        let (status, symbol) = api(&app, &session, &format!("/api/v1/pins/{pin}/symbols/count")).await;
        assert_eq!(status, StatusCode::OK, "{symbol}");
        let found: Vec<(&str, u64)> = symbol["definitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["path"].as_str().unwrap(), d["line"].as_u64().unwrap()))
            .collect();
        assert_eq!(found, [("src/main.rs", line)], "pin {pin}: {symbol}");
    }
}

/// A comparison's page of every diff loads each file's diff as a fragment: the same table as the
/// diff's own page, recorded as it is; a diff steps to its neighbours in the list.
#[tokio::test]
async fn every_diff_on_one_page_comes_as_recorded_fragments_and_a_diff_names_its_neighbours() {
    let app = spawn_app().await;
    let next = release_1_1(&app).await;
    app.login_as("reviewer").await;
    let (_, page) = app.get_text(&format!("/pins/{}/compare/{next}?diffs=1", app.pin)).await;
    assert!(page.contains("lazy-diff"));
    let marker = r#"data-src=""#;
    let first = &page[page.find(marker).expect("a placeholder per file") + marker.len()..];
    let source = first[..first.find('"').unwrap()].replace("&amp;", "&");
    assert!(source.starts_with(&format!("/pins/{}/diff-fragment/{next}/", app.pin)), "{source}");
    let views_before = app.events("diff.view").await.len();
    let response = app.get(&format!("/pins/{}/diff-fragment/{next}/src/main.rs", app.pin)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let fragment = response.text().await.unwrap();
    assert!(fragment.starts_with(r#"<div class="code-scroll"><table class="code diff diff-unified">"#), "{fragment}");
    assert!(fragment.contains(r#"class="del""#) && fragment.contains(r#"class="add""#));
    assert_eq!(app.events("diff.view").await.len(), views_before + 1, "recorded as a diff view");
    let response = app.get(&format!("/pins/{}/diff-fragment/{next}/no/such.rs", app.pin)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // The diff page says where the file is in the list, and links the files on either side.
    let (_, diff) = app.get_text(&format!("/pins/{}/compare/{next}/src/main.rs", app.pin)).await;
    assert!(diff.contains(r#"class="file-steps""#));
    let place = &diff[diff.find("File ").unwrap()..];
    assert!(place.starts_with("File ") && place.contains(" of "), "{}", &place[..20]);
    assert!(diff.contains(r#"rel="prev""#) || diff.contains(r#"rel="next""#));

    // Without a grant the fragment is refused like the page.
    let outsider = crate::audit::spawn_client_as(&app, "outsider").await;
    let refused =
        outsider.get(app.url(&format!("/pins/{}/diff-fragment/{next}/src/main.rs", app.pin))).send().await.unwrap();
    assert!(matches!(refused.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", refused.status());
}
