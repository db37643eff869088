//! One's own account (`/account`): sign out everywhere else, change the password; and staff's
//! forms to end a user's sessions or disable the account. Each checks the anti-forgery token and
//! goes back with a message.

use super::extract::CsrfForm;
use super::forms::{back_to, Confirm, Reason};
use super::AppState;
use crate::auth::Password;
use crate::domain::Actor;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

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

async fn end_others(
    State(state): State<AppState>,
    CsrfForm { caller, form: Confirm {} }: CsrfForm<Confirm>,
) -> Response {
    let result = state.domain.sessions().end_other_sessions(Actor::Web(&caller)).await.map(|ended| match ended {
        0 => "you had no other session".to_string(),
        1 => "signed out of 1 other session".to_string(),
        n => format!("signed out of {n} other sessions"),
    });
    back_to("/account", result)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewPassword {
    current: String,
    new: String,
    confirm: String,
}

async fn change_password(State(state): State<AppState>, CsrfForm { caller, form }: CsrfForm<NewPassword>) -> Response {
    if form.new != form.confirm {
        return back_to("/account", Err(app::error::AppError::Invalid("the two new passwords differ".into())));
    }
    let result = state
        .domain
        .sessions()
        .change_password(Actor::Web(&caller), Password::new(form.current), Password::new(form.new))
        .await
        .map(|ended| format!("password changed; {ended} other session(s) ended"));
    back_to("/account", result)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OwnPassword {
    password: String,
}

async fn start_second_factor(
    State(state): State<AppState>,
    CsrfForm { caller, form }: CsrfForm<OwnPassword>,
) -> Response {
    let result = state
        .domain
        .sessions()
        .start_second_factor(Actor::Web(&caller), Password::new(form.password))
        .await
        .map(|()| "add the key below to your authenticator app, then enter its code".to_string());
    back_to("/account#second-factor", result)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Code {
    code: String,
}

async fn confirm_second_factor(State(state): State<AppState>, CsrfForm { caller, form }: CsrfForm<Code>) -> Response {
    let result = state
        .domain
        .sessions()
        .confirm_second_factor(Actor::Web(&caller), &form.code)
        .await
        .map(|()| "second factor on: sign-in asks for a code from now on".to_string());
    back_to("/account#second-factor", result)
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
        .map(|n| format!("ended {n} session(s) of {name}"));
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
