//! Parts of the staff console: the confirmation a destructive action asks for, the grant form
//! (with lengths to pick instead of an end) and the API tokens.

use crate::components::layout::{kept_form, FormOutcome};
use crate::components::time::Time;
use crate::html::counted;
use crate::model::{AdminOverview, Role, Scope, TokenSummary};
use leptos::prelude::*;

/// An action that cannot be taken back in one click: its button only opens a box that says what
/// it will do (`consequence`), with an optional reason for the log and the button that does it.
/// Plain HTML (`<details>`), so it works without JavaScript.
#[component]
pub fn Confirm(
    /// What the closed button says (`Disable…`).
    label: &'static str,
    /// What the confirming button says (`Disable alice`).
    #[prop(into)]
    confirm: String,
    #[prop(into)] consequence: String,
    #[prop(into)] action: String,
    csrf: String,
    /// Whether to ask for a reason (recorded in the log).
    #[prop(optional)]
    reason: bool,
    /// Whether the action takes something away (a red button).
    #[prop(optional)]
    danger: bool,
) -> impl IntoView {
    let class = if danger { "button small danger" } else { "button small" };
    view! {
        <details class="confirm">
            <summary class=class>{label}</summary>
            <form method="post" action=action class="confirm-box">
                <input type="hidden" name="csrf" value=csrf/>
                <p>{consequence}</p>
                {reason.then(|| view! {
                    <label class="inline-label">"Reason " <input name="reason" type="text" maxlength="500" placeholder="recorded in the log"/></label>
                })}
                <button type="submit" class=class>{confirm}</button>
            </form>
        </details>
    }
}

/// What disabling an account ends, in words.
pub fn disable_consequence(username: &str, live_sessions: u64, live_tokens: u64) -> String {
    format!(
        "{username} will not be able to sign in. This ends {} now and revokes {}. Their grants and records stay.",
        counted(live_sessions, "live session", "live sessions"),
        counted(live_tokens, "live API token", "live API tokens"),
    )
}

/// The form that grants reviewers pins: from now (or a given start) for a length to pick, or to a
/// given end. Times are UTC, as every time on these pages is. A refused grant comes back filled in.
#[component]
pub fn GrantForm(overview: AdminOverview, csrf: String) -> impl IntoView {
    let kept = kept_form("grants");
    let refused = kept.as_ref().filter(|k| k.refused).cloned().unwrap_or_default();
    let reviewers = overview
        .users
        .iter()
        .filter(|u| u.role == Role::Reviewer && u.disabled_at_ms.is_none())
        .map(|u| {
            let chosen = refused.field("username") == u.username;
            view! { <option value=u.username.clone() selected=chosen>{u.username.clone()}</option> }
        })
        .collect_view();
    let pins = overview
        .pins
        .iter()
        .filter(|p| !p.withdrawn)
        .map(|p| {
            let value = p.id.get().to_string();
            let chosen = refused.has("pin", &value);
            view! { <option value=value selected=chosen>{format!("#{} {} ({})", p.id, p.label, p.repository)}</option> }
        })
        .collect_view();
    let length = refused.field("length").to_string();
    let lengths = [("", "to the end given"), ("8h", "8 hours"), ("1d", "1 day"), ("1w", "1 week")]
        .into_iter()
        .map(|(value, text)| view! { <option value=value selected=length == value>{text}</option> })
        .collect_view();
    view! {
        <FormOutcome id="grants-outcome" kept=kept.clone()/>
        <form method="post" action="/admin/grants" class="row-form grant-form">
            <input type="hidden" name="csrf" value=csrf/>
            <label>"Reviewer" <select name="username" required>{reviewers}</select></label>
            <label>"Pins" <select name="pin" multiple required size="3">{pins}</select></label>
            <label>"From (UTC; blank: now)" <input name="from" type="datetime-local" value=refused.field("from").to_string()/></label>
            <label>"For" <select name="length">{lengths}</select></label>
            <label>"Until (UTC)" <input name="until" type="datetime-local" value=refused.field("until").to_string()/></label>
            <label>"Only these paths (one pattern a line, as in .gitignore; blank: all)"
                <textarea name="paths" rows="2" placeholder="crypto/**\n!crypto/test/**">{refused.field("paths").to_string()}</textarea>
            </label>
            <button type="submit" class="button primary">"Grant access"</button>
        </form>
    }
}

/// API tokens: who holds which, for what, until when; a new one (shown once), revoking one.
#[component]
pub fn TokensPanel(overview: AdminOverview, csrf: String) -> impl IntoView {
    let kept = kept_form("tokens");
    let refused = kept.as_ref().filter(|k| k.refused).cloned().unwrap_or_default();
    let holders = overview
        .users
        .iter()
        .filter(|u| u.disabled_at_ms.is_none())
        .map(|u| {
            let chosen = refused.field("username") == u.username;
            view! { <option value=u.username.clone() selected=chosen>{format!("{} ({})", u.username, u.role.as_str())}</option> }
        })
        .collect_view();
    let scopes = Scope::ALL
        .into_iter()
        .map(|scope| {
            let roles: Vec<&str> =
                Role::ALL.into_iter().filter(|r| scope.fits(*r)).map(Role::as_str).collect();
            view! {
                <label class="check" title=format!("for {} accounts", roles.join(", "))>
                    <input type="checkbox" name="scope" value=scope.as_str() checked=refused.has("scope", scope.as_str())/>
                    " "{scope.as_str()}
                </label>
            }
        })
        .collect_view();
    let days = Some(refused.field("days")).filter(|d| !d.is_empty()).unwrap_or("90").to_string();
    let rows = overview.tokens.iter().map(|t| token_row(t, &csrf)).collect_view();
    view! {
        <section class="panel" id="tokens">
            <h2>"API tokens"</h2>
            <p class="muted">"For scripts and build machines: a token reads no source, and does only what its scopes and its account's role allow. It is shown once when made."</p>
            <FormOutcome id="tokens-outcome" kept=kept.clone()/>
            <form method="post" action="/admin/tokens" class="row-form token-form">
                <input type="hidden" name="csrf" value=csrf.clone()/>
                <label>"Account" <select name="username" required>{holders}</select></label>
                <label>"What it is for" <input name="label" maxlength="100" placeholder="release pipeline" value=refused.field("label").to_string()/></label>
                <fieldset class="scopes"><legend>"Scopes"</legend>{scopes}</fieldset>
                <label>"Days" <input name="days" type="number" min="1" max="366" required value=days/></label>
                <button type="submit" class="button primary">"Create token"</button>
            </form>
            <table class="grid">
                <thead><tr><th scope="col">"#"</th><th scope="col">"Account"</th><th scope="col">"For"</th><th scope="col">"Scopes"</th><th scope="col">"Made"</th><th scope="col">"Expires"</th><th scope="col">"State"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

fn token_row(token: &TokenSummary, csrf: &str) -> impl IntoView {
    let state = match (token.live, token.revoked_at_ms) {
        (true, _) => view! {
            <Confirm
                label="Revoke…"
                confirm=format!("Revoke token {}", token.id)
                consequence=format!("Every request with this token is refused from now on, on every instance. {} keeps any other token.", token.username)
                action=format!("/admin/tokens/{}/revoke", token.id)
                csrf=csrf.to_string()
                danger=true
            />
        }
        .into_any(),
        (false, Some(ms)) => view! { <span class="badge badge-revoked">"revoked "<Time ms/></span> }.into_any(),
        (false, None) => view! { <span class="muted">"expired"</span> }.into_any(),
    };
    let scopes = token.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
    view! {
        <tr data-token=token.id.to_string()>
            <td class="num">{token.id}</td>
            <td>{token.username.clone()}</td>
            <td>{token.label.clone()}</td>
            <td><code>{scopes}</code></td>
            <td><Time ms=token.created_at_ms/></td>
            <td><Time ms=token.expires_at_ms/></td>
            <td>{state}</td>
        </tr>
    }
}
