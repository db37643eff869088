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
