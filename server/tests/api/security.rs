use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn pages_carry_strict_security_headers() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let response = app.get(&format!("/pins/{}/blob/README.md", app.pin)).await;
    let headers = response.headers();
    let csp = headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("'nonce-"), "the page's scripts run by nonce: {csp}");
    assert_eq!(headers.get("x-frame-options").unwrap(), "DENY");
    assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/login"))
        .header("origin", "https://evil.example")
        .form(&[("username", "reviewer"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_write_that_does_not_say_where_it_came_from_is_refused() {
    let app = spawn_app().await;
    let client = bare_client();
    let sign_in = |origin: Option<String>| {
        let mut request = client.post(app.url("/login"));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.form(&[("username", "reviewer"), ("password", PASSWORD)]).send()
    };
    // Neither Origin nor Sec-Fetch-Site: a login forgery from a page that suppresses both.
    assert_eq!(sign_in(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    // The same host on another scheme is another origin.
    let https = app.address.replacen("http://", "https://", 1);
    assert_eq!(sign_in(Some(https)).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert!(app.events("auth.login").await.is_empty(), "nothing was signed in");
    // This site's own origin is accepted.
    assert_eq!(sign_in(Some(app.address.clone())).await.unwrap().status(), StatusCode::SEE_OTHER);
    // So is a same-origin fetch that sends no Origin.
    let response = client
        .post(app.url("/logout"))
        .header("sec-fetch-site", "same-site")
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "a sibling site is not this site");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_is_the_forwarded_address() {
    use clearroom::network::{Network, PublicUrl};
    let network = Network {
        trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
        public_url: Some(PublicUrl::parse("https://review.example").unwrap()),
    };
    let app = spawn_app_on(Default::default(), network).await;
    let client = bare_client();
    let response = client
        .post(app.url("/login"))
        .header("origin", "https://review.example")
        .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
        .form(&[("username", "reviewer"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-clearroom_session="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Domain"), "{cookie}");
    assert!(response.headers().get("strict-transport-security").is_some(), "HSTS with an https public URL");
    let events = app.events("auth.login").await;
    assert_eq!(events.len(), 1);
    assert_eq!(client_of(&events[0]), "203.0.113.9", "the nearest untrusted hop");
    // The listener's own http origin is not the site's origin.
    let response = client
        .post(app.url("/login"))
        .header("origin", &app.address)
        .form(&[("username", "reviewer"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/login"))
        .header("x-forwarded-for", "203.0.113.9")
        .header("forwarded", "for=203.0.113.10")
        .form(&[("username", "reviewer"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let events = app.events("auth.login").await;
    assert_eq!(client_of(&events[0]), "127.0.0.1");
}

#[tokio::test]
async fn a_form_without_the_anti_forgery_token_is_refused() {
    let app = spawn_app().await;
    app.login_as("staff").await;
    let response = app.post_form("/admin/users", &[("username", "mallory"), ("role", "staff")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(!app.user_exists("mallory").await);
}

#[tokio::test]
async fn no_password_hash_reaches_a_page() {
    let app = spawn_app().await;
    app.login_as("staff").await;
    let (_, html) = app.get_text("/admin").await;
    assert!(html.contains("reviewer"));
    assert!(!html.contains("$argon2"));
}

fn client_of(entry: &app::model::AuditEntry) -> String {
    let leaf: serde_json::Value = serde_json::from_str(&entry.leaf).unwrap();
    leaf["client"].as_str().unwrap().to_string()
}

/// Security defect 13: leptos_meta writes a page's title as it is, and paths and pin labels are
/// anyone's words. A file name and a label that close the title and add a refresh to another site
/// stay text on every page that names them in its title.
#[tokio::test]
async fn hostile_file_names_and_pin_labels_stay_text_in_every_page_title() {
    use clearroom::domain::Actor;
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let hostile_name = "title><meta http-equiv=refresh content=0;url=https:evil.example><i id=injected>.rs";
    let repo = git2::Repository::init_bare(dir.path().join("hostile.git")).unwrap();
    clearroom::demo::write_commit(&repo, &[(hostile_name, b"fn a() {}\n".to_vec())], "one").unwrap();
    clearroom::demo::write_commit(&repo, &[(hostile_name, b"fn a() {}\nfn b() {}\n".to_vec())], "two").unwrap();
    let source = dir.path().join("hostile.git").display().to_string();
    app.domain.admin().import_repository(Actor::Operator, "hostile", &source).await.unwrap();
    let label = "L</title><meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\"><i id=injected>";
    let older = app.domain.admin().create_pin(Actor::Operator, "hostile", "HEAD~1", label).await.unwrap();
    let newer = app.domain.admin().create_pin(Actor::Operator, "hostile", "HEAD", label).await.unwrap();
    app.login_as("staff").await;
    let name = hostile_name.replace('<', "%3C").replace('>', "%3E").replace(' ', "%20");
    let pages = [
        format!("/pins/{newer}"),
        format!("/pins/{newer}/blob/{name}"),
        format!("/pins/{older}/compare/{newer}"),
        format!("/pins/{older}/compare/{newer}/{name}"),
        format!("/pins/{newer}/comments"),
        format!("/pins/{newer}/coverage"),
        format!("/pins/{newer}/verdicts"),
        format!("/pins/{newer}/builds"),
        format!("/pins/{newer}/search?q=fn"),
    ];
    for page in pages {
        let (status, html) = app.get_text(&page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let head = &html[..html.find("</head>").expect("a head")];
        assert!(!head.contains("<meta http-equiv") && !head.contains("<i id=injected>"), "{page}: {head}");
        assert_eq!(head.matches("<title>").count(), 1, "{page}: one title");
        let title = &head[head.find("<title>").unwrap() + 7..head.find("</title>").unwrap()];
        assert!(!title.contains('<') && !title.contains('>'), "{page}: {title}");
    }
}

/// Security defect 21: a search result's heading escaped its path twice, so `a&b<c>.txt` read as
/// `a&amp;b&lt;c&gt;.txt`. It is escaped once: the browser shows the name as it is, and it stays text.
#[tokio::test]
async fn a_search_heading_shows_a_file_name_as_it_is() {
    use clearroom::domain::Actor;
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init_bare(dir.path().join("names.git")).unwrap();
    clearroom::demo::write_commit(&repo, &[("a&b<c>.txt", b"needle\n".to_vec())], "one").unwrap();
    let source = dir.path().join("names.git").display().to_string();
    app.domain.admin().import_repository(Actor::Operator, "names", &source).await.unwrap();
    let pin = app.domain.admin().create_pin(Actor::Operator, "names", "HEAD", "names").await.unwrap();
    app.login_as("staff").await;
    let (status, html) = app.get_text(&format!("/pins/{pin}/search?q=needle")).await;
    assert_eq!(status, StatusCode::OK);
    let heading = &html[html.find("class=\"search-path\"").expect("a result heading")..];
    let heading = &heading[..heading.find("</h2>").unwrap()];
    assert!(heading.contains(">a&amp;b&lt;c&gt;.txt</a>"), "{heading}");
    assert!(!heading.contains("&amp;amp;") && !heading.contains("&amp;lt;"), "{heading}");
}

/// Security defect 4: a data directory made before the first start (by an operator, or a package)
/// kept its mode, and what the server wrote in it was readable by every local user. The server
/// takes group and other access away from it and all it holds, and creates nothing readable by
/// others (umask 077): here the imported repository's files.
#[tokio::test]
async fn a_data_directory_made_open_by_someone_else_is_made_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let app = spawn_app_configured(|config| {
        let open = std::fs::Permissions::from_mode(0o755);
        std::fs::create_dir_all(config.data_dir.join("left-by-the-operator")).unwrap();
        std::fs::set_permissions(&config.data_dir, open.clone()).unwrap();
        std::fs::set_permissions(config.data_dir.join("left-by-the-operator"), open).unwrap();
        std::fs::write(config.data_dir.join("notes.txt"), "operator's notes").unwrap();
        std::fs::set_permissions(config.data_dir.join("notes.txt"), std::fs::Permissions::from_mode(0o644)).unwrap();
    })
    .await;
    let mut open_to_others = Vec::new();
    let mut pending = vec![app.data_dir.clone()];
    let mut seen = 0;
    while let Some(path) = pending.pop() {
        let metadata = std::fs::symlink_metadata(&path).unwrap();
        seen += 1;
        if metadata.permissions().mode() & 0o077 != 0 {
            open_to_others.push(format!("{} {:o}", path.display(), metadata.permissions().mode()));
        }
        if metadata.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
    }
    assert!(seen > 10, "the repository and the keys are there: {seen} entries");
    assert!(open_to_others.is_empty(), "{open_to_others:#?}");
}

/// Security defect 19 (in part): a malformed pin in a form's path was carried into the answer's
/// `Location` and answered 500. The pin is parsed before the handler runs, for forms and the API.
#[tokio::test]
async fn a_malformed_pin_in_a_path_is_a_clear_client_error() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let csrf = app.csrf_token().await;
    for path in ["/pins/%0A/verdicts", "/pins/%0A/comments", "/pins/x/reviewed"] {
        let response = app.post_form(path, &[("csrf", csrf.as_str()), ("verdict", "concerns"), ("summary", "s")]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    let response = app
        .client
        .post(app.url("/api/v1/pins/%0A/comments"))
        .header("origin", &app.address)
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"path": "README.md", "body": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

/// Security defect 19 (the rest): a server function's refusal or a malformed call was answered 500
/// (and counted as a server fault). A reviewer asking for the console's data gets 403, a call with
/// no arguments 400; the client still reads the error from the body.
#[tokio::test]
async fn a_server_function_refusal_is_a_client_error_not_a_fault() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let response = app.post_form("/fn/admin", &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body.get("Forbidden").is_some(), "the error is still in the body: {body}");
    let response = app.post_form("/fn/audit", &[]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let signed_out = new_client().post(app.url("/fn/admin")).header("origin", &app.address).send().await.unwrap();
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
    // The metrics count no 5xx for any of them.
    let staff = app.session_client("staff").await;
    let metrics = staff.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        !metrics.lines().any(|l| l.starts_with("clearroom_http_requests_total") && l.contains("status=\"5")),
        "{metrics}"
    );
}

/// Security defect 14: sockets that sent half a request line, or nothing, stayed open for good. A
/// client has a bounded time to send a request's headers (here one second): one that dribbles, one
/// that sends nothing, and a keep-alive connection left idle are closed, and a request sent in time
/// is answered as ever.
#[tokio::test]
async fn connections_that_send_no_request_in_time_are_closed() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = spawn_app_configured(|config| config.connections.header_read = std::time::Duration::from_secs(1)).await;
    let address = app.address.trim_start_matches("http://").to_string();
    let mut dribbling = tokio::net::TcpStream::connect(&address).await.unwrap();
    dribbling.write_all(b"GET /healthz HT").await.unwrap();
    let mut silent = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut idle = tokio::net::TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = idle.read(&mut answer).await.unwrap();
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"), "a request in time is answered");
    for (name, socket) in [("dribbling", &mut dribbling), ("silent", &mut silent), ("idle keep-alive", &mut idle)] {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(std::time::Duration::from_secs(10), socket.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "the {name} connection is closed by the server");
    }
}

/// Security defect 12: the exports page's "Estimate" sent its form as a GET, so the anti-forgery
/// token landed in the URL (history, logs, Referer). No form that carries the token is sent by GET
/// on any page, for any role; and the estimate, posted, comes back with the scope alone in the URL.
#[tokio::test]
async fn no_form_puts_the_anti_forgery_token_in_a_url() {
    let app = spawn_app().await;
    let pin = app.pin;
    let pages = [
        "/".to_string(),
        "/account".into(),
        "/admin".into(),
        "/exports".into(),
        "/log".into(),
        format!("/pins/{pin}/blob/README.md"),
        format!("/pins/{pin}/comments"),
        format!("/pins/{pin}/builds"),
        format!("/pins/{pin}/verdicts"),
        format!("/pins/{pin}/coverage"),
    ];
    let mut forms_seen = 0;
    for who in ["staff", "reviewer", "regulator"] {
        app.login_as(who).await;
        for page in &pages {
            let (_, html) = app.get_text(page).await;
            for form in html.split("<form").skip(1) {
                let form = &form[..form.find("</form>").unwrap_or(form.len())];
                if !form.contains("name=\"csrf\"") {
                    continue;
                }
                forms_seen += 1;
                let opening = &form[..form.find('>').unwrap_or(0)];
                assert!(
                    opening.contains("method=\"post\""),
                    "{who} {page}: a form with the token is not a post: {opening}"
                );
                assert!(!form.contains("formmethod=\"get\""), "{who} {page}: a button sends the token by GET");
            }
        }
    }
    assert!(forms_seen > 10, "the walk saw the forms ({forms_seen})");
    app.login_as("regulator").await;
    let csrf = app.csrf_token().await;
    let response = app
        .post_form(
            "/exports/estimate",
            &[("csrf", csrf.as_str()), ("pins", &pin.to_string()), ("reviewer", "reviewer")],
        )
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/exports?estimate=1&pins=") && location.contains("reviewer=reviewer"), "{location}");
    assert!(!location.contains(&csrf) && !location.contains("csrf"), "{location}");
    let (status, html) = app.get_text(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("export-estimate"), "the estimate is shown");
}

#[tokio::test]
async fn a_page_shows_only_the_messages_the_server_sealed_for_it() {
    let app = spawn_app().await;
    let client = app.session_client("reviewer").await;
    let get = |path: String| {
        let client = client.clone();
        async move {
            let response = client.get(path).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let page = response.text().await.unwrap();
            assert!(page.contains("Sign out"), "a signed-in page: {page}");
            page
        }
    };
    let crafted = get(app.url("/account?error=Your+account+is+locked.+Call+%2B1+555+0100")).await;
    assert!(!crafted.contains("Call +1 555"), "a crafted message is not shown");
    assert!(!crafted.contains("notice-error"));
    let crafted = get(app.url("/account?done=Verified+by+the+vendor&n=1.00")).await;
    assert!(!crafted.contains("Verified by the vendor") && !crafted.contains("notice-ok"));

    // A form whose outcome goes back as a notice (a thread's state, sent for a malformed id).
    let csrf = csrf_of(&get(app.url("/account")).await);
    let fields = [("csrf", csrf.as_str()), ("back", "/account"), ("state", "resolved")];
    let back = location(&client.post(app.url("/comments/x/state")).form(&fields).send().await.unwrap());
    let message = "a comment id is a positive number";
    assert!(back.starts_with("/account?error=a+comment+id+is+a+positive+number&n="), "{back}");
    let shown = get(app.url(&back)).await;
    assert!(shown.contains(&format!(r#"class="notice notice-error">{message}</div>"#)), "{back}: {shown}");
    let elsewhere = spawn_second_instance(&app).await;
    let shown = get(format!("{elsewhere}{back}")).await;
    assert!(shown.contains(message), "every instance sharing the log opens it");

    let other_text = back.replace("a+comment+id+is+a+positive+number", "call+the+helpdesk");
    assert!(!get(app.url(&other_text)).await.contains("call the helpdesk"));
    let other_kind = back.replace("error=", "done=");
    assert!(!get(app.url(&other_kind)).await.contains(message));
    let other_page = back.replacen("/account?", "/?", 1);
    assert!(!get(app.url(&other_page)).await.contains(message));
    app.clock.advance(16 * 60_000);
    assert!(!get(app.url(&back)).await.contains(message), "sealed for 15 minutes");
}
