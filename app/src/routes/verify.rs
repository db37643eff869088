//! Verify a file: its SHA-256 is computed in the browser (the file never leaves the machine), or
//! pasted; the page then shows what the server recorded for that hash — the pin and commit it was
//! built from, whether builders agree, the review, and the attestations.

use crate::api::lookup_artifact;
use crate::components::islands::FileHasher;
use crate::components::layout::{ErrorPanel, Loading, Page};
use crate::components::time::Time;
use crate::html::percent;
use crate::model::{ArtifactLookup, ArtifactOrigin};
use crate::routes::builds::ReproducibilityBadge;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn VerifyPage() -> impl IntoView {
    let query = use_query_map();
    let sha = move || query.read().get("sha256").unwrap_or_default();
    let lookup = Resource::new(sha, lookup_artifact);
    view! {
        <Page title="Verify a file">
            <main class="content narrow">
                <header class="page-header">
                    <h1>"Verify a file"</h1>
                    <p class="muted">"Choose a binary: its SHA-256 is computed here, in your browser; the file is not uploaded. Or paste a SHA-256."</p>
                </header>
                <form method="get" action="/verify" class="row-form" id="verify-form">
                    <FileHasher/>
                    <label>"SHA-256" <input id="verify-sha256" class="hash-input" name="sha256" value=sha pattern="[0-9a-fA-F]{64}" required/></label>
                    <button type="submit" class="button primary">"Look up"</button>
                </form>
                <Suspense fallback=Loading>
                    {move || Suspend::new(async move {
                        match lookup.await {
                            Ok(Some(found)) => view! { <LookupResult found/> }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </main>
        </Page>
    }
}

#[component]
fn LookupResult(found: ArtifactLookup) -> impl IntoView {
    if found.origins.is_empty() {
        return view! {
            <section class="notice notice-error" role="alert" id="verify-result">
                <h2>"Not a recorded build"</h2>
                <p>{format!("No pin records an artifact with SHA-256 {}. It was not built from any reviewed commit this centre knows of.", found.sha256)}</p>
            </section>
        }
        .into_any();
    }
    view! {
        <section id="verify-result">
            <p class="notice notice-ok" role="status">{format!("SHA-256 {} is a recorded build.", found.sha256)}</p>
            {found.origins.into_iter().map(|origin| view! { <Origin origin sha=found.sha256.clone()/> }).collect_view()}
        </section>
    }
    .into_any()
}

#[component]
fn Origin(origin: ArtifactOrigin, sha: String) -> impl IntoView {
    let pin = origin.pin.id;
    let findings: Vec<String> =
        origin.open_findings.iter().filter(|(_, n)| *n > 0).map(|(s, n)| format!("{n} {}", s.as_str())).collect();
    view! {
        <article class="panel artifact" class:artifact-mismatch=origin.status == crate::model::Reproducibility::Mismatch>
            <h2>{origin.name.clone()}{(!origin.platform.is_empty()).then(|| format!(" ({})", origin.platform))}<ReproducibilityBadge status=origin.status/></h2>
            <dl class="facts">
                <dt>"Built from"</dt>
                <dd><a href=format!("/pins/{pin}/builds")>{origin.pin.label.clone()}</a>" · "{origin.pin.repository.clone()}</dd>
                <dt>"Commit"</dt><dd><code class="commit">{origin.pin.commit_id.clone()}</code></dd>
                <dt>"Builders with this hash"</dt><dd>{origin.builders.join(", ")}</dd>
                <dt>"Built in the room"</dt>
                <dd>{if origin.room_reproduced {
                    "yes: the centre's own build of this commit gave exactly this file"
                } else {
                    "no: the centre's own build has not given this file"
                }}</dd>
                <dt>"Verdicts"</dt>
                <dd>
                    {if origin.verdicts.is_empty() {
                        view! { <span class="muted">"none yet"</span> }.into_any()
                    } else {
                        origin.verdicts.iter().map(|v| view! {
                            <div><span class="strong">{v.reviewer.clone()}</span>" "
                            <span class=format!("badge verdict-badge verdict-{}", v.verdict.as_str())>{v.verdict.label()}</span>" "<Time ms=v.given_at_ms/></div>
                        }).collect_view().into_any()
                    }}
                </dd>
                <dt>"Coverage"</dt>
                <dd>{format!(
                    "{} of {} lines shown to a reviewer ({}); {} of {} files marked reviewed",
                    origin.shown.lines, origin.total.lines, percent(origin.shown.lines, origin.total.lines),
                    origin.reviewed.files, origin.total.files
                )}</dd>
                <dt>"Open findings"</dt>
                <dd>{if findings.is_empty() { "none".to_string() } else { findings.join(", ") }}</dd>
                <dt>"Attestations"</dt>
                <dd>
                    {format!("{} · ", crate::html::counted(origin.envelopes.len() as u64, "envelope", "envelopes"))}
                    <a href=format!("/api/v1/attestations/{sha}")>"download"</a>
                    " · "<a href="/api/v1/keys">"keys"</a>
                </dd>
            </dl>
        </article>
    }
}
