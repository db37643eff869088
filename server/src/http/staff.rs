//! Form posts from the staff console and the log-integrity page. Each checks the anti-forgery
//! token, calls the domain (which checks the role and records any event), and redirects back with
//! a message.

use super::forms::{back_to, check, Fields};
use super::AppState;
use crate::auth::Password;
use crate::domain::Actor;
use crate::http::extract::PinPath;
use app::error::AppError;
use app::model::{Caller, PinId, Role};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};

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

async fn create_user(State(state): State<AppState>, Extension(caller): Extension<Caller>, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = async {
        let role = Role::parse(fields.get("role"))?;
        let password = Some(fields.get("password")).filter(|p| !p.is_empty()).map(|p| Password::new(p.to_string()));
        let (_, generated) =
            state.domain.create_user(Actor::Web(&caller), fields.get("username"), role, password).await?;
        Ok::<_, AppError>((role, generated))
    }
    .await;
    match result {
        // A generated password is shown once in this response's body, never in a redirect's URL
        // (where it would stay in the history and leak in Referer).
        Ok((role, Some(password))) => super::secret_page(
            "Account created",
            &format!("Created {} ({}). Their password, shown only now:", fields.get("username"), role.as_str()),
            password.expose(),
            "/admin",
        ),
        Ok((role, None)) => back(Ok(format!("created {} ({})", fields.get("username"), role.as_str()))),
        Err(error) => back(Err(error)),
    }
}

async fn import_repository(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let name = fields.get("name").trim().to_string();
    let result = state
        .domain
        .request_import(Actor::Web(&caller), &name, fields.get("source").trim())
        .await
        .map(|_| format!("importing {name} in the background; it can be pinned when done"));
    back(result)
}

async fn fetch_repository(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = state.domain.fetch_repository(Actor::Web(&caller), &name).await.map(|moved| match moved.len() {
        0 => format!("fetched {name}: already up to date"),
        n => format!(
            "fetched {name}: {n} ref(s) moved ({})",
            moved.iter().map(|(r, _, _)| r.as_str()).collect::<Vec<_>>().join(", ")
        ),
    });
    back(result)
}

async fn create_pin(State(state): State<AppState>, Extension(caller): Extension<Caller>, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = state
        .domain
        .create_pin(Actor::Web(&caller), fields.get("repository"), fields.get("commit"), fields.get("label"))
        .await
        .map(|pin| format!("pinned as #{pin}"));
    back(result)
}

async fn create_grant(State(state): State<AppState>, Extension(caller): Extension<Caller>, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = async {
        let pins = fields.all("pin").into_iter().map(PinId::parse).collect::<Result<Vec<_>, _>>()?;
        let from = app::times::parse(fields.get("from"))?;
        let until = app::times::parse(fields.get("until"))?;
        let ids = state.domain.grant(Actor::Web(&caller), fields.get("username"), &pins, from, until).await?;
        Ok(format!("granted {} pin(s) to {}", ids.len(), fields.get("username")))
    }
    .await;
    back(result)
}

async fn revoke_grant(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = async {
        let id: i64 = id.parse().map_err(|_| AppError::Invalid("a grant id is a number".into()))?;
        state.domain.revoke_grant(Actor::Web(&caller), id, fields.optional("reason")).await?;
        Ok(format!("revoked grant {id}"))
    }
    .await;
    back(result)
}

async fn cancel_job(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = async {
        let id: i64 = id.parse().map_err(|_| AppError::Invalid("a job id is a number".into()))?;
        state.domain.cancel_job(Actor::Web(&caller), id).await?;
        Ok(format!("cancelled job {id}"))
    }
    .await;
    back(result)
}

async fn withdraw_pin(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = async {
        state.domain.withdraw_pin(Actor::Web(&caller), pin, fields.optional("reason")).await?;
        Ok(format!("withdrew pin {pin}: only staff read it now"))
    }
    .await;
    back(result)
}

async fn pin_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let (no_download, no_copy) = (fields.get("no_download") == "on", fields.get("no_copy") == "on");
    let result = async {
        state.domain.set_pin_policy(Actor::Web(&caller), pin, no_download, no_copy).await?;
        let said = |off: bool, what: &str| format!("{what} {}", if off { "off" } else { "on" });
        Ok(format!("pin {pin}: {}, {}", said(no_download, "downloads"), said(no_copy, "copying")))
    }
    .await;
    back(result)
}

async fn extend_grant(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = async {
        let id: i64 = id.parse().map_err(|_| AppError::Invalid("a grant id is a number".into()))?;
        let until = app::times::parse(fields.get("until"))?;
        state.domain.extend_grant(Actor::Web(&caller), id, until).await?;
        Ok(format!("grant {id} now ends at {}", app::times::utc_text(until)))
    }
    .await;
    back(result)
}

/// A regulator pastes an old checkpoint; the answer says whether the log still extends it.
async fn check_checkpoint(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    back_to("/log", state.domain.check_old_checkpoint(&caller, fields.get("checkpoint")).await)
}
