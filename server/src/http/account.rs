//! One's own account (`/account`): sign out everywhere else, change the password; and staff's
//! forms to end a user's sessions or disable the account. Each checks the anti-forgery token and
//! goes back with a message.

use super::forms::{back_to, check, Fields};
use super::AppState;
use crate::auth::Password;
use crate::domain::Actor;
use app::model::Caller;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/sessions/end-others", post(end_others))
        .route("/account/password", post(change_password))
        .route("/account/second-factor/start", post(start_second_factor))
        .route("/account/second-factor/confirm", post(confirm_second_factor))
        .route("/admin/users/{name}/reset-second-factor", post(reset_second_factor))
        .route("/admin/users/{name}/end-sessions", post(end_sessions))
        .route("/admin/users/{name}/disable", post(disable))
}

async fn end_others(State(state): State<AppState>, Extension(caller): Extension<Caller>, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = state.domain.end_other_sessions(&caller).await.map(|ended| match ended {
        0 => "you had no other session".to_string(),
        1 => "signed out of 1 other session".to_string(),
        n => format!("signed out of {n} other sessions"),
    });
    back_to("/account", result)
}

async fn change_password(State(state): State<AppState>, Extension(caller): Extension<Caller>, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    if fields.get("new") != fields.get("confirm") {
        return back_to("/account", Err(app::error::AppError::Invalid("the two new passwords differ".into())));
    }
    let current = Password::new(fields.get("current").to_string());
    let new = Password::new(fields.get("new").to_string());
    let result = state
        .domain
        .change_password(&caller, current, new)
        .await
        .map(|ended| format!("password changed; {ended} other session(s) ended"));
    back_to("/account", result)
}

async fn start_second_factor(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = state
        .domain
        .start_second_factor(&caller)
        .await
        .map(|()| "add the key below to your authenticator app, then enter its code".to_string());
    back_to("/account#second-factor", result)
}

async fn confirm_second_factor(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = state
        .domain
        .confirm_second_factor(&caller, fields.get("code"))
        .await
        .map(|()| "second factor on: sign-in asks for a code from now on".to_string());
    back_to("/account#second-factor", result)
}

async fn reset_second_factor(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = state
        .domain
        .reset_second_factor(Actor::Web(&caller), &name)
        .await
        .map(|()| format!("removed {name}'s second factor"));
    back_to("/admin#users", result)
}

async fn end_sessions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = state
        .domain
        .end_sessions_of(Actor::Web(&caller), &name)
        .await
        .map(|n| format!("ended {n} session(s) of {name}"));
    back_to("/admin#users", result)
}

async fn disable(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = state
        .domain
        .disable_user(Actor::Web(&caller), &name, fields.get("reason"))
        .await
        .map(|()| format!("disabled {name}: their sessions ended and their tokens were revoked"));
    back_to("/admin#users", result)
}
