//! A pin's builds: each artifact with every builder's record and whether they agree (a mismatch
//! shown loudly), the attestations to download, and for staff the forms to record a build (by
//! hash, or by uploading the file) and to issue the review summary.

use crate::api::load_builds;
use crate::components::islands::ArtifactUpload;
use crate::components::layout::{ErrorPanel, Flash, Loading, Page};
use crate::components::time::Time;
use crate::model::{ArtifactBuilds, ArtifactCompiled, BuildView, BuildsPage, Mismatch, PinId, Reproducibility};
use crate::routes::compiled::CompiledSummary;
use crate::routes::room::{MismatchReport, RoomPanel};
use crate::routes::tree::PinBar;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn BuildsPage() -> impl IntoView {
    let params = use_params_map();
    let page = Resource::new(move || params.read().get("pin").unwrap_or_default(), load_builds);
    view! {
        <Page title="Builds">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <BuildsBody page/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

/// The status badge of an artifact: quiet for one builder, green when reproduced, loud on mismatch.
#[component]
pub fn ReproducibilityBadge(status: Reproducibility) -> impl IntoView {
    let class = match status {
        Reproducibility::Single => "badge",
        Reproducibility::Reproduced(_) => "badge badge-ok",
        Reproducibility::Mismatch => "badge badge-mismatch",
    };
    view! { <span class=class>{status.label()}</span> }
}

fn size_text(size: Option<u64>) -> String {
    match size {
        None => "—".into(),
        Some(bytes) if bytes >= 1 << 20 => format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64),
        Some(bytes) => format!("{bytes} bytes"),
    }
}

#[component]
fn BuildRow(record: BuildView) -> impl IntoView {
    view! {
        <tr id=format!("build-{}", record.id)>
            <td>
                <div class="strong">{record.recorded_by.clone()}</div>
                {(!record.builder.is_empty()).then(|| view! { <div class="muted small">{format!("labelled {}", record.builder)}</div> })}
            </td>
            <td><code class="hash">{record.sha256.clone()}</code></td>
            <td>{size_text(record.size)}{record.uploaded.then(|| view! { <span class="badge">"kept"</span> })}</td>
            <td class="small">
                {(!record.command.is_empty()).then(|| view! { <div><code>{record.command.clone()}</code></div> })}
                {(!record.toolchain.is_empty()).then(|| view! { <div class="muted">{record.toolchain.clone()}</div> })}
                {(!record.notes.is_empty()).then(|| view! { <div class="muted">{record.notes.clone()}</div> })}
            </td>
            <td class="small">
                {record.finished_at_ms.or(record.started_at_ms).map(|ms| view! { <div>"built " <Time ms/></div> })}
                <div class="muted">"recorded " <Time ms=record.recorded_at_ms/></div>
            </td>
            <td>
                <a href=format!("/api/v1/attestations/{}", record.sha256) class="small">"envelopes"</a>
            </td>
        </tr>
    }
}

/// Who built an artifact: the accounts that agree, or each hash's accounts when they do not.
fn built_by(artifact: &ArtifactBuilds) -> String {
    match artifact.accounts.as_slice() {
        [(_, accounts)] => format!("Built by {}", accounts.join(", ")),
        sides => sides
            .iter()
            .map(|(sha, accounts)| {
                format!("{} built {}…", accounts.join(", "), sha.chars().take(12).collect::<String>())
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

#[component]
fn Artifact(
    artifact: ArtifactBuilds,
    pin: PinId,
    report: Option<Mismatch>,
    compiled: Vec<ArtifactCompiled>,
) -> impl IntoView {
    let mismatch = artifact.status == Reproducibility::Mismatch;
    let by = built_by(&artifact);
    let title = if artifact.platform.is_empty() {
        artifact.name.clone()
    } else {
        format!("{} ({})", artifact.name, artifact.platform)
    };
    let label = title.clone();
    view! {
        <section class="panel artifact" class:artifact-mismatch=mismatch aria-label=label>
            <h2>{title}<ReproducibilityBadge status=artifact.status/></h2>
            <p class="muted">{by}</p>
            {mismatch.then(|| view! {
                <p class="notice notice-error" role="alert">
                    "Builders recorded different SHA-256 hashes for this artifact. At most one of them is what this commit builds to; do not ship or approve it until the difference is explained."
                </p>
            })}
            {report.map(|mismatch| view! { <MismatchReport pin mismatch/> })}
            <table class="grid builds">
                <thead><tr><th>"Builder"</th><th>"SHA-256"</th><th>"Size"</th><th>"How"</th><th>"When"</th><th>"Attestations"</th></tr></thead>
                <tbody>{artifact.builds.into_iter().map(|build| view! { <BuildRow record=build/> }).collect_view()}</tbody>
            </table>
            {
                let several = compiled.len() > 1;
                compiled.into_iter().map(|map| view! { <CompiledSummary map pin=pin.get() several/> }).collect_view()
            }
        </section>
    }
}

#[component]
fn BuildsBody(page: BuildsPage) -> impl IntoView {
    let pin = page.pin.id;
    let empty = page.artifacts.is_empty();
    let mismatches = page.room.mismatches.clone();
    let staff = page.can_record.then(|| {
        let csrf = page.csrf_token.clone();
        view! {
            <section class="panel" aria-label="Record a build">
                <h2>"Record a build"</h2>
                <p class="muted">"Upload the artifact (hashed as it arrives and kept under its SHA-256), or give its hash alone. Records are never edited; each issues a signed SLSA provenance statement and is an entry in the audit log."</p>
                <ArtifactUpload pin=pin.to_string() csrf=csrf.clone()/>
                <form method="post" action=format!("/pins/{pin}/builds") class="row-form">
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <label>"Artifact name" <input name="name" required maxlength="200"/></label>
                    <label>"Platform" <input name="platform" maxlength="100" placeholder="linux/amd64"/></label>
                    <label>"SHA-256" <input name="sha256" required pattern="[0-9a-fA-F]{64}" size="40"/></label>
                    <label>"Builder label" <input name="builder" maxlength="200" placeholder="a note: you are the builder"/></label>
                    <label>"Command" <input name="command" maxlength="1000"/></label>
                    <button type="submit" class="button">"Record by hash"</button>
                </form>
                <form method="post" action=format!("/pins/{pin}/review-summary") class="inline">
                    <input type="hidden" name="csrf" value=csrf/>
                    <button type="submit" class="button" disabled=empty>"Issue the review summary now"</button>
                    <span class="muted small">" A signed statement of the verdicts, coverage and open findings, bound to every artifact above."</span>
                </form>
            </section>
        }
    });
    view! {
        <PinBar pin=page.pin.clone() current="builds"/>
        <main class="content narrow">
            <Flash/>
            <header class="page-header">
                <h1>"Builds"</h1>
                <p class="muted">
                    {format!("Artifacts built from commit {}. Equal hashes from independent builders mean the build is reproducible.", page.pin.commit_id)}
                </p>
                <p>
                    <a href=format!("/pins/{pin}/attestations.intoto.jsonl") download="">"Download every attestation (.intoto.jsonl)"</a>
                    " · "
                    <a href="/api/v1/keys">"Public keys"</a>
                    " · "
                    <a href="/verify">"Verify a file"</a>
                </p>
            </header>
            {if empty {
                view! { <div class="empty"><h2>"No builds recorded"</h2><p>"No builder has recorded an artifact of this commit yet."</p></div> }.into_any()
            } else {
                page.artifacts.into_iter().map(|artifact| {
                    let report = mismatches.iter().find(|m| m.name == artifact.name && m.platform == artifact.platform).cloned();
                    let compiled = page.compiled.iter().filter(|m| artifact.builds.iter().any(|b| b.sha256 == m.sha256)).cloned().collect();
                    view! { <Artifact artifact pin report compiled/> }
                }).collect_view().into_any()
            }}
            {(!page.review_statements.is_empty()).then(|| view! {
                <section class="panel" aria-label="Review summaries">
                    <h2>"Review summaries issued"</h2>
                    <ul class="plain">
                        {page.review_statements.iter().map(|(ms, sha)| view! {
                            <li><Time ms=*ms/>" "<code class="hash">{sha.clone()}</code></li>
                        }).collect_view()}
                    </ul>
                </section>
            })}
            <RoomPanel pin section=page.room csrf=page.csrf_token.clone()/>
            {staff}
        </main>
    }
}
