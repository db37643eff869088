//! The public releases page, for anyone (no sign-in): each authorised release's version, commit,
//! artifacts with their reproducibility, and who authorised it; a box that hashes a file in the
//! browser (it is not uploaded) and says whether the public log names it; and how to check all of
//! it offline.

use crate::api::load_public_releases;
use crate::components::islands::FileHasher;
use crate::components::layout::{ErrorPanel, Loading, Page};
use crate::components::time::Time;
use crate::model::{PublicCheck, PublicRelease};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn PublicReleasesPage() -> impl IntoView {
    let query = use_query_map();
    let sha = move || query.read().get("sha256").unwrap_or_default();
    let page = Resource::new(sha, load_public_releases);
    view! {
        <Page title="Releases">
            <main class="content">
                <header class="page-header">
                    <h1>"Authorised releases"</h1>
                    <p class="muted">
                        "Each release here met its published policy and was co-signed by independent supervisors. "
                        "The list is an append-only public log anyone can check without an account."
                    </p>
                </header>
                <section class="panel" aria-labelledby="check-heading">
                    <h2 id="check-heading">"Check a file"</h2>
                    <p class="muted">"Choose the binary you received: its SHA-256 is computed here, in your browser; the file is not uploaded. Or paste a SHA-256."</p>
                    <form method="get" action="/releases" class="row-form" id="verify-form">
                        <FileHasher/>
                        <label>"SHA-256" <input id="verify-sha256" class="hash-input" name="sha256" value=sha pattern="[0-9a-fA-F]{64}" required/></label>
                        <button type="submit" class="button primary">"Check"</button>
                    </form>
                </section>
                <Suspense fallback=Loading>
                    {move || Suspend::new(async move {
                        match page.await {
                            Ok(page) => view! {
                                {page.checked.map(|checked| view! { <CheckResult checked/> })}
                                <ReleaseList releases=page.releases/>
                                <OfflineHelp key=page.log_key/>
                            }.into_any(),
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </main>
        </Page>
    }
}

#[component]
fn CheckResult(checked: PublicCheck) -> impl IntoView {
    if checked.releases.is_empty() {
        let other = match checked.other_entries {
            0 => String::new(),
            n => format!(" ({n} other statement(s) in the public log name it, none an authorised release.)"),
        };
        return view! {
            <p class="notice notice-error" role="status" id="check-result">
                {format!("No authorised release contains a file with SHA-256 {}.{other}", checked.sha256)}
            </p>
        }
        .into_any();
    }
    view! {
        <div class="notice notice-ok" role="status" id="check-result">
            <p>{format!("SHA-256 {} is part of an authorised release:", checked.sha256)}</p>
            <ul>
                {checked.releases.into_iter().map(|(index, version, repository, entry)| view! {
                    <li>
                        {format!("{repository} {version} (public log entry {index}) — ")}
                        <a href=format!("/bt/statement/{entry}") download="">"transparent statement"</a>
                    </li>
                }).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

#[component]
fn ReleaseList(releases: Vec<PublicRelease>) -> impl IntoView {
    if releases.is_empty() {
        return view! { <p class="muted">"No release has been authorised yet."</p> }.into_any();
    }
    view! {
        <ol class="release-list">
            {releases.into_iter().map(|release| view! { <ReleaseItem release/> }).collect_view()}
        </ol>
    }
    .into_any()
}

#[component]
fn ReleaseItem(release: PublicRelease) -> impl IntoView {
    let signed = release.signers.len();
    let short = |text: &str| text.chars().take(12).collect::<String>();
    view! {
        <li class="panel release">
            <h2>{format!("{} {}", release.repository, release.version)}</h2>
            <dl class="facts">
                <dt>"Commit"</dt><dd><code>{release.commit.clone()}</code></dd>
                <dt>"Authorised"</dt><dd><Time ms=release.authorised_at_ms/></dd>
                <dt>"Supervisors"</dt>
                <dd>{format!("{signed} signature(s), {} needed, of {}", release.quorum, release.supervisors.join(", "))}</dd>
                <dt>"Policy"</dt><dd><code title=release.policy_sha256.clone()>{short(&release.policy_sha256)}</code></dd>
                <dt>"Public log entry"</dt>
                <dd>
                    {release.index.to_string()} " · "
                    <a href=format!("/bt/statement/{}", release.entry_id) download="">"transparent statement"</a>
                </dd>
            </dl>
            <table class="grid release-artifacts">
                <thead><tr><th scope="col">"Artifact"</th><th scope="col">"Platform"</th><th scope="col">"SHA-256"</th><th scope="col">"Reproduced by"</th></tr></thead>
                <tbody>
                    {release.artifacts.into_iter().map(|a| view! {
                        <tr>
                            <td>{a.name}</td>
                            <td>{a.platform}</td>
                            <td><code class="hash">{a.sha256}</code></td>
                            <td>{format!("{} builder(s){}", a.builders, if a.room { ", one the room" } else { "" })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </li>
    }
}

#[component]
fn OfflineHelp(key: String) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="offline-heading">
            <h2 id="offline-heading">"Check it yourself"</h2>
            <p>"The public log is served as C2SP tlog-tiles at " <code>"/bt/checkpoint"</code> " and " <code>"/bt/tile/…"</code>
               ", and as a SCITT Transparency Service (" <code>"/entries/{id}"</code> ", " <code>"/.well-known/scitt-keys"</code> "). Its key:"</p>
            <pre class="key-line"><code>{key}</code></pre>
            <p>"With the supervisors' public keys, " <code>"server verify release FILE --bt-key KEY --supervisor-key K …"</code>
               " checks a file against it offline."</p>
        </section>
    }
}
