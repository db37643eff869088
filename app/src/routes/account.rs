//! One's own account: the sessions signed in (where from, since when, last seen), signing out
//! everywhere else, and changing the password (which also ends every other session).

use crate::api::{my_account, whoami};
use crate::components::layout::{kept_form, ErrorPanel, Flash, FormOutcome, Loading, Page};
use crate::components::time::Time;
use crate::model::AccountPage;
use leptos::prelude::*;

#[component]
pub fn AccountRoute() -> impl IntoView {
    let data = Resource::new(|| (), |_| async move { (my_account().await, whoami().await) });
    view! {
        <Page title="Your account">
            <main class="content narrow">
                <header class="page-header">
                    <h1>"Your account"</h1>
                </header>
                <Flash/>
                <Suspense fallback=Loading>
                    {move || Suspend::new(async move {
                        match data.await {
                            (Ok(page), Ok(Some(me))) => view! { <Account page csrf=me.csrf_token/> }.into_any(),
                            (Err(error), _) | (_, Err(error)) => view! { <ErrorPanel error/> }.into_any(),
                            (_, Ok(None)) => view! { <ErrorPanel error=crate::error::AppError::Unauthorized/> }.into_any(),
                        }
                    })}
                </Suspense>
            </main>
        </Page>
    }
}

#[component]
fn Account(page: AccountPage, csrf: String) -> impl IntoView {
    let others = page.sessions.iter().filter(|s| !s.current).count();
    let rows = page
        .sessions
        .into_iter()
        .map(|s| {
            let end = (!s.current).then(|| {
                view! {
                    <form method="post" action=format!("/account/sessions/{}/end", s.fingerprint) class="inline">
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <button type="submit" class="button small" aria-label=format!("End session {}", s.fingerprint)>"End"</button>
                    </form>
                }
            });
            let agent = if s.agent.is_empty() { "unknown browser".to_string() } else { s.agent.clone() };
            view! {
                <tr>
                    <td><code>{s.fingerprint.clone()}</code>{s.current.then(|| view! { " " <span class="badge">"this browser"</span> })}</td>
                    <td>{agent}</td>
                    <td>{s.client}</td>
                    <td><Time ms=s.started_at_ms/></td>
                    <td><Time ms=s.last_seen_at_ms/></td>
                    <td>{end}</td>
                </tr>
            }
        })
        .collect_view();
    let csrf_again = csrf.clone();
    let csrf_factor = csrf.clone();
    // A form's outcome is shown next to it; a refused one puts the focus back in its first field.
    let factor_kept = kept_form("second-factor");
    let factor_refused = factor_kept.as_ref().is_some_and(|k| k.refused);
    let password_kept = kept_form("password");
    let password_refused = password_kept.as_ref().is_some_and(|k| k.refused);
    let described = |refused: bool, id: &'static str| refused.then_some(id);
    let second_factor = if page.second_factor {
        view! {
            <FormOutcome id="second-factor-outcome" kept=factor_kept.clone()/>
            <p>"On: sign-in asks for a code from your authenticator app. If you lose the device, staff can remove it."</p>
        }
        .into_any()
    } else if let Some((secret, uri)) = page.second_factor_setup.clone() {
        view! {
            <p>"Scan the code with your authenticator app (or type the key in), then enter the code it shows."</p>
            {page.second_factor_qr_svg.clone().map(|svg| view! {
                <figure class="qr" role="img" aria-label="QR code of the setup link below" inner_html=svg></figure>
            })}
            <p><code class="secret">{secret}</code></p>
            <p class="muted path">{uri}</p>
            <FormOutcome id="second-factor-outcome" kept=factor_kept.clone()/>
            <form method="post" action="/account/second-factor/confirm" class="row-form">
                <input type="hidden" name="csrf" value=csrf_factor/>
                <label>"Code" <input
                    name="code"
                    inputmode="numeric"
                    autocomplete="one-time-code"
                    required
                    pattern="[0-9 ]{6,7}"
                    maxlength="7"
                    autofocus=factor_refused
                    aria-invalid=described(factor_refused, "true")
                    aria-describedby=described(factor_refused, "second-factor-outcome")
                /></label>
                <button type="submit" class="button primary">"Turn on"</button>
            </form>
        }
        .into_any()
    } else {
        view! {
            <p>"Off. With it on, sign-in also asks for a code from an authenticator app (TOTP)."</p>
            <FormOutcome id="second-factor-outcome" kept=factor_kept.clone()/>
            <form method="post" action="/account/second-factor/start" class="row-form">
                <input type="hidden" name="csrf" value=csrf_factor/>
                <label>"Your password" <input
                    type="password"
                    name="password"
                    autocomplete="current-password"
                    required
                    autofocus=factor_refused
                    aria-invalid=described(factor_refused, "true")
                    aria-describedby=described(factor_refused, "second-factor-outcome")
                /></label>
                <button type="submit" class="button">"Set up a second factor"</button>
            </form>
        }
        .into_any()
    };
    view! {
        <section class="panel" id="sessions">
            <h2>"Sessions"</h2>
            <FormOutcome id="sessions-outcome" kept=kept_form("sessions")/>
            <p class="muted">{format!("Signed in as {} ({}).", page.username, page.role.as_str())}" Each session ends after 30 idle minutes or 12 hours, whichever is first; the fingerprint is what the audit log records."</p>
            <table class="grid">
                <thead><tr><th scope="col">"Session"</th><th scope="col">"Browser"</th><th scope="col">"From"</th><th scope="col">"Signed in"</th><th scope="col">"Last seen"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <form method="post" action="/account/sessions/end-others" class="row-form">
                <input type="hidden" name="csrf" value=csrf/>
                <button type="submit" class="button" disabled=others == 0>"Sign out everywhere else"</button>
            </form>
        </section>
        <section class="panel" id="second-factor">
            <h2>"Second factor"</h2>
            {second_factor}
        </section>
        <section class="panel" id="password">
            <h2>"Change password"</h2>
            <p class="muted">"At least 12 characters; a few unrelated words make a good one. Common passwords are refused. Your other sessions end when it changes."</p>
            <FormOutcome id="password-outcome" kept=password_kept/>
            <form method="post" action="/account/password" class="stack-form">
                <input type="hidden" name="csrf" value=csrf_again/>
                <label>"Current password" <input
                    name="current"
                    type="password"
                    required
                    autocomplete="current-password"
                    autofocus=password_refused
                    aria-invalid=described(password_refused, "true")
                    aria-describedby=described(password_refused, "password-outcome")
                /></label>
                <label>"New password" <input name="new" type="password" required minlength="12" maxlength="1024" autocomplete="new-password"/></label>
                <label>"New password again" <input name="confirm" type="password" required minlength="12" maxlength="1024" autocomplete="new-password"/></label>
                <button type="submit" class="button primary">"Change password"</button>
            </form>
        </section>
    }
}
