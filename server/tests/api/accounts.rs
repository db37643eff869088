//! API tokens (scopes, expiry, revocation), disabled accounts, ended sessions and the sign-in lock.

use crate::helpers::*;
use app::model::Scope;
use clearroom::domain::{Actor, TokenRequest};
use reqwest::StatusCode;

async fn token_with(app: &TestApp, username: &str, scopes: &[Scope], days: i64) -> String {
    let request = TokenRequest { scopes, days, label: "test" };
    app.domain.access().create_token(Actor::Operator, username, request).await.unwrap()
}

async fn get_with(app: &TestApp, token: &str, path: &str) -> (StatusCode, String) {
    let response = new_client().get(app.url(path)).bearer_auth(token).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_token_never_reads_source_whatever_its_scopes() {
    let app = spawn_app().await;
    let staff = token_with(&app, "staff", &Scope::ALL, 30).await;
    let reads = [
        format!("/api/v1/pins/{}/search?q=fn", app.pin),
        format!("/api/v1/pins/{}/files?q=main", app.pin),
        format!("/api/v1/pins/{}/symbols/count", app.pin),
        format!("/pins/{}/lines/src/main.rs?from=1&to=5", app.pin),
        format!("/pins/{}/raw/README.md", app.pin),
        format!("/pins/{}/blob/README.md", app.pin),
        format!("/pins/{}", app.pin),
    ];
    for path in &reads {
        let (status, body) = get_with(&app, &staff, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert!(!body.contains("count("), "no source in the refusal: {body}");
    }
    // Nothing was viewed; each API refusal that named a pin is on record.
    assert!(app.events("file.view").await.is_empty());
    assert!(app.events("search.run").await.is_empty());
    assert!(!app.events("access.denied").await.is_empty());
    // The same account, signed in, reads it.
    let session = app.session_client("staff").await;
    let response = session.get(app.url(&format!("/pins/{}/raw/README.md", app.pin))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_token_does_only_what_its_scopes_name() {
    let app = spawn_app().await;
    let log_only = token_with(&app, "regulator", &[Scope::LogRead], 30).await;
    assert_eq!(get_with(&app, &log_only, "/api/v1/log/checkpoint").await.0, StatusCode::OK);
    let (status, body) = get_with(&app, &log_only, "/api/v1/exports").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("lacks the export scope"), "{body}");
    let (status, _) = get_with(&app, &log_only, &format!("/api/v1/pins/{}/comments", app.pin)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let review = token_with(&app, "regulator", &[Scope::Review], 30).await;
    assert_eq!(get_with(&app, &review, &format!("/api/v1/pins/{}/comments", app.pin)).await.0, StatusCode::OK);
    assert_eq!(get_with(&app, &review, "/api/v1/log/checkpoint").await.0, StatusCode::FORBIDDEN);
    // A scope the role cannot hold is refused when the token is made.
    let refused = app
        .domain
        .access()
        .create_token(Actor::Operator, "reviewer", TokenRequest { scopes: &[Scope::LogRead], days: 30, label: "" })
        .await;
    assert!(refused.is_err());
    let events = app.events("token.create").await;
    assert!(events.iter().all(|e| !e.leaf.contains("crt_")), "the token itself is never recorded");
}

#[tokio::test]
async fn a_token_stops_working_when_it_expires_or_is_revoked() {
    let app = spawn_app().await;
    let token = token_with(&app, "regulator", &[Scope::LogRead], 1).await;
    assert_eq!(get_with(&app, &token, "/api/v1/log/checkpoint").await.0, StatusCode::OK);
    app.clock.advance(86_400_000);
    assert_eq!(get_with(&app, &token, "/api/v1/log/checkpoint").await.0, StatusCode::UNAUTHORIZED);

    let token = token_with(&app, "regulator", &[Scope::LogRead], 30).await;
    assert_eq!(get_with(&app, &token, "/api/v1/log/checkpoint").await.0, StatusCode::OK);
    let tokens = app.domain.access().list_tokens(Actor::Operator).await.unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens[0].live && !tokens[1].live, "newest first; the first has expired");
    app.domain.access().revoke_token(Actor::Operator, tokens[0].id).await.unwrap();
    assert_eq!(get_with(&app, &token, "/api/v1/log/checkpoint").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.events("token.revoke").await.len(), 1);
    assert!(app.domain.access().revoke_token(Actor::Operator, tokens[0].id).await.is_err(), "revoked once");
}

#[tokio::test]
async fn a_disabled_account_loses_its_sessions_and_tokens_at_once_and_cannot_sign_in() {
    let app = spawn_app().await;
    let session = app.session_client("reviewer").await;
    let token = token_with(&app, "reviewer", &[Scope::Review], 30).await;
    let blob = format!("/pins/{}/blob/README.md", app.pin);
    assert_eq!(session.get(app.url(&blob)).send().await.unwrap().status(), StatusCode::OK);

    app.domain.access().disable_user(Actor::Operator, "reviewer", "contract ended").await.unwrap();
    let response = session.get(app.url(&blob)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "the session is over");
    assert!(location(&response).starts_with("/login"));
    let comments = format!("/api/v1/pins/{}/comments", app.pin);
    assert_eq!(get_with(&app, &token, &comments).await.0, StatusCode::UNAUTHORIZED);
    let response = app.login("reviewer", PASSWORD).await;
    assert_eq!(location(&response), "/login?error=1", "a disabled account signs in nowhere");
    let failed = app.events("auth.login_failed").await;
    assert!(failed.last().unwrap().leaf.contains("\"disabled\":true"));
    let disabled = app.events("user.disable").await;
    assert_eq!(disabled.len(), 1);
    assert!(disabled[0].leaf.contains("contract ended") && disabled[0].leaf.contains("\"tokens_revoked\":1"));
}

#[tokio::test]
async fn staff_end_every_session_of_an_account() {
    let app = spawn_app().await;
    let first = app.session_client("reviewer").await;
    let second = app.session_client("reviewer").await;
    let blob = format!("/pins/{}/blob/README.md", app.pin);
    let ended = app.domain.access().end_sessions_of(Actor::Operator, "reviewer").await.unwrap();
    assert_eq!(ended, 2);
    for client in [&first, &second] {
        assert_eq!(client.get(app.url(&blob)).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    }
    // The account itself still works.
    let again = app.session_client("reviewer").await;
    assert_eq!(again.get(app.url(&blob)).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.events("session.end_all").await.len(), 1);
}

#[tokio::test]
async fn a_hundred_failures_in_an_hour_lock_the_account_on_every_instance() {
    use clearroom::network::Network;
    // Behind a trusted proxy, each attempt from another address: the per-address limits do not
    // apply, as in a distributed guessing attack; the count in the database does.
    let network = Network { trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()], public_url: None };
    let app = spawn_app_on(Default::default(), network).await;
    let attempt = |n: u32, password: &'static str| {
        let client = bare_client();
        let address = format!("198.51.{}.{}", n / 250, n % 250 + 1);
        let url = app.url("/login");
        let origin = app.address.clone();
        async move {
            client
                .post(url)
                .header("origin", origin)
                .header("x-forwarded-for", address)
                .form(&[("username", " Reviewer "), ("password", password)])
                .send()
                .await
                .unwrap()
        }
    };
    for n in 0..99 {
        assert_eq!(location(&attempt(n, "wrong password!").await), "/login?error=1", "attempt {n}");
    }
    let hundredth = attempt(99, "wrong password!").await;
    assert_eq!(hundredth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(hundredth.text().await.unwrap().contains("Try again in 60 minutes"));
    // The right password is not even checked while the lock lasts, and a second instance agrees.
    assert_eq!(attempt(100, PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    let second = spawn_second_instance(&app).await;
    let response = bare_client()
        .post(format!("{second}/login"))
        .header("origin", &second)
        .form(&[("username", "reviewer"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.events("auth.login_failed").await.len(), 100, "attempts while locked are not each recorded");
    let locked = app.events("auth.account_locked").await;
    assert_eq!(locked.len(), 1);
    assert!(locked[0].leaf.contains("\"account\":\"reviewer\""), "{}", locked[0].leaf);
    // An hour later it opens again.
    app.clock.advance(3_600_000);
    assert_eq!(location(&attempt(101, PASSWORD).await), "/");
}

#[tokio::test]
async fn a_person_lists_their_sessions_and_signs_out_everywhere_else() {
    let app = spawn_app().await;
    let here = app.session_client("reviewer").await;
    let elsewhere = app.session_client("reviewer").await;
    let page = here.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("this browser") && page.contains("127.0.0.1"), "{page}");
    assert_eq!(page.matches("<code>").count(), 2, "two sessions listed: {page}");
    let csrf = csrf_of(&page);
    let response =
        here.post(app.url("/account/sessions/end-others")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(outcome_after(&app, &here, response).await, "signed out of 1 other session");
    let blob = format!("/pins/{}/blob/README.md", app.pin);
    assert_eq!(elsewhere.get(app.url(&blob)).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(here.get(app.url(&blob)).send().await.unwrap().status(), StatusCode::OK, "this one stays");
    assert_eq!(app.events("session.end_others").await.len(), 1);
}

#[tokio::test]
async fn a_person_ends_one_other_session_named_by_its_browser() {
    let app = spawn_app().await;
    let here = app.session_client("reviewer").await;
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("sec-fetch-site", reqwest::header::HeaderValue::from_static("same-origin"));
    let other = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .user_agent(firefox)
        .build()
        .unwrap();
    let signed_in = other
        .post(app.url("/login"))
        .form(&[("username", "reviewer"), ("password", PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&signed_in), "/");
    let page = here.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<td>Firefox on Linux</td>"), "the other session's browser is named");
    // The fingerprints: the one without "this browser" is the other's.
    let rows: Vec<&str> = page.split("<tr>").skip(2).collect();
    let theirs = rows.iter().find(|row| row.contains("Firefox")).unwrap();
    let fingerprint = &theirs[theirs.find("<code>").unwrap() + 6..][..16];
    let mine = rows.iter().find(|row| row.contains("this browser")).unwrap();
    let own = &mine[mine.find("<code>").unwrap() + 6..][..16];
    let csrf = csrf_of(&page);
    let end = |fingerprint: String| {
        here.post(app.url(&format!("/account/sessions/{fingerprint}/end"))).form(&[("csrf", csrf.as_str())]).send()
    };
    assert!(outcome_after(&app, &here, end(own.to_string()).await.unwrap()).await.contains("sign out to end it"));
    assert!(outcome_after(&app, &here, end("zz".into()).await.unwrap()).await.contains("16-digit fingerprint"));
    let ended = end(fingerprint.to_string()).await.unwrap();
    assert_eq!(outcome_after(&app, &here, ended).await, "ended that session: its browser is signed out");
    let blob = format!("/pins/{}/blob/README.md", app.pin);
    assert_eq!(other.get(app.url(&blob)).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(here.get(app.url(&blob)).send().await.unwrap().status(), StatusCode::OK, "this one stays");
    let events = app.events("session.end_one").await;
    assert_eq!(events.len(), 1);
    assert!(events[0].leaf.contains(fingerprint));
}

#[tokio::test]
async fn changing_a_password_checks_the_old_one_refuses_common_ones_and_ends_other_sessions() {
    let app = spawn_app().await;
    let here = app.session_client("reviewer").await;
    let elsewhere = app.session_client("reviewer").await;
    let page = here.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        here.post(app.url("/account/password"))
            .form(&[("csrf", csrf.as_str()), ("current", current), ("new", new), ("confirm", confirm)])
            .send()
    };
    // Each outcome is shown next to the form, at `#password`.
    let shown = async |response: reqwest::Response| {
        assert!(location(&response).starts_with("/account"), "back to the account page");
        outcome_after(&app, &here, response).await
    };
    let wrong = change("wrong", "a fresh long passphrase", "a fresh long passphrase").await.unwrap();
    assert_eq!(shown(wrong).await, "the current password is not right");
    assert!(shown(change(PASSWORD, "password1234", "password1234").await.unwrap()).await.contains("most common"));
    assert!(shown(change(PASSWORD, "short", "short").await.unwrap()).await.contains("at least 12"));
    assert!(shown(change(PASSWORD, "a fresh long passphrase", "a different one").await.unwrap())
        .await
        .contains("differ"));
    let response = change(PASSWORD, "a fresh long passphrase", "a fresh long passphrase").await.unwrap();
    assert!(shown(response).await.contains("password changed"));
    let blob = format!("/pins/{}/blob/README.md", app.pin);
    assert_eq!(elsewhere.get(app.url(&blob)).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(here.get(app.url(&blob)).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(location(&app.login("reviewer", PASSWORD).await), "/login?error=1");
    assert_eq!(location(&app.login("reviewer", "a fresh long passphrase").await), "/");
    let events = app.events("user.password_change").await;
    assert_eq!(events.len(), 2, "the refused attempt with a wrong current password, then the change");
    assert!(events.iter().all(|e| !e.leaf.contains("passphrase")), "no password in the log");
}

#[tokio::test]
async fn staff_end_sessions_and_disable_from_the_console() {
    let app = spawn_app().await;
    let reviewer = app.session_client("reviewer").await;
    let staff = app.session_client("staff").await;
    let page = staff.get(app.url("/admin")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("/admin/users/reviewer/disable"), "{page}");
    let csrf = csrf_of(&page);
    let response = staff
        .post(app.url("/admin/users/reviewer/disable"))
        .form(&[("csrf", csrf.as_str()), ("reason", "left")])
        .send();
    assert!(location(&response.await.unwrap()).contains("done=disabled+reviewer"));
    let blob = format!("/pins/{}/blob/README.md", app.pin);
    assert_eq!(reviewer.get(app.url(&blob)).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let page = staff.get(app.url("/admin")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("disabled "), "the console shows it");
    // A reviewer cannot use these forms.
    let other = app.session_client("outsider").await;
    let page = other.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let response = other.post(app.url("/admin/users/staff/end-sessions")).form(&[("csrf", csrf.as_str())]).send();
    assert!(location(&response.await.unwrap()).contains("error="));
    assert!(app.events("session.end_all").await.is_empty());
}

async fn sign_in_with_code(app: &TestApp, username: &str, code: &str) -> reqwest::Response {
    new_client()
        .post(app.url("/login"))
        .form(&[("username", username), ("password", PASSWORD), ("code", code), ("next", "")])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_person_turns_on_a_second_factor_and_then_signs_in_with_codes_each_good_once() {
    use clearroom::auth::totp::code_at;
    let app = spawn_app().await;
    let reviewer = app.session_client("reviewer").await;
    let page = reviewer.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    // A stolen session cannot tie the account to another authenticator: the password is asked,
    // and a wrong one is refused and recorded.
    let start = |password: &str| {
        reviewer
            .post(app.url("/account/second-factor/start"))
            .form(&[("csrf", csrf.as_str()), ("password", password)])
            .send()
    };
    for wrong in ["", "not the password 2026"] {
        let refused = outcome_after(&app, &reviewer, start(wrong).await.unwrap()).await;
        assert_eq!(refused, "the current password is not right");
    }
    let page = reviewer.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("<code class=\"secret\">"), "no secret was made for a wrong password");
    let refusals = app.events("user.second_factor").await;
    assert_eq!(refusals.iter().filter(|e| e.outcome == "denied").count(), 2, "{refusals:?}");
    assert!(outcome_after(&app, &reviewer, start(PASSWORD).await.unwrap()).await.contains("authenticator app"));
    let page = reviewer.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    let at = page.find("<code class=\"secret\">").expect("the key is shown while it is set up") + 21;
    let secret = page[at..].split('<').next().unwrap().to_string();
    assert_eq!(secret.len(), 32);
    assert!(page.contains("otpauth://totp/Clearroom:reviewer?secret="));
    let confirm = |code: String| {
        reviewer.post(app.url("/account/second-factor/confirm")).form(&[("csrf", csrf.clone()), ("code", code)]).send()
    };
    let response = confirm("000000".into()).await.unwrap();
    let page = reviewer.get(app.url(&location(&response))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"id="second-factor-outcome" role="alert" class="field-error""#), "beside the code");
    assert!(page.contains(r#"aria-describedby="second-factor-outcome""#));
    let code = code_at(&secret, app.clock.now_ms()).unwrap();
    assert!(outcome_after(&app, &reviewer, confirm(code).await.unwrap()).await.contains("second factor on"));

    // Password alone is not enough now; a code works once.
    app.clock.advance(30_000);
    let response = sign_in_with_code(&app, "reviewer", "").await;
    assert_eq!(location(&response), "/login?code=1");
    let code = code_at(&secret, app.clock.now_ms()).unwrap();
    assert_eq!(location(&sign_in_with_code(&app, "reviewer", &code).await), "/");
    assert_eq!(location(&sign_in_with_code(&app, "reviewer", &code).await), "/login?code=1", "replayed");
    app.clock.advance(30_000);
    let next = code_at(&secret, app.clock.now_ms()).unwrap();
    assert_eq!(location(&sign_in_with_code(&app, "reviewer", &next).await), "/");
    let failed = app.events("auth.login_failed").await;
    assert!(failed.iter().any(|e| e.leaf.contains("\"second_factor\":\"missing\"")));
    assert!(failed.iter().any(|e| e.leaf.contains("\"second_factor\":\"wrong or used\"")));
    assert!(failed.iter().all(|e| !e.leaf.contains(&secret)), "the key never reaches the log");
    let enabled = app.events("user.second_factor").await;
    assert_eq!(enabled.iter().filter(|e| e.outcome == "ok").count(), 1, "{enabled:?}");

    // Staff remove it when the device is lost.
    app.domain.sessions().reset_second_factor(Actor::Operator, "reviewer").await.unwrap();
    // (Straight to the domain: this client's sign-in attempts for the minute are spent.)
    let password = clearroom::auth::Password::new(PASSWORD.into());
    let signed_in = app.domain.sessions().sign_in("192.0.2.9", "reviewer", password, "").await.unwrap();
    assert!(matches!(signed_in, clearroom::domain::SignIn::Accepted(_)));
}

#[tokio::test]
async fn a_server_that_requires_it_admits_staff_only_with_a_second_factor() {
    use clearroom::auth::totp::code_at;
    let app = spawn_app_configured(|config| config.require_staff_second_factor = true).await;
    let response = sign_in_with_code(&app, "staff", "").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("server user second-factor"));
    // Reviewers are not bound.
    assert_eq!(location(&sign_in_with_code(&app, "reviewer", "").await), "/");
    let (secret, uri) = app.domain.sessions().enrol_second_factor(Actor::Operator, "staff").await.unwrap();
    assert!(uri.contains(&secret));
    let code = code_at(&secret, app.clock.now_ms()).unwrap();
    assert_eq!(location(&sign_in_with_code(&app, "staff", &code).await), "/");
}
