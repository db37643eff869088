//! The plain form posts of a pin's releases page: staff propose a release, a supervisor records
//! the signature or objection file they made offline. Each goes back to the page with its outcome
//! beside the form, a refused form filled in again as it was sent.

use super::extract::{CsrfForm, PinPath};
use super::forms::keep_form;
use super::session_state::TypedSession;
use super::AppState;
use crate::domain::Actor;
use app::error::AppError;
use app::model::{NewRelease, ReleaseArtifact, ReleaseState, ReleaseView};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/pins/{pin}/releases", post(propose)).route("/pins/{pin}/releases/{id}/decision", post(decide))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProposeForm {
    version: String,
    /// Each ticked recorded artifact, as `NAME:PLATFORM:SHA256`.
    artifact: Vec<String>,
    /// More artifacts, one `NAME:PLATFORM:SHA256` per line.
    more: String,
}

/// The artifacts ticked and typed, in that order.
fn artifacts(form: &ProposeForm) -> Result<Vec<ReleaseArtifact>, AppError> {
    let typed = form.more.lines().filter(|line| !line.trim().is_empty());
    form.artifact
        .iter()
        .map(String::as_str)
        .chain(typed)
        .map(|spec| ReleaseArtifact::parse_spec(spec).map_err(|e| AppError::Invalid(format!("an artifact {e}"))))
        .collect()
}

/// How a release stands, in a sentence.
fn outcome(view: &ReleaseView) -> String {
    let unmet: Vec<&str> = view.rules.iter().filter(|r| !r.met).map(|r| r.rule.as_str()).collect();
    let state = match view.state {
        ReleaseState::Authorised => "authorised".to_string(),
        ReleaseState::Objected => "objected to".to_string(),
        _ if unmet.is_empty() => "met every rule".to_string(),
        _ => format!("waiting for {}", unmet.join(", ")),
    };
    format!("release {} ({}) {state}", view.id, view.version)
}

async fn propose(
    State(state): State<AppState>,
    PinPath(pin): PinPath,
    session: tower_sessions::Session,
    CsrfForm { caller, form }: CsrfForm<ProposeForm>,
) -> Response {
    let result = async {
        let release = NewRelease { version: form.version.trim().to_string(), artifacts: artifacts(&form)? };
        let view = state.domain.releases().propose(Actor::Web(&caller), pin, &release).await?;
        Ok(format!("proposed: {}", outcome(&view)))
    }
    .await;
    let mut fields = vec![("version", form.version.as_str()), ("more", form.more.as_str())];
    fields.extend(form.artifact.iter().map(|spec| ("artifact", spec.as_str())));
    keep_form(TypedSession(session), &format!("/pins/{pin}/releases"), "propose", result, fields).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DecisionForm {
    /// The file `server supervisor sign` or `object` wrote, pasted.
    decision: String,
}

async fn decide(
    State(state): State<AppState>,
    PinPath(pin): PinPath,
    Path((_, id)): Path<(String, String)>,
    session: tower_sessions::Session,
    CsrfForm { caller, form }: CsrfForm<DecisionForm>,
) -> Response {
    let place = format!("release-{id}");
    let result = async {
        let id = super::releases_api::release_id(&id).map_err(|e| e.0)?;
        let releases = state.domain.releases();
        if releases.release(Actor::Web(&caller), id).await?.pin_id != pin.get() {
            return Err(AppError::NotFound("there is no such release at this pin".into()));
        }
        let view = releases.decide(Actor::Web(&caller), id, None, form.decision.trim()).await?;
        Ok(format!("your decision is recorded: {}", outcome(&view)))
    }
    .await;
    let fields = vec![("decision", form.decision.as_str())];
    keep_form(TypedSession(session), &format!("/pins/{pin}/releases"), &place, result, fields).await
}
