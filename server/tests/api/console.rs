//! The staff console (issue 33, items 7 and 8): grants of a preset length, a refused grant that
//! comes back filled in, destructive actions that say what they end, enabling a disabled account,
//! API tokens made and revoked from the console.

use crate::helpers::*;
use clearroom::domain::Actor;
use reqwest::StatusCode;

#[tokio::test]
async fn a_grant_of_a_preset_length_starts_now_and_a_refused_one_comes_back_filled_in() {
    let app = spawn_app().await;
    app.login_as("staff").await;
    let csrf = app.csrf_token().await;
    let pin = app.pin.to_string();
    let grant = async |fields: Vec<(&'static str, String)>| {
        let mut all = vec![("csrf", csrf.clone()), ("username", "outsider".to_string()), ("pin", pin.clone())];
        all.extend(fields);
        let fields: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
        app.post_form("/admin/grants", &fields).await
    };
    // Refused (an end before the start): the reason beside the form, and the form as it was.
    let response = grant(vec![("from", "2030-01-02T10:00".into()), ("until", "2030-01-01T10:00".into())]).await;
    assert_eq!(location(&response), "/admin", "the refused field takes the focus");
    let (_, console) = app.get_text("/admin").await;
    let shown = outcomes(&console);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(console.contains(r#"name="from" type="datetime-local" value="2030-01-02T10:00""#), "the dates are kept");
    assert!(console.contains(r#"name="until" type="datetime-local" value="2030-01-01T10:00""#));
    assert!(console.contains(r#"<option value="outsider" selected"#), "and the reviewer");
    assert!(app.grants().await.iter().all(|g| g.reviewer != "outsider"), "nothing was granted");

    let refused = grant(vec![("length", "1d".into()), ("until", "2030-01-01T10:00".into())]).await;
    assert!(outcome_after(&app, &app.client, refused).await.contains("not both"));
    let refused = grant(vec![("length", "2y".into())]).await;
    assert!(outcome_after(&app, &app.client, refused).await.contains("8h, 1d or 1w"));

    // A day from now: the start is blank.
    let now = app.clock.now_ms();
    let response = grant(vec![("length", "1d".into())]).await;
    assert!(outcome_after(&app, &app.client, response).await.starts_with("granted 1 pin to outsider until"));
    let made = app.grants().await.into_iter().find(|g| g.reviewer == "outsider").expect("granted");
    assert!((now..now + 1_000).contains(&made.starts_at_ms), "from now");
    assert_eq!(made.ends_at_ms - made.starts_at_ms, 86_400_000);
}

#[tokio::test]
async fn disabling_says_what_it_ends_and_a_disabled_account_is_enabled_again_on_record() {
    let app = spawn_app().await;
    let reviewer = app.session_client("reviewer").await;
    let _second = app.session_client("reviewer").await;
    app.token("reviewer").await;
    app.login_as("staff").await;
    let (_, console) = app.get_text("/admin").await;
    assert!(
        console.contains(
            "reviewer will not be able to sign in. This ends 2 live sessions now and revokes 1 live API token."
        ),
        "the confirmation names what disabling ends"
    );
    let csrf = app.csrf_token().await;
    let response = app.post_form("/admin/users/reviewer/disable", &[("csrf", &csrf), ("reason", "left the lab")]).await;
    assert!(location(&response).contains("done=disabled"), "{}", location(&response));
    let blob = app.url(&format!("/pins/{}/blob/README.md", app.pin));
    assert!(location(&reviewer.get(&blob).send().await.unwrap()).starts_with("/login?"), "signed out");

    let (_, console) = app.get_text("/admin").await;
    assert!(console.contains("action=\"/admin/users/reviewer/enable\""), "the console offers Enable");
    let response = app.post_form("/admin/users/reviewer/enable", &[("csrf", &csrf), ("reason", "back again")]).await;
    assert!(location(&response).contains("done=enabled"), "{}", location(&response));
    let again = app.session_client("reviewer").await;
    assert_eq!(again.get(&blob).send().await.unwrap().status(), StatusCode::OK, "signs in and reads again");
    let response = app.post_form("/admin/users/reviewer/enable", &[("csrf", &csrf)]).await;
    assert!(location(&response).contains("error=reviewer+is+not+disabled"));
    let enabled = app.events("user.enable").await;
    assert_eq!(enabled.len(), 1);
    assert!(enabled[0].leaf.contains("\"reason\":\"back again\""));
    // The command line does the same.
    app.domain.access().disable_user(Actor::Operator, "reviewer", "").await.unwrap();
    app.domain.access().enable_user(Actor::Operator, "reviewer", "").await.unwrap();
    assert_eq!(app.events("user.enable").await.len(), 2);

    // Removing a second factor that is not there is refused, not reported done.
    let refused = app.domain.sessions().reset_second_factor(Actor::Operator, "reviewer").await.unwrap_err();
    assert_eq!(refused.to_string(), "reviewer has no second factor to remove");
}

#[tokio::test]
async fn staff_make_an_api_token_shown_once_and_revoke_it_from_the_console() {
    let app = spawn_app().await;
    app.login_as("staff").await;
    let csrf = app.csrf_token().await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", "regulator"),
        ("label", "nightly export"),
        ("scope", "export"),
        ("scope", "log:read"),
        ("days", "30"),
    ];
    let response = app.post_form("/admin/tokens", &fields).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let page = response.text().await.unwrap();
    let marker = "<code id=\"secret\" class=\"secret\">";
    let start = page.find(marker).expect("the token, shown once") + marker.len();
    let token = page[start..start + page[start..].find('<').unwrap()].to_string();
    let client = new_client();
    let log = client.get(app.url("/api/v1/log/checkpoint")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(log.status(), StatusCode::OK, "the token works");

    let (_, console) = app.get_text("/admin").await;
    assert!(console.contains("nightly export") && console.contains("<code>log:read export</code>"));
    assert!(!console.contains(&token), "never shown again");

    // A scope the account cannot hold: refused beside the form, the form kept.
    let wrong = [
        ("csrf", csrf.as_str()),
        ("username", "regulator"),
        ("label", "builds"),
        ("scope", "build:write"),
        ("days", "30"),
    ];
    let response = app.post_form("/admin/tokens", &wrong).await;
    assert_eq!(location(&response), "/admin");
    let (_, console) = app.get_text("/admin").await;
    assert_eq!(outcomes(&console), ["a regulator account cannot hold the build:write scope"]);
    assert!(console.contains(r#"value="build:write" checked"#));

    let id = app.events("token.create").await[0]
        .leaf
        .split("\"token_id\":")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let response = app.post_form(&format!("/admin/tokens/{id}/revoke"), &[("csrf", &csrf)]).await;
    assert!(outcome_after(&app, &app.client, response).await.contains(&format!("revoked token {id}")));
    let log = client.get(app.url("/api/v1/log/checkpoint")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(log.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.events("token.revoke").await.len(), 1);
}
