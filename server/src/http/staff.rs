//! Form posts from the staff console and the log-integrity page. Each checks the anti-forgery
//! token, calls the domain (which checks the role and records any event), and redirects back with
//! a message.

use super::session::csrf_matches;
use super::{error_page, AppState};
use crate::auth::Password;
use crate::domain::Actor;
use app::error::AppError;
use app::model::{Caller, PinId, Role};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", post(create_user))
        .route("/admin/repositories", post(import_repository))
        .route("/admin/pins", post(create_pin))
        .route("/admin/grants", post(create_grant))
        .route("/admin/grants/{id}/revoke", post(revoke_grant))
        .route("/log/check", post(check_checkpoint))
}

/// A urlencoded form body; repeated keys (a multiple select) keep every value.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn parse(body: &Bytes) -> Fields {
        Fields(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    fn get(&self, key: &str) -> &str {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    fn all(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }
}

fn back(result: Result<String, AppError>) -> Response {
    back_to("/admin", result)
}

fn back_to(page: &str, result: Result<String, AppError>) -> Response {
    let (key, message) = match result {
        Ok(done) => ("done", done),
        Err(error) => ("error", error.to_string()),
    };
    let query = form_urlencoded::Serializer::new(String::new()).append_pair(key, &message).finish();
    Redirect::to(&format!("{page}?{query}")).into_response()
}

fn check(caller: &Caller, fields: &Fields) -> Option<Response> {
    (!csrf_matches(caller, fields.get("csrf")))
        .then(|| error_page(StatusCode::FORBIDDEN, "Form expired", "Reload the page and try again."))
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
        Ok(match generated {
            Some(password) => format!(
                "created {} ({}); the password, shown only now: {}",
                fields.get("username"),
                role.as_str(),
                password.expose()
            ),
            None => format!("created {} ({})", fields.get("username"), role.as_str()),
        })
    }
    .await;
    back(result)
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
        .import_repository(Actor::Web(&caller), &name, fields.get("source").trim())
        .await
        .map(|_| format!("imported {name}"));
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
        state.domain.revoke_grant(Actor::Web(&caller), id).await?;
        Ok(format!("revoked grant {id}"))
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
