//! Second-factor secrets at rest: sealed in the database under the key kept in the data
//! directory (0600), so a copy of the database yields none; a secret stored in the clear before
//! sealing is sealed at start and still works; a sealed value moved to another account's row
//! opens for nobody.

use crate::helpers::*;
use clearroom::auth::totp::code_at;
use clearroom::domain::Actor;
use reqwest::StatusCode;

async fn stored(app: &TestApp, username: &str) -> (Option<String>, Option<String>) {
    use sqlx::{Connection, Row};
    let mut connection = sqlx::AnyConnection::connect(&app.database_url).await.unwrap();
    let row = sqlx::query("SELECT totp_secret, totp_pending FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&mut connection)
        .await
        .unwrap();
    (row.try_get(0).unwrap(), row.try_get(1).unwrap())
}

async fn set_stored(app: &TestApp, username: &str, secret: &str) {
    use sqlx::Connection;
    let mut connection = sqlx::AnyConnection::connect(&app.database_url).await.unwrap();
    sqlx::query("UPDATE users SET totp_secret = $1, totp_pending = NULL WHERE username = $2")
        .bind(secret)
        .bind(username)
        .execute(&mut connection)
        .await
        .unwrap();
}

async fn sign_in(app: &TestApp, username: &str, code: &str) -> String {
    let response = new_client()
        .post(app.url("/login"))
        .form(&[("username", username), ("password", PASSWORD), ("code", code), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    location(&response)
}

#[tokio::test]
async fn second_factor_secrets_are_sealed_at_rest_and_open_only_for_their_account() {
    let app = spawn_app().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let key = std::fs::metadata(app.data_dir.join("second-factor.key")).expect("the key beside the log's");
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
    }

    // Enrolled: the database holds ciphertext only; the code from the secret signs in.
    let (secret, _) = app.domain.sessions().enrol_second_factor(Actor::Operator, "staff").await.unwrap();
    let (sealed, _) = stored(&app, "staff").await;
    let sealed = sealed.expect("a second factor");
    assert!(sealed.starts_with("sealed1:") && !sealed.contains(&secret), "{sealed}");
    assert_eq!(sign_in(&app, "staff", &code_at(&secret, app.clock.now_ms()).unwrap()).await, "/");

    // One being set up is sealed too, and the account page still shows it to its owner.
    let reviewer = app.session_client("reviewer").await;
    let page = reviewer.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let form = [("csrf", csrf.as_str()), ("password", PASSWORD)];
    reviewer.post(app.url("/account/second-factor/start")).form(&form).send().await.unwrap();
    let page = reviewer.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    let at = page.find("<code class=\"secret\">").expect("the key is shown while it is set up") + 21;
    let shown = page[at..].split('<').next().unwrap().to_string();
    let (_, pending) = stored(&app, "reviewer").await;
    let pending = pending.expect("pending");
    assert!(pending.starts_with("sealed1:") && !pending.contains(&shown));

    // A secret stored in the clear (before sealing) is sealed at start and keeps working.
    set_stored(&app, "regulator", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").await;
    assert_eq!(app.domain.sessions().seal_second_factors().await.unwrap(), 1);
    assert_eq!(app.domain.sessions().seal_second_factors().await.unwrap(), 0, "once");
    let (resealed, _) = stored(&app, "regulator").await;
    assert!(resealed.unwrap().starts_with("sealed1:"));
    app.clock.advance(30_000);
    assert_eq!(
        sign_in(&app, "regulator", &code_at("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", app.clock.now_ms()).unwrap()).await,
        "/"
    );

    // Staff's sealed secret copied into another account's row opens for nobody: refused, recorded.
    set_stored(&app, "outsider", &sealed).await;
    let code = code_at(&secret, app.clock.now_ms()).unwrap();
    assert_eq!(sign_in(&app, "outsider", &code).await, "/login?code=1");
    let failed = app.events("auth.login_failed").await;
    assert!(failed.iter().any(|e| e.leaf.contains("\"second_factor\":\"unopenable\"")), "{failed:?}");
    assert!(failed.iter().all(|e| !e.leaf.contains(&secret) && !e.leaf.contains("sealed1:")));
}
