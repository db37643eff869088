//! Sign-in and sign-out: the login rate limit and the two routes.

use super::extract::CsrfForm;
use super::forms::Confirm;
use super::session_state::TypedSession;
use super::{error_page, AppState};
use crate::auth::{constant_time_eq, Password};
use crate::domain::Actor;
use crate::domain::SignIn;
use app::model::Caller;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Form, Router};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::Deserialize;
use std::num::NonZeroU32;
use tower_sessions::Session;

/// Sign-in attempts: 10 a minute (bursts of 5) per client address and username, and 60 a minute
/// per client address whatever the username.
pub struct LoginLimiter {
    per_account: DefaultKeyedRateLimiter<String>,
    per_client: DefaultKeyedRateLimiter<String>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        let per_minute = |n: u32, burst: u32| {
            Quota::per_minute(NonZeroU32::new(n).expect("non-zero"))
                .allow_burst(NonZeroU32::new(burst).expect("non-zero"))
        };
        LoginLimiter {
            per_account: governor::RateLimiter::keyed(per_minute(10, 5)),
            per_client: governor::RateLimiter::keyed(per_minute(60, 20)),
        }
    }
}

impl LoginLimiter {
    /// Keyed on the client and the name as the domain reads it (trimmed, lower case, at most 64
    /// characters), so that spacing or case is not a fresh bucket and a huge name is not a huge key.
    fn allow(&self, client: &str, username: &str) -> bool {
        self.per_client.check_key(&client.to_string()).is_ok()
            && self.per_account.check_key(&format!("{client}|{}", crate::auth::normalise_username(username))).is_ok()
    }

    /// Forgets buckets that are full again (run on a timer, so the maps do not grow forever).
    pub fn prune(&self) {
        self.per_account.retain_recent();
        self.per_client.retain_recent();
        self.per_account.shrink_to_fit();
        self.per_client.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.per_account.len() + self.per_client.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/login", post(login)).route("/logout", post(logout))
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    /// The second factor's code, for accounts that have one.
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

/// Only local paths are followed after sign-in, never another site.
pub fn safe_next(next: &str) -> &str {
    // A path on this site only: browsers drop tabs and line breaks from a Location, so `/\t/evil`
    // would become `//evil` (another site); no control character, blank or backslash is allowed.
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 2048
        && !next.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        && !next.starts_with("/login");
    if local {
        next
    } else {
        "/"
    }
}

/// A browser and its system in a few words, from a `User-Agent` header, for the list of a
/// person's sessions (the header is the browser's say-so: a hint, never evidence).
pub fn browser_of(agent: Option<&str>) -> String {
    let Some(agent) = agent.filter(|a| !a.trim().is_empty()) else { return "unknown browser".into() };
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("HeadlessChrome/", "Chromium (headless)"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .into_iter()
    .find(|(marker, _)| agent.contains(marker))
    .map_or("another browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(marker, _)| agent.contains(marker))
    .map(|(_, name)| name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_string(),
    }
}

async fn login(
    State(state): State<AppState>,
    Extension(origin): Extension<super::network::Origin>,
    headers: axum::http::HeaderMap,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Response {
    let client = origin.client.to_string();
    let count = |outcome: &str| {
        let labels = crate::metrics::OutcomeLabels { outcome: outcome.into() };
        crate::metrics::metrics().sign_ins.get_or_create(&labels).inc();
    };
    if !state.login_limiter.allow(&client, &form.username) {
        count("rate_limited");
        return error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts",
            "Wait a minute, then try again.",
        );
    }
    let signed_in =
        state.domain.sessions().sign_in(&client, &form.username, Password::new(form.password), &form.code).await;
    let data = match signed_in {
        Ok(SignIn::Accepted(mut data)) => {
            count("accepted");
            data.agent = browser_of(headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()));
            data
        }
        Ok(SignIn::Refused) => {
            count("refused");
            return Redirect::to("/login?error=1").into_response();
        }
        Ok(SignIn::CodeNeeded) => {
            count("code_needed");
            return Redirect::to("/login?code=1").into_response();
        }
        Ok(SignIn::SecondFactorRequired) => {
            count("second_factor_required");
            return error_page(
                StatusCode::FORBIDDEN,
                "A second factor is required",
                "Staff sign in here with a code from an authenticator app. Ask the operator to set one up for \
                 your account (server user second-factor NAME).",
            );
        }
        Ok(SignIn::Locked { until_ms }) => {
            count("locked");
            let minutes = ((until_ms - state.domain.now_ms()).max(0) + 59_999) / 60_000;
            return error_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Sign-in locked",
                &format!(
                    "Too many failed sign-ins to this account in the last hour. Try again in {minutes} minutes, \
                     or ask staff."
                ),
            );
        }
        Err(error) => return super::html_error(error),
    };
    // A new session id at sign-in, so a planted id is worth nothing.
    let session = TypedSession(session);
    let stored = async {
        session.cycle_id().await?;
        session.set(&data).await
    }
    .await;
    if let Err(error) = stored {
        return super::html_error(crate::domain::error::internal(&error));
    }
    Redirect::to(safe_next(&form.next)).into_response()
}

async fn logout(
    State(state): State<AppState>,
    session: Session,
    CsrfForm { caller, form: Confirm {} }: CsrfForm<Confirm>,
) -> Response {
    if caller.identity.is_some() {
        if let Err(error) = state.domain.sessions().record_sign_out(Actor::Web(&caller)).await {
            return super::html_error(error);
        }
    }
    let _ = TypedSession(session).end().await;
    Redirect::to("/login?signed_out=1").into_response()
}

/// Whether a submitted anti-forgery token matches the session's.
pub fn csrf_matches(caller: &Caller, submitted: &str) -> bool {
    match &caller.csrf_token {
        Some(expected) => !submitted.is_empty() && constant_time_eq(expected, submitted),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_is_named_by_its_agent_header() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(browser_of(Some(firefox)), "Firefox on Linux");
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
        assert_eq!(browser_of(Some(chrome)), "Chrome on Windows");
        let edge = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0";
        assert_eq!(browser_of(Some(edge)), "Edge on Windows");
        let safari =
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Safari/604.1";
        assert_eq!(browser_of(Some(safari)), "Safari on iOS");
        assert_eq!(browser_of(None), "unknown browser");
        assert_eq!(browser_of(Some("reqwest")), "another browser");
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/pins/1/tree"), "/pins/1/tree");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "",
            "/login?x",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/ /evil.example",
            "/\u{000b}/evil.example",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
