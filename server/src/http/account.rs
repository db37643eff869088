//! One's own account (`/account`): sign out everywhere else, change the password; and staff's
//! forms to end a user's sessions or disable the account. Each checks the anti-forgery token and
//! goes back with a message.

use super::extract::CsrfForm;
use super::forms::{back_to, keep_form, Confirm, Reason};
use super::session_state::TypedSession;
use super::AppState;
use crate::auth::Password;
use crate::domain::Actor;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/sessions/end-others", post(end_others))
        .route("/account/sessions/{fingerprint}/end", post(end_one))
        .route("/account/password", post(change_password))
        .route("/account/second-factor/start", post(start_second_factor))
        .route("/account/second-factor/confirm", post(confirm_second_factor))
        .route("/admin/users/{name}/reset-second-factor", post(reset_second_factor))
        .route("/admin/users/{name}/end-sessions", post(end_sessions))
        .route("/admin/users/{name}/disable", post(disable))
        .route("/admin/users/{name}/enable", post(enable))
}

async fn end_others(
    State(state): State<AppState>,
    session: Session,
    CsrfForm { caller, form: Confirm {} }: CsrfForm<Confirm>,
) -> Response {
    let result = state.domain.sessions().end_other_sessions(Actor::Web(&caller)).await.map(|ended| match ended {
        0 => "you had no other session".to_string(),
        1 => "signed out of 1 other session".to_string(),
        n => format!("signed out of {n} other sessions"),
    });
    back_to_account(session, "sessions", result).await
}

async fn end_one(
    State(state): State<AppState>,
    Path(fingerprint): Path<String>,
    session: Session,
    CsrfForm { caller, form: Confirm {} }: CsrfForm<Confirm>,
) -> Response {
    let result = state
        .domain
        .sessions()
        .end_own_session(Actor::Web(&caller), &fingerprint)
        .await
        .map(|()| "ended that session: its browser is signed out".to_string());
    back_to_account(session, "sessions", result).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewPassword {
    current: String,
    new: String,
    confirm: String,
}

/// The account page's forms show their outcome next to them (no field is kept: each is a secret).
async fn back_to_account(session: Session, place: &str, result: Result<String, app::error::AppError>) -> Response {
    keep_form(TypedSession(session), "/account", place, result, Vec::new()).await
}

async fn change_password(
    State(state): State<AppState>,
    session: Session,
    CsrfForm { caller, form }: CsrfForm<NewPassword>,
) -> Response {
    let result = if form.new != form.confirm {
        Err(app::error::AppError::Invalid("the two new passwords differ".into()))
    } else {
        state
            .domain
            .sessions()
            .change_password(Actor::Web(&caller), Password::new(form.current), Password::new(form.new))
            .await
            .map(|ended| match ended {
                1 => "password changed; 1 other session ended".to_string(),
                n => format!("password changed; {n} other sessions ended"),
            })
    };
    back_to_account(session, "password", result).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OwnPassword {
    password: String,
}

async fn start_second_factor(
    State(state): State<AppState>,
    session: Session,
    CsrfForm { caller, form }: CsrfForm<OwnPassword>,
) -> Response {
    let result = state
        .domain
        .sessions()
        .start_second_factor(Actor::Web(&caller), Password::new(form.password))
        .await
        .map(|()| "add the key below to your authenticator app, then enter its code".to_string());
    back_to_account(session, "second-factor", result).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Code {
    code: String,
}

async fn confirm_second_factor(
    State(state): State<AppState>,
    session: Session,
    CsrfForm { caller, form }: CsrfForm<Code>,
) -> Response {
    let result = state
        .domain
        .sessions()
        .confirm_second_factor(Actor::Web(&caller), &form.code)
        .await
        .map(|()| "second factor on: sign-in asks for a code from now on".to_string());
    back_to_account(session, "second-factor", result).await
}

async fn reset_second_factor(
    State(state): State<AppState>,
    Path(name): Path<String>,
    CsrfForm { caller, form: Confirm {} }: CsrfForm<Confirm>,
) -> Response {
    let result = state
        .domain
        .sessions()
        .reset_second_factor(Actor::Web(&caller), &name)
        .await
        .map(|()| format!("removed {name}'s second factor"));
    back_to("/admin#users", result)
}

async fn end_sessions(
    State(state): State<AppState>,
    Path(name): Path<String>,
    CsrfForm { caller, form: Confirm {} }: CsrfForm<Confirm>,
) -> Response {
    let result = state
        .domain
        .access()
        .end_sessions_of(Actor::Web(&caller), &name)
        .await
        .map(|n| format!("ended {} of {name}", app::html::counted(n, "session", "sessions")));
    back_to("/admin#users", result)
}

async fn disable(
    State(state): State<AppState>,
    Path(name): Path<String>,
    CsrfForm { caller, form }: CsrfForm<Reason>,
) -> Response {
    let result = state
        .domain
        .access()
        .disable_user(Actor::Web(&caller), &name, &form.reason)
        .await
        .map(|()| format!("disabled {name}: their sessions ended and their tokens were revoked"));
    back_to("/admin#users", result)
}

async fn enable(
    State(state): State<AppState>,
    Path(name): Path<String>,
    CsrfForm { caller, form }: CsrfForm<Reason>,
) -> Response {
    let result = state
        .domain
        .access()
        .enable_user(Actor::Web(&caller), &name, &form.reason)
        .await
        .map(|()| format!("enabled {name}: they may sign in again"));
    back_to("/admin#users", result)
}
