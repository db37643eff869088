//! Log integrity, for staff and regulators: the latest signed checkpoint, the verifier key and its
//! fingerprint, and a form to check that the log still extends a checkpoint kept from before.

use crate::api::{log_integrity, whoami};
use crate::components::layout::{ErrorPanel, Flash, Loading, Page};
use crate::components::time::Time;
use crate::model::LogOverview;
use leptos::prelude::*;

#[component]
pub fn LogPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| async move { (log_integrity().await, whoami().await) });
    view! {
        <Page title="Log integrity">
            <main class="content narrow">
                <h1>"Log integrity"</h1>
                <p class="muted">
                    "Every access is an entry in an append-only Merkle tree (RFC 6962). The server signs its head as a checkpoint; keep one, and later check that the log still extends it."
                </p>
                <p class="muted">
                    "For your own tools: the API's "<a href="/api/v1/openapi.json" id="openapi-link">"OpenAPI 3.1 description"</a>
                    "; review records as a verifiable bundle on "<a href="/exports">"Exports"</a>"."
                </p>
                <Flash/>
                <Suspense fallback=Loading>
                    {move || Suspend::new(async move {
                        match data.await {
                            (Ok(overview), Ok(Some(me))) => view! { <Overview overview csrf=me.csrf_token/> }.into_any(),
                            (Err(error), _) | (_, Err(error)) => view! { <ErrorPanel error/> }.into_any(),
                            _ => view! { <ErrorPanel error=crate::error::AppError::Unauthorized/> }.into_any(),
                        }
                    })}
                </Suspense>
            </main>
        </Page>
    }
}

#[component]
fn Overview(overview: LogOverview, csrf: String) -> impl IntoView {
    view! {
        <section class="panel">
            <h2>"Latest checkpoint"</h2>
            <p>
                {overview.size} " entries · root " <code class="hash">{overview.root_hex.clone()}</code>
            </p>
            <pre class="leaf checkpoint">{overview.checkpoint.clone()}</pre>
            <p><a href="/api/v1/log/checkpoint?latest=1" download="clearroom.checkpoint">"Download this checkpoint"</a></p>
        </section>
        {(!overview.witnesses.is_empty()).then(|| view! { <Witnesses overview=overview.clone()/> })}
        <section class="panel">
            <h2>"Verifier key"</h2>
            <pre class="leaf">{overview.verifier_key.clone()}</pre>
            <p>"Fingerprint " <code>{overview.fingerprint.clone()}</code></p>
            <p class="muted">
                "Compare the fingerprint with the one the centre gave you out of band. Verify offline with "
                <code>"server verify log --key KEYFILE --checkpoint OLD --url URL"</code> "."
            </p>
        </section>
        <section class="panel">
            <h2>"Check an older checkpoint"</h2>
            <form method="post" action="/log/check" class="stack">
                <input type="hidden" name="csrf" value=csrf/>
                <label>
                    "Paste a checkpoint you kept"
                    <textarea name="checkpoint" rows="7" required spellcheck="false" class="mono"></textarea>
                </label>
                <div><button type="submit" class="button primary">"Check consistency"</button></div>
            </form>
        </section>
    }
}

/// The witnesses of the trust policy: what each last cosigned, and whether the quorum is met.
#[component]
fn Witnesses(overview: LogOverview) -> impl IntoView {
    let lagging = overview.quorum_lagging_ms.filter(|ms| *ms >= 10 * 60_000);
    view! {
        <section class="panel" aria-label="Witnesses">
            <h2>"Witnesses"</h2>
            {match (overview.quorum_met, lagging) {
                (_, Some(ms)) => view! {
                    <p class="notice notice-error" role="alert">
                        {format!("A checkpoint has waited {} minutes without reaching the witnesses' quorum: the log may be showing different histories to different people, or witnesses are down.", ms / 60_000)}
                    </p>
                }.into_any(),
                (Some(true), _) => view! { <p class="notice notice-ok" role="status">"The latest checkpoint meets the witnesses' quorum."</p> }.into_any(),
                _ => view! { <p class="notice notice-info" role="status">"The latest checkpoint is waiting for the witnesses' quorum."</p> }.into_any(),
            }}
            <table class="grid">
                <thead><tr><th>"Witness"</th><th>"Last cosigned size"</th><th>"Cosigned"</th><th>"Last problem"</th></tr></thead>
                <tbody>
                    {overview.witnesses.into_iter().map(|w| view! {
                        <tr>
                            <td><span class="strong">{w.name.clone()}</span><div class="muted small">{w.url.clone().unwrap_or_default()}</div></td>
                            <td>{w.cosigned_size.map(|s| s.to_string()).unwrap_or_else(|| "—".into())}</td>
                            <td>{w.cosigned_at_ms.map(|ms| view! { <Time ms/> })}</td>
                            <td>{w.last_error.clone().unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p><a href="/api/v1/log/checkpoint" download="clearroom.cosigned.checkpoint">"Download the newest cosigned checkpoint"</a></p>
        </section>
    }
}
