//! Exports for regulators and staff: choose a scope (pins, a reviewer, a time range, the last
//! checkpoint you hold), see an estimate, start; each export runs in the background with a
//! progress bar and is then downloadable by the person who asked for it, for a while.

use crate::api::{estimate_export, export_overview, whoami};
use crate::components::islands::ExportProgress;
use crate::components::layout::{ErrorPanel, Flash, Loading, Page};
use crate::components::time::Time;
use crate::model::{ExportRequest, ExportStatus, ExportsPage, Role};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.0} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

#[component]
pub fn ExportsRoute() -> impl IntoView {
    let query = use_query_map();
    let request = move || {
        let q = query.read();
        ExportRequest {
            pins: q.get_all("pins").unwrap_or_default().iter().filter_map(|p| p.parse().ok()).collect(),
            reviewer: q.get("reviewer").filter(|r| !r.is_empty()),
            from: q.get("from").filter(|t| !t.is_empty()),
            until: q.get("until").filter(|t| !t.is_empty()),
            previous_checkpoint: None,
        }
    };
    let wants_estimate = move || query.read().get("estimate").is_some();
    let data = Resource::new(|| (), |_| async move { (export_overview().await, whoami().await) });
    let estimate = Resource::new(
        move || (wants_estimate(), request()),
        |(wanted, request)| async move {
            if wanted {
                estimate_export(request).await
            } else {
                Ok(None)
            }
        },
    );
    view! {
        <Page title="Exports">
            <main class="content">
                <header class="page-header">
                    <h1>"Exports"</h1>
                    <p class="muted">"A bundle of review records — events with their proofs, the signed checkpoint, attestations, findings (SARIF), comments, verdicts, grants, sessions, coverage and a printable report — that verifies offline with "<code>"server verify bundle"</code>"."</p>
                </header>
                <Flash/>
                <Suspense fallback=Loading>
                    {move || Suspend::new(async move {
                        match data.await {
                            (Ok(page), Ok(Some(me))) if matches!(me.role, Role::Staff | Role::Regulator) => {
                                view! { <Exports page csrf=me.csrf_token request=request() estimate/> }.into_any()
                            }
                            (Err(error), _) | (_, Err(error)) => view! { <ErrorPanel error/> }.into_any(),
                            _ => view! { <ErrorPanel error=crate::error::AppError::Forbidden("only staff and regulators may export review records".into())/> }.into_any(),
                        }
                    })}
                </Suspense>
            </main>
        </Page>
    }
}

#[component]
fn Exports(
    page: ExportsPage,
    csrf: String,
    request: ExportRequest,
    estimate: Resource<Result<Option<crate::model::ExportEstimate>, crate::error::AppError>>,
) -> impl IntoView {
    let pin_options = page
        .pins
        .iter()
        .map(|(id, label)| {
            let selected = request.pins.contains(id);
            view! { <option value=id.to_string() selected=selected>{format!("{id} · {label}")}</option> }
        })
        .collect_view();
    let reviewer_options = page
        .reviewers
        .iter()
        .map(|name| {
            let selected = request.reviewer.as_deref() == Some(name.as_str());
            view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
        })
        .collect_view();
    let empty = page.exports.is_empty();
    let rows = page.exports.into_iter().map(|export| view! { <ExportRow export/> }).collect_view();
    view! {
        <section class="panel">
            <h2>"New export"</h2>
            <form method="post" action="/exports" class="stack-form" id="export-form">
                <input type="hidden" name="csrf" value=csrf/>
                <div class="row-form">
                    <label>"Pins (none chosen: every pin)"
                        <select name="pins" multiple size="4">{pin_options}</select>
                    </label>
                    <label>"Reviewer (blank: everyone)"
                        <select name="reviewer">
                            <option value="">"everyone"</option>
                            {reviewer_options}
                        </select>
                    </label>
                    <label>"From (UTC)" <input type="datetime-local" name="from" value=request.from.clone().unwrap_or_default()/></label>
                    <label>"Until (UTC)" <input type="datetime-local" name="until" value=request.until.clone().unwrap_or_default()/></label>
                </div>
                <label class="wide">"The last checkpoint you hold (optional): the bundle then proves the log extends it"
                    <textarea name="previous_checkpoint" rows="4" spellcheck="false" placeholder="origin\nsize\nroot\n\n— signature"></textarea>
                </label>
                <div class="actions">
                    <button type="submit" class="button" formaction="/exports/estimate">"Estimate"</button>
                    <button type="submit" class="button primary">"Start export"</button>
                </div>
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match estimate.await {
                        Ok(Some(found)) => view! {
                            <p class="notice" role="status" id="export-estimate">
                                {format!("About {} events; the bundle will be roughly {}.", found.events, size_text(found.bytes))}
                            </p>
                        }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section>
            <h2>"Your exports"</h2>
            <p class="muted">{format!("A finished bundle can be downloaded by the person who asked for it for {} hours; each export and each download is recorded in the audit log.", page.retention_hours)}</p>
            <table class="grid" id="exports">
                <thead><tr>
                    <th scope="col" class="num">"#"</th><th scope="col">"Scope"</th><th scope="col">"Asked by"</th><th scope="col">"Started"</th>
                    <th scope="col">"State"</th><th scope="col" class="num">"Events"</th><th scope="col" class="num">"Size"</th><th scope="col">"Bundle"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {empty.then(|| view! { <p class="muted empty-note">"Exports appear here once started."</p> })}
        </section>
    }
}

#[component]
fn ExportRow(export: ExportStatus) -> impl IntoView {
    let live = export.state == "queued" || export.state == "running";
    let state = match export.state.as_str() {
        "done" => view! {
            <span>"done"</span>
            {export.finished_at_ms.map(|ms| view! { <span class="muted">" · "<Time ms/></span> })}
        }
        .into_any(),
        "failed" => view! { <span class="error-text">{format!("failed: {}", export.message.clone().unwrap_or_default())}</span> }.into_any(),
        "expired" => view! { <span class="muted">"expired"</span> }.into_any(),
        "cancelled" => view! { <span class="muted">"cancelled"</span> }.into_any(),
        _ => view! { <ExportProgress id=export.id done=export.done total=export.total/> }.into_any(),
    };
    let bundle = match (&export.sha256, export.downloadable) {
        (Some(sha), true) => view! {
            <a class="button small" href=format!("/api/v1/exports/{}/bundle", export.id) download="">"Download"</a>
            <code class="hash" title="SHA-256 of the bundle">{sha.chars().take(16).collect::<String>()}"…"</code>
            {export.expires_at_ms.map(|ms| view! { <span class="muted">" until "<Time ms/></span> })}
        }
        .into_any(),
        (Some(sha), false) => view! { <code class="hash" title="SHA-256 of the bundle">{sha.chars().take(16).collect::<String>()}"…"</code> }.into_any(),
        _ => ().into_any(),
    };
    view! {
        <tr id=format!("export-{}", export.id) class:live=live>
            <td class="num">{export.id}</td>
            <td>{export.scope.clone()}</td>
            <td>{export.created_by.clone().unwrap_or_else(|| "operator".into())}</td>
            <td><Time ms=export.created_at_ms/></td>
            <td>{state}</td>
            <td class="num">{export.events.map(|e| e.to_string()).unwrap_or_default()}</td>
            <td class="num">{export.size.map(size_text).unwrap_or_default()}</td>
            <td>{bundle}</td>
        </tr>
    }
}
