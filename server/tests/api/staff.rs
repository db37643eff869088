use crate::helpers::*;
use app::model::Role;
use clearroom::auth::Password;
use clearroom::domain::Actor;
use reqwest::StatusCode;

#[tokio::test]
async fn staff_grant_and_revoke_access_from_the_console() {
    let app = spawn_app().await;
    app.login_as("staff").await;
    let csrf = app.csrf_token().await;
    let pin = app.pin.to_string();
    let response = app
        .post_form(
            "/admin/grants",
            &[
                ("csrf", &csrf),
                ("username", "outsider"),
                ("pin", &pin),
                ("from", "2020-01-01T00:00"),
                ("until", "2099-01-01T00:00"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin#grants", "the outcome is shown beside the form");
    let (_, console) = app.get_text("/admin").await;
    assert_eq!(outcomes(&console), ["granted 1 pin to outsider until 2099-01-01 00:00 UTC"]);

    let outsider = crate::audit::spawn_client_as(&app, "outsider").await;
    let url = app.url(&format!("/pins/{}/blob/README.md", app.pin));
    assert_eq!(outsider.get(&url).send().await.unwrap().status(), StatusCode::OK);

    let grant = app.grants().await.into_iter().find(|g| g.reviewer == "outsider").unwrap();
    let response = app.post_form(&format!("/admin/grants/{}/revoke", grant.id), &[("csrf", &csrf)]).await;
    assert!(location(&response).contains("done="));
    let after = outsider.get(&url).send().await.unwrap();
    assert_eq!(location(&after), "/login?expired=1", "the outsider's live session ends");
    assert_eq!(app.events("grant.revoke").await.len(), 1);
}

#[tokio::test]
async fn staff_create_users_import_and_pin_from_the_console() {
    let app = spawn_app().await;
    app.login_as("staff").await;
    let csrf = app.csrf_token().await;
    let response = app
        .post_form("/admin/users", &[("csrf", &csrf), ("username", "carol"), ("role", "reviewer"), ("password", "")])
        .await;
    // The generated password is in the page, once; never in a redirect's URL.
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert!(response.headers().get("location").is_none());
    assert_eq!(response.headers()["cache-control"], "no-store");
    let page = response.text().await.unwrap();
    assert!(page.contains("shown only now"), "{page}");
    let marker = "<code id=\"secret\" class=\"secret\">";
    let start = page.find(marker).unwrap() + marker.len();
    let password = &page[start..start + page[start..].find('<').unwrap()];
    assert!(password.len() >= 12, "{password}");
    let carol = new_client();
    let signed_in = carol
        .post(app.url("/login"))
        .header("origin", &app.address)
        .form(&[("username", "carol"), ("password", password), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&signed_in), "/", "the shown password signs in");

    let source = app.repository_path.display().to_string();
    let response =
        app.post_form("/admin/repositories", &[("csrf", &csrf), ("name", "second"), ("source", &source)]).await;
    assert!(location(&response).contains("importing+second+in+the+background"), "{}", location(&response));
    wait_for_imports(&app).await;
    assert_eq!(app.events("repo.import_complete").await.len(), 1);
    let response = app
        .post_form("/admin/pins", &[("csrf", &csrf), ("repository", "second"), ("commit", "HEAD"), ("label", "Second")])
        .await;
    assert!(location(&response).contains("pinned+as"), "{}", location(&response));

    let response = app
        .post_form(
            "/admin/pins",
            &[("csrf", &csrf), ("repository", "second"), ("commit", "deadbeef"), ("label", "Bad")],
        )
        .await;
    assert!(location(&response).contains("error="), "a commit that does not exist is refused");
    let response =
        app.post_form("/admin/repositories", &[("csrf", &csrf), ("name", "../escape"), ("source", &source)]).await;
    assert!(location(&response).contains("error="));

    // Only directories under the import roots (here the test's own directory), never a URL, a
    // relative path, or a way out through `..` or a symbolic link.
    let root = app.repository_path.parent().unwrap().to_path_buf();
    std::os::unix::fs::symlink("/usr", root.join("link-out")).unwrap();
    let outside = [
        "/etc".to_string(),
        "https://example.org/vendor.git".to_string(),
        "upstream.git".to_string(),
        format!("{}/../..", root.display()),
        format!("{}/link-out", root.display()),
    ];
    for (n, source) in outside.iter().enumerate() {
        let name = format!("outside{n}");
        let response =
            app.post_form("/admin/repositories", &[("csrf", &csrf), ("name", &name), ("source", source)]).await;
        assert!(
            location(&response).contains("error=import+from+a+directory+under"),
            "{source}: {}",
            location(&response)
        );
    }
    assert_eq!(app.events("repo.import").await.len(), 2, "the fixture's and the console's, no other");

    // Under the root but not a repository: the job fails, the row goes, the name is free again.
    let not_git = app.repository_path.parent().unwrap().join("not-a-repository");
    std::fs::create_dir_all(&not_git).unwrap();
    let not_git = not_git.display().to_string();
    let response =
        app.post_form("/admin/repositories", &[("csrf", &csrf), ("name", "third"), ("source", &not_git)]).await;
    assert!(location(&response).contains("done="), "{}", location(&response));
    wait_for_imports(&app).await;
    let failed = app.events("repo.import_failed").await;
    assert_eq!(failed.len(), 1);
    assert!(failed[0].leaf.contains("\"repository\":\"third\""));
    let (_, html) = app.get_text("/admin").await;
    assert!(!html.contains(">third<"), "the failed import's row is gone");
    let response =
        app.post_form("/admin/repositories", &[("csrf", &csrf), ("name", "third"), ("source", &source)]).await;
    assert!(location(&response).contains("done="), "the name is free: {}", location(&response));
    wait_for_imports(&app).await;

    let (_, html) = app.get_text("/admin").await;
    assert!(html.contains("carol") && html.contains("Second"));
    assert_eq!(app.events("pin.create").await.len(), 2);
}

#[tokio::test]
async fn a_reviewer_cannot_use_the_console() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let csrf = app.csrf_token().await;
    let response = app
        .post_form("/admin/users", &[("csrf", &csrf), ("username", "mallory"), ("role", "staff"), ("password", "")])
        .await;
    assert!(location(&response).contains("error="));
    assert!(!app.user_exists("mallory").await);
    let (status, _) = app.get_text("/admin").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn two_concurrent_creations_of_one_name_give_one_row_and_one_conflict() {
    let app = spawn_app().await;
    let create = |name: &'static str| {
        let domain = app.domain.clone();
        tokio::spawn(async move {
            domain
                .admin()
                .create_user(Actor::Operator, name, Role::Reviewer, Some(Password::new(PASSWORD.into())))
                .await
        })
    };
    let (first, second) = (create("twin"), create("twin"));
    let results = [first.await.unwrap(), second.await.unwrap()];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    let refused = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert_eq!(refused.status(), 409, "{refused:?}");
    assert!(refused.to_string().contains("taken"));

    let source = app.repository_path.display().to_string();
    let import = || {
        let (domain, source) = (app.domain.clone(), source.clone());
        tokio::spawn(async move { domain.admin().import_repository(Actor::Operator, "twin", &source).await })
    };
    let (first, second) = (import(), import());
    let results = [first.await.unwrap(), second.await.unwrap()];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert_eq!(results.iter().find_map(|r| r.as_ref().err()).unwrap().status(), 409);
    let pin = app.domain.admin().create_pin(Actor::Operator, "twin", "HEAD", "Twin").await.unwrap();
    assert!(pin.get() > app.pin.get(), "the imported repository is usable");
    let leftovers: Vec<_> = std::fs::read_dir(app.data_dir.join("repos"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.starts_with(".staging"))
        .collect();
    assert!(leftovers.is_empty(), "no staged copy is left behind: {leftovers:?}");
}

#[tokio::test]
async fn a_withdrawn_pin_is_read_by_staff_only_and_the_withdrawal_is_recorded() {
    let app = spawn_app().await;
    let regulator_token = app.token("regulator").await;
    app.login_as("reviewer").await;
    let (status, _) = app.open_file("README.md").await;
    assert_eq!(status, StatusCode::OK, "granted, the reviewer reads the pin");

    let staff = new_client();
    staff
        .post(app.url("/login"))
        .header("origin", &app.address)
        .form(&[("username", "staff"), ("password", PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    let html = staff.get(app.url("/admin")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&html);
    let withdraw = |csrf: String| {
        staff
            .post(app.url(&format!("/admin/pins/{}/withdraw", app.pin)))
            .header("origin", &app.address)
            .form(&[("csrf", csrf.as_str()), ("reason", "superseded by a fixed release")])
            .send()
    };
    let response = withdraw(csrf.clone()).await.unwrap();
    assert!(location(&response).contains("done="), "{}", location(&response));
    assert!(location(&withdraw(csrf).await.unwrap()).contains("error="), "withdrawing twice is a conflict");

    let (status, _) = app.open_file("README.md").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the reviewer's grant no longer opens it");
    let status = new_client()
        .get(app.url(&format!("/api/v1/pins/{}/search?q=count", app.pin)))
        .bearer_auth(&regulator_token)
        .send()
        .await
        .unwrap()
        .status();
    assert_ne!(status, StatusCode::OK, "nor does a regulator read it");
    let status = staff.get(app.url(&format!("/pins/{}/blob/README.md", app.pin))).send().await.unwrap().status();
    assert_eq!(status, StatusCode::OK, "staff still read it");
    let withdrawals = app.events("pin.withdraw").await;
    assert_eq!(withdrawals.len(), 1);
    assert!(withdrawals[0].leaf.contains("superseded by a fixed release"));
}

#[tokio::test]
async fn staff_turn_off_downloads_and_copying_for_a_pin_and_staff_are_not_bound() {
    let app = spawn_app().await;
    let reviewer = app.session_client("reviewer").await;
    let raw = format!("/pins/{}/raw/README.md", app.pin);
    assert_eq!(reviewer.get(app.url(&raw)).send().await.unwrap().status(), StatusCode::OK);

    app.login_as("staff").await;
    let csrf = app.csrf_token().await;
    let path = format!("/admin/pins/{}/policy", app.pin);
    let response = app.post_form(&path, &[("csrf", &csrf), ("no_download", "on"), ("no_copy", "on")]).await;
    assert!(location(&response).contains("downloads+off"), "{}", location(&response));
    let (_, console) = app.get_text("/admin").await;
    assert!(console.contains("name=\"no_download\" checked"), "the console shows the policy");

    assert_eq!(listed_policy(&app, &reviewer).await, (true, true), "the reviewer's list of pins says so");
    let response = reviewer.get(app.url(&raw)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // A link a browser follows: the refusal is a page, not JSON.
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(response.text().await.unwrap().contains("downloads of this pin are disabled"));
    let denied = app.events("access.denied").await;
    assert!(denied.iter().any(|e| e.leaf.contains("downloads of this pin are disabled")));
    let page = reviewer.get(app.url(&format!("/pins/{}/blob/README.md", app.pin))).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("code-pane no-copy"));
    // Staff read and download as before; the change is on record.
    assert_eq!(app.get(&raw).await.status(), StatusCode::OK);
    let (_, page) = app.get_text(&format!("/pins/{}/blob/README.md", app.pin)).await;
    assert!(!page.contains("no-copy"));
    let policy = app.events("pin.policy").await;
    assert_eq!(policy.len(), 1);
    assert!(policy[0].leaf.contains("\"no_download\":true") && policy[0].leaf.contains("\"no_copy\":true"));
    // Turned back on; the history policy (absent from the form) is kept.
    app.post_form(&path, &[("csrf", &csrf)]).await;
    assert_eq!(reviewer.get(app.url(&raw)).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(listed_policy(&app, &reviewer).await, (false, false), "and the list says so again");
    assert!(app.events("pin.policy").await[0].leaf.contains("\"history\":\"off\""));

    // The history policy from the same form: chosen, shown, recorded; a made-up level refused.
    assert!(console.contains("<option value=\"off\" selected"), "off by default");
    let response = app.post_form(&path, &[("csrf", &csrf), ("history", "messages")]).await;
    assert!(location(&response).contains("history+messages"), "{}", location(&response));
    let (_, console) = app.get_text("/admin").await;
    assert!(console.contains("<option value=\"messages\" selected"), "the console shows the history policy");
    assert!(app.events("pin.policy").await[0].leaf.contains("\"history\":\"messages\""));
    let response = app.post_form(&path, &[("csrf", &csrf), ("history", "everything")]).await;
    assert!(location(&response).contains("error="), "{}", location(&response));
    assert_eq!(app.events("pin.policy").await.len(), 3, "a refused change is not recorded");
}

/// The take-away policy (no downloads, no copying) of the app's pin in the person's list of pins.
async fn listed_policy(app: &TestApp, client: &reqwest::Client) -> (bool, bool) {
    let form = "application/x-www-form-urlencoded";
    let response = client.post(app.url("/fn/pins")).header("content-type", form).body("").send().await;
    let pins: serde_json::Value = response.unwrap().json().await.unwrap();
    let pin = pins.as_array().unwrap().iter().find(|p| p["id"] == app.pin.get()).expect("the pin is listed");
    (pin["no_download"].as_bool().unwrap(), pin["no_copy"].as_bool().unwrap())
}

/// Waits until no repository is being imported (the background job runs each second).
async fn wait_for_imports(app: &TestApp) {
    for _ in 0..200 {
        let overview = app.domain.admin().admin_overview(Actor::Operator).await.unwrap();
        if overview.repositories.iter().all(|r| r.importing.is_none()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("an import did not finish");
}

/// A console import is checked when asked for and again when it is copied and fetched: git must
/// read nothing outside the import roots (no alternates, no `.git` file, no link swapped since).
#[tokio::test]
async fn a_console_import_reads_nothing_outside_the_import_roots_when_copied_or_fetched() {
    let app = spawn_app().await;
    app.login_as("staff").await;
    let csrf = app.csrf_token().await;
    let root = app.repository_path.parent().unwrap().to_path_buf();
    let outside = tempfile::tempdir().unwrap();
    let elsewhere = outside.path().join("elsewhere.git");
    git2::Repository::init_bare(&elsewhere).unwrap();
    let import = |name: &'static str, source: String| {
        let csrf = csrf.clone();
        let app = &app;
        async move {
            location(
                &app.post_form("/admin/repositories", &[("csrf", &csrf), ("name", name), ("source", &source)]).await,
            )
        }
    };

    // Refused when asked for: objects borrowed from elsewhere, or a .git file pointing there.
    let borrowing = root.join("borrowing.git");
    git2::Repository::init_bare(&borrowing).unwrap();
    std::fs::create_dir_all(borrowing.join("objects/info")).unwrap();
    std::fs::write(borrowing.join("objects/info/alternates"), format!("{}/objects\n", elsewhere.display())).unwrap();
    let answer = import("borrowing", borrowing.display().to_string()).await;
    assert!(answer.contains("error=could+not+import+from") && answer.contains("alternates"), "{answer}");
    let gitfile = root.join("gitfile");
    std::fs::create_dir_all(&gitfile).unwrap();
    std::fs::write(gitfile.join(".git"), format!("gitdir: {}\n", elsewhere.display())).unwrap();
    let answer = import("gitfile", gitfile.display().to_string()).await;
    assert!(answer.contains("error=could+not+import+from") && answer.contains(".git+file"), "{answer}");

    // Asked for while a link pointed inside; by the time the job copies it, it points outside.
    let staff = app.domain.admin().admin_overview(Actor::Operator).await.unwrap();
    let staff_id = staff.users.iter().find(|u| u.username == "staff").unwrap().id;
    let swapped = root.join("swapped");
    std::os::unix::fs::symlink(&elsewhere, &swapped).unwrap();
    let now = app.clock.now_ms();
    app.execute_sql(&[
        &format!(
            "INSERT INTO repositories (name, source, imported_by, imported_at, importing) \
             VALUES ('swapped', '{}', {staff_id}, {now}, 1)",
            swapped.display()
        ),
        &format!(
            "INSERT INTO jobs (kind, subject, state, created_at) \
             SELECT 'repo.import', id, 'queued', {now} FROM repositories WHERE name = 'swapped'"
        ),
    ])
    .await;
    wait_for_imports(&app).await;
    let failed = app.events("repo.import_failed").await;
    assert_eq!(failed.len(), 1);
    assert!(failed[0].leaf.contains("not a directory under an import root"), "{}", failed[0].leaf);
    assert!(!app.data_dir.join("repos/swapped.git").exists(), "nothing was copied");

    // Imported through a link inside the root; the link then swapped: a fetch reads nothing.
    let moving = root.join("moving");
    std::os::unix::fs::symlink(&app.repository_path, &moving).unwrap();
    assert!(import("moving", moving.display().to_string()).await.contains("done="));
    wait_for_imports(&app).await;
    assert_eq!(app.events("repo.import_complete").await.len(), 1);
    std::fs::remove_file(&moving).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &moving).unwrap();
    let answer = location(&app.post_form("/admin/repositories/moving/fetch", &[("csrf", &csrf)]).await);
    assert!(answer.contains("error=could+not+fetch+from") && answer.contains("import+root"), "{answer}");
    assert!(app.events("repo.fetch").await.is_empty());
}
