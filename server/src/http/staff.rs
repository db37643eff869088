//! Form posts from the staff console and the log-integrity page. Each checks the anti-forgery
//! token, calls the domain (which checks the role and records any event), and redirects back with
//! a message.

use super::forms::{back_to, optional, ticked, Confirm, Reason};
use super::AppState;
use crate::auth::Password;
use crate::domain::Actor;
use crate::http::extract::{CsrfForm, PinPath};
use app::error::AppError;
use app::model::{PinId, Role};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", post(create_user))
        .route("/admin/repositories", post(import_repository))
        .route("/admin/repositories/{name}/fetch", post(fetch_repository))
        .route("/admin/pins", post(create_pin))
        .route("/admin/grants", post(create_grant))
        .route("/admin/grants/{id}/revoke", post(revoke_grant))
        .route("/admin/grants/{id}/extend", post(extend_grant))
        .route("/admin/jobs/{id}/cancel", post(cancel_job))
        .route("/admin/pins/{pin}/withdraw", post(withdraw_pin))
        .route("/admin/pins/{pin}/policy", post(pin_policy))
        .route("/log/check", post(check_checkpoint))
}

fn back(result: Result<String, AppError>) -> Response {
    back_to("/admin", result)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewUser {
    username: String,
    role: String,
    password: String,
}

async fn create_user(State(state): State<AppState>, CsrfForm { caller, form }: CsrfForm<NewUser>) -> Response {
    let result = async {
        let role = Role::parse(&form.role)?;
        let password = Some(&form.password).filter(|p| !p.is_empty()).map(|p| Password::new(p.clone()));
        let (_, generated) =
            state.domain.admin().create_user(Actor::Web(&caller), &form.username, role, password).await?;
        Ok::<_, AppError>((role, generated))
    }
    .await;
    match result {
        // A generated password is shown once in this response's body, never in a redirect's URL
        // (where it would stay in the history and leak in Referer).
        Ok((role, Some(password))) => super::secret_page(
            "Account created",
            &format!("Created {} ({}). Their password, shown only now:", form.username, role.as_str()),
            password.expose(),
            "/admin",
        ),
        Ok((role, None)) => back(Ok(format!("created {} ({})", form.username, role.as_str()))),
        Err(error) => back(Err(error)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Import {
    name: String,
    source: String,
}

async fn import_repository(State(state): State<AppState>, CsrfForm { caller, form }: CsrfForm<Import>) -> Response {
    let name = form.name.trim();
    let result = state
        .domain
        .admin()
        .request_import(Actor::Web(&caller), name, form.source.trim())
        .await
        .map(|_| format!("importing {name} in the background; it can be pinned when done"));
    back(result)
}

async fn fetch_repository(
    State(state): State<AppState>,
    Path(name): Path<String>,
    CsrfForm { caller, form: Confirm {} }: CsrfForm<Confirm>,
) -> Response {
    let result =
        state.domain.search().fetch_repository(Actor::Web(&caller), &name).await.map(|moved| match moved.len() {
            0 => format!("fetched {name}: already up to date"),
            n => format!(
                "fetched {name}: {n} ref(s) moved ({})",
                moved.iter().map(|(r, _, _)| r.as_str()).collect::<Vec<_>>().join(", ")
            ),
        });
    back(result)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewPin {
    repository: String,
    commit: String,
    label: String,
}

async fn create_pin(State(state): State<AppState>, CsrfForm { caller, form }: CsrfForm<NewPin>) -> Response {
    let result = state
        .domain
        .admin()
        .create_pin(Actor::Web(&caller), &form.repository, &form.commit, &form.label)
        .await
        .map(|pin| format!("pinned as #{pin}"));
    back(result)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewGrant {
    username: String,
    /// The pins chosen in a multiple select: one `pin` field each.
    pin: Vec<String>,
    from: String,
    until: String,
}

async fn create_grant(State(state): State<AppState>, CsrfForm { caller, form }: CsrfForm<NewGrant>) -> Response {
    let result = async {
        let pins = form.pin.iter().map(|p| PinId::parse(p)).collect::<Result<Vec<_>, _>>()?;
        let from = app::times::parse(&form.from)?;
        let until = app::times::parse(&form.until)?;
        let ids = state.domain.access().grant(Actor::Web(&caller), &form.username, &pins, from, until).await?;
        Ok(format!("granted {} pin(s) to {}", ids.len(), form.username))
    }
    .await;
    back(result)
}

fn number(id: &str, what: &str) -> Result<i64, AppError> {
    id.parse().map_err(|_| AppError::Invalid(format!("a {what} id is a number")))
}

async fn revoke_grant(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { caller, form }: CsrfForm<Reason>,
) -> Response {
    let result = async {
        let id = number(&id, "grant")?;
        state.domain.access().revoke_grant(Actor::Web(&caller), id, optional(&form.reason)).await?;
        Ok(format!("revoked grant {id}"))
    }
    .await;
    back(result)
}

async fn cancel_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { caller, form: Confirm {} }: CsrfForm<Confirm>,
) -> Response {
    let result = async {
        let id = number(&id, "job")?;
        state.domain.jobs().cancel_job(Actor::Web(&caller), id).await?;
        Ok(format!("cancelled job {id}"))
    }
    .await;
    back(result)
}

async fn withdraw_pin(
    State(state): State<AppState>,
    PinPath(pin): PinPath,
    CsrfForm { caller, form }: CsrfForm<Reason>,
) -> Response {
    let result = async {
        state.domain.admin().withdraw_pin(Actor::Web(&caller), pin, optional(&form.reason)).await?;
        Ok(format!("withdrew pin {pin}: only staff read it now"))
    }
    .await;
    back(result)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Policy {
    no_download: String,
    no_copy: String,
}

async fn pin_policy(
    State(state): State<AppState>,
    PinPath(pin): PinPath,
    CsrfForm { caller, form }: CsrfForm<Policy>,
) -> Response {
    let (no_download, no_copy) = (ticked(&form.no_download), ticked(&form.no_copy));
    let result = async {
        state.domain.admin().set_pin_policy(Actor::Web(&caller), pin, no_download, no_copy).await?;
        let said = |off: bool, what: &str| format!("{what} {}", if off { "off" } else { "on" });
        Ok(format!("pin {pin}: {}, {}", said(no_download, "downloads"), said(no_copy, "copying")))
    }
    .await;
    back(result)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Until {
    until: String,
}

async fn extend_grant(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { caller, form }: CsrfForm<Until>,
) -> Response {
    let result = async {
        let id = number(&id, "grant")?;
        let until = app::times::parse(&form.until)?;
        state.domain.access().extend_grant(Actor::Web(&caller), id, until).await?;
        Ok(format!("grant {id} now ends at {}", app::times::utc_text(until)))
    }
    .await;
    back(result)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OldCheckpoint {
    checkpoint: String,
}

/// A regulator pastes an old checkpoint; the answer says whether the log still extends it.
async fn check_checkpoint(
    State(state): State<AppState>,
    CsrfForm { caller, form }: CsrfForm<OldCheckpoint>,
) -> Response {
    back_to("/log", state.domain.log().check_old_checkpoint(Actor::Web(&caller), &form.checkpoint).await)
}
