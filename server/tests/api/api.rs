use crate::helpers::*;
use base64::Engine as _;
use reqwest::StatusCode;

#[tokio::test]
async fn a_regulator_reads_exact_log_entries_with_a_token() {
    let app = spawn_app().await;
    let token = app.token("regulator").await;
    let response =
        new_client().get(app.url("/api/v1/log/entries?start=0&end=3")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    let entries = body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["index"], 0);
    let leaf = base64::engine::general_purpose::STANDARD.decode(entries[0]["leaf"].as_str().unwrap()).unwrap();
    assert_eq!(hex::encode(clearroom::audit::merkle::leaf_hash(&leaf)), entries[0]["leaf_hash"].as_str().unwrap());
    assert!(String::from_utf8(leaf).unwrap().contains("\"action\":\"user.create\""));
}

#[tokio::test]
async fn the_log_api_refuses_reviewers_strangers_and_bad_ranges() {
    let app = spawn_app().await;
    let token = app.token("reviewer").await;
    let client = new_client();
    let status = |r: reqwest::Response| r.status();
    assert_eq!(
        status(client.get(app.url("/api/v1/log/entries")).bearer_auth(&token).send().await.unwrap()),
        StatusCode::FORBIDDEN
    );
    assert_eq!(status(client.get(app.url("/api/v1/log/entries")).send().await.unwrap()), StatusCode::UNAUTHORIZED);
    assert_eq!(
        status(client.get(app.url("/api/v1/log/entries")).bearer_auth("crt_forged").send().await.unwrap()),
        StatusCode::UNAUTHORIZED
    );
    let staff = app.token("staff").await;
    let response = client.get(app.url("/api/v1/log/entries?start=x")).bearer_auth(&staff).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("whole numbers"));
    // Past the largest index the log can hold: refused, not wrapped round to a negative index.
    for query in ["start=18446744073709551615", "start=0&end=9223372036854775808", "start=5&end=2"] {
        let response =
            client.get(app.url(&format!("/api/v1/log/entries?{query}"))).bearer_auth(&staff).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    }
    let response =
        client.get(app.url("/api/v1/log/entries?start=9223372036854775807")).bearer_auth(&staff).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the largest start is an empty page, not a panic");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["entries"], serde_json::json!([]));
}

#[tokio::test]
async fn health_reports_ok() {
    let app = spawn_app().await;
    let (status, body) = app.get_text("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("ok"));

    // The highlight cache's figures: a first view is a miss (or a disk hit, when pre-highlighting
    // got to the file first), the same view again a memory hit.
    app.login_as("reviewer").await;
    app.open_file("src/main.rs").await;
    app.open_file("src/main.rs").await;
    let (_, body) = app.get_text("/healthz").await;
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    let cache = &health["highlight_cache"];
    assert!(cache["misses"].as_u64().unwrap() + cache["disk_hits"].as_u64().unwrap() >= 1, "{cache}");
    assert!(cache["memory_hits"].as_u64().unwrap() >= 1, "{cache}");
    assert!(cache["memory_bytes"].as_u64().unwrap() > 0 && cache["disk_bytes"].as_u64().unwrap() > 0, "{cache}");
}

/// Every route under /api/v1 in the HTTP modules' source, with its methods: (path, methods).
pub(crate) fn routed_api_paths() -> Vec<(String, Vec<String>)> {
    let sources = [
        include_str!("../../src/http/api.rs"),
        include_str!("../../src/http/builds_api.rs"),
        include_str!("../../src/http/compiled_api.rs"),
        include_str!("../../src/http/room_api.rs"),
        include_str!("../../src/http/releases_api.rs"),
        include_str!("../../src/http/grants_api.rs"),
        include_str!("../../src/http/review/mod.rs"),
        include_str!("../../src/http/source_api.rs"),
        include_str!("../../src/http/history_api.rs"),
        include_str!("../../src/http/requirements_api.rs"),
        include_str!("../../src/http/sarif_api.rs"),
        include_str!("../../src/http/exports.rs"),
        include_str!("../../src/http/openapi.rs"),
        include_str!("../../src/http/staff.rs"),
        include_str!("../../src/http/session.rs"),
    ];
    let route = regex::Regex::new(r#"\.route\("(/api/v1[^"]*)",\s*([^\n]*)"#).unwrap();
    let method = regex::Regex::new(r"\b(get|post|put|delete)\(").unwrap();
    let mut out = Vec::new();
    for source in sources {
        for found in route.captures_iter(source) {
            let path = found[1].replace("{*", "{");
            let methods = method.captures_iter(&found[2]).map(|m| m[1].to_string()).collect();
            out.push((path, methods));
        }
    }
    out
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route_and_each_answers() {
    let app = spawn_app().await;
    // Like every /api route, the description is for signed-in callers.
    let response = new_client().get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let token = app.token("regulator").await;
    let response = new_client().get(app.url("/api/v1/openapi.json")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    // Every answer's body is described by a type, not left as any JSON.
    let mut untyped = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let Some(content) = response.get("content").and_then(|c| c.as_object()) else { continue };
                for (media, described) in content {
                    if status.starts_with('2') && described["schema"].as_object().is_none_or(|s| s.is_empty()) {
                        untyped.push(format!("{method} {path} {status} {media}"));
                    }
                }
            }
        }
    }
    assert!(untyped.is_empty(), "answers with an untyped body: {untyped:?}");
    let routed = routed_api_paths();
    assert!(routed.len() >= 25, "the route scan found {routed:?}");
    for (path, methods) in &routed {
        let described = &doc["paths"][path];
        assert!(described.is_object(), "{path} is routed but not described");
        for method in methods {
            assert!(described[method].is_object(), "{method} {path} is routed but not described");
            assert!(described[method]["responses"].is_object(), "{method} {path} has no responses");
        }
    }
    // An unrouted path falls through to the pages' not-found (HTML), which is what the loop
    // below tells apart from an API answer.
    let stray = new_client().get(app.url("/api/v1/not-a-route")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(stray.status(), StatusCode::NOT_FOUND);
    assert!(stray.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    // And the reverse: every described operation is routed and answers (not the pages' 404).
    let described: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| (path.clone(), m.clone())))
        .collect();
    for (path, method) in described {
        assert!(
            routed.iter().any(|(p, ms)| *p == path && ms.contains(&method)),
            "{method} {path} is described but not routed"
        );
        let url = app.url(
            &path
                .replace("{pin}", "1")
                .replace("{a}", "1")
                .replace("{b}", "1")
                .replace("{id}", "1")
                .replace("{index}", "0")
                .replace("{sha256}", &"0".repeat(64))
                .replace("{name}", "count")
                .replace("{path}", "README.md"),
        );
        let request = match method.as_str() {
            "get" => new_client().get(&url),
            "post" => new_client().post(&url).header("origin", &app.address).json(&serde_json::json!({})),
            "put" => new_client().put(&url).header("origin", &app.address),
            "delete" => new_client().delete(&url).header("origin", &app.address),
            other => panic!("{other}"),
        };
        let response = request.bearer_auth(&token).send().await.unwrap();
        let html =
            response.headers().get("content-type").is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/html"));
        assert!(
            !(response.status() == StatusCode::NOT_FOUND && html),
            "{method} {path} fell through to the pages' not-found"
        );
        assert_ne!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
    }
}

/// What Schemathesis found: the API refuses, in its own JSON error shape, a body that is not a
/// JSON object (an array was read as an export of every pin), a body of another media type (415,
/// now documented), and a number parameter sent empty (read as left out before).
#[tokio::test]
async fn the_api_refuses_what_its_document_does_not_admit_in_its_own_error_shape() {
    let app = spawn_app().await;
    let token = app.token("regulator").await;
    let post = |body: &'static str, media: &'static str| {
        new_client()
            .post(app.url("/api/v1/exports"))
            .bearer_auth(&token)
            .header("content-type", media)
            .body(body)
            .send()
    };
    let answer = |response: reqwest::Response| async move {
        let status = response.status();
        let body: serde_json::Value = response.json().await.expect("a JSON error");
        (status, body["error"].as_str().unwrap_or_default().to_string())
    };
    let (status, error) = answer(post("[]", "application/json").await.unwrap()).await;
    assert_eq!((status, error.as_str()), (StatusCode::BAD_REQUEST, "the body must be a JSON object"));
    let (status, error) = answer(post("{}", "text/plain").await.unwrap()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{error}");
    let (status, error) = answer(post(r#"{"pins": "all"}"#, "application/json").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error.starts_with("the body is not what this route takes"), "{error}");
    assert!(app.events("export.request").await.is_empty(), "nothing was asked for");
    assert_eq!(post("{}", "application/json; charset=utf-8").await.unwrap().status(), StatusCode::ACCEPTED);

    let get = |path: &'static str| new_client().get(app.url(path)).bearer_auth(&token).send();
    let (status, error) = answer(get("/api/v1/log/entries?start=1&end=").await.unwrap()).await;
    assert_eq!((status, error.as_str()), (StatusCode::BAD_REQUEST, "end is empty: give a number or leave it out"));
    assert_eq!(get("/api/v1/log/entries?start=1").await.unwrap().status(), StatusCode::OK);
}
