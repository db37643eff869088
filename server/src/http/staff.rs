//! Form posts from the staff console and the log-integrity page. Each checks the anti-forgery
//! token, calls the domain (which checks the role and records any event), and redirects back with
//! a message.

use super::forms::{back_to, keep_form, optional, ticked, Confirm, Reason};
use super::session_state::TypedSession;
use super::AppState;
use crate::auth::Password;
use crate::domain::Actor;
use crate::http::extract::{CsrfForm, PinPath};
use crate::store::pins::PolicyChange;
use app::error::AppError;
use app::model::{HistoryPolicy, PinId, Role};
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
        .route("/admin/tokens", post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
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
                "fetched {name}: {} moved ({})",
                app::html::counted(n as u64, "ref", "refs"),
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
    /// Blank: now.
    from: String,
    /// Blank when a `length` is chosen.
    until: String,
    /// `8h`, `1d` or `1w` from the start, instead of an end.
    length: String,
    /// Path patterns the grant is limited to, one a line (blank: the whole tree).
    paths: String,
}

/// How long a grant of a preset length lasts, in ms.
fn preset_length(length: &str) -> Result<Option<i64>, AppError> {
    const HOUR: i64 = 3_600_000;
    match length {
        "" => Ok(None),
        "8h" => Ok(Some(8 * HOUR)),
        "1d" => Ok(Some(24 * HOUR)),
        "1w" => Ok(Some(7 * 24 * HOUR)),
        _ => Err(AppError::Invalid("a grant's length is 8h, 1d or 1w".into())),
    }
}

async fn create_grant(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    CsrfForm { caller, form }: CsrfForm<NewGrant>,
) -> Response {
    let result = async {
        let pins = form.pin.iter().map(|p| PinId::parse(p)).collect::<Result<Vec<_>, _>>()?;
        let from = match optional(&form.from) {
            Some(text) => app::times::parse(text)?,
            None => state.domain.now_ms(),
        };
        let until = match (optional(&form.until), preset_length(form.length.trim())?) {
            (Some(_), Some(_)) => return Err(AppError::Invalid("give an end or a length, not both".into())),
            (Some(text), None) => app::times::parse(text)?,
            (None, Some(length)) => from + length,
            (None, None) => return Err(AppError::Invalid("give the grant an end, or a length".into())),
        };
        let paths: Vec<String> = form.paths.lines().map(str::to_string).collect();
        let ids = state
            .domain
            .access()
            .grant_paths(Actor::Web(&caller), &form.username, &pins, (from, until), &paths)
            .await?;
        let pins = if ids.len() == 1 { "1 pin".to_string() } else { format!("{} pins", ids.len()) };
        Ok(format!("granted {pins} to {} until {}", form.username, app::times::utc_text(until)))
    }
    .await;
    // The form comes back as it was filled in, the reason beside it.
    let mut fields = vec![
        ("username", form.username.as_str()),
        ("from", form.from.as_str()),
        ("until", form.until.as_str()),
        ("length", form.length.as_str()),
        ("paths", form.paths.as_str()),
    ];
    fields.extend(form.pin.iter().map(|pin| ("pin", pin.as_str())));
    keep_form(TypedSession(session), "/admin", "grants", result, fields).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewToken {
    username: String,
    label: String,
    /// The scopes ticked: one `scope` field each.
    scope: Vec<String>,
    days: String,
}

/// Creates an API token and shows it once, in this response's body (never in a URL).
async fn create_token(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    CsrfForm { caller, form }: CsrfForm<NewToken>,
) -> Response {
    let result = async {
        let scopes = form.scope.iter().map(|s| app::model::Scope::parse(s)).collect::<Result<Vec<_>, _>>()?;
        let days = optional(&form.days).unwrap_or("90");
        let days = days.parse().map_err(|_| AppError::Invalid("a token lives 1 to 366 days".into()))?;
        let request = crate::domain::TokenRequest { scopes: &scopes, days, label: &form.label };
        state.domain.access().create_token(Actor::Web(&caller), form.username.trim(), request).await
    }
    .await;
    match result {
        Ok(token) => super::secret_page(
            "API token created",
            &format!("A token for {}. Send it as \"Authorization: Bearer …\"; shown only now:", form.username.trim()),
            &token,
            "/admin#tokens",
        ),
        Err(error) => {
            let mut fields = vec![
                ("username", form.username.as_str()),
                ("label", form.label.as_str()),
                ("days", form.days.as_str()),
            ];
            fields.extend(form.scope.iter().map(|scope| ("scope", scope.as_str())));
            keep_form(TypedSession(session), "/admin", "tokens", Err(error), fields).await
        }
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    session: tower_sessions::Session,
    CsrfForm { caller, form: Confirm {} }: CsrfForm<Confirm>,
) -> Response {
    let result = async {
        let id = number(&id, "token")?;
        state.domain.access().revoke_token(Actor::Web(&caller), id).await?;
        Ok(format!("revoked token {id}: it works nowhere from now on"))
    }
    .await;
    keep_form(TypedSession(session), "/admin", "tokens", result, Vec::new()).await
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
    /// Absent from an older page's form: the history policy is then kept.
    history: String,
}

async fn pin_policy(
    State(state): State<AppState>,
    PinPath(pin): PinPath,
    CsrfForm { caller, form }: CsrfForm<Policy>,
) -> Response {
    let (no_download, no_copy) = (ticked(&form.no_download), ticked(&form.no_copy));
    let result = async {
        let history = match form.history.trim() {
            "" => None,
            text => Some(HistoryPolicy::parse(text)?),
        };
        let change = PolicyChange { no_download: Some(no_download), no_copy: Some(no_copy), history };
        state.domain.admin().set_pin_policy(Actor::Web(&caller), pin, change).await?;
        let said = |off: bool, what: &str| format!("{what} {}", if off { "off" } else { "on" });
        let history = history.map(|h| format!(", history {}", h.as_str())).unwrap_or_default();
        Ok(format!("pin {pin}: {}, {}{history}", said(no_download, "downloads"), said(no_copy, "copying")))
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
