//! A pin's coverage: per reviewer (staff and regulators see each; a reviewer sees their own) and
//! for everyone together, in files and lines, a treemap picture drawn on the server, and the
//! directory table that says the same in text.

use crate::api::load_coverage;
use crate::components::layout::{ErrorPanel, Loading, Page};
use crate::html::{percent, thousands};
use crate::model::{Amount, CoveragePage, ReviewerCoverage};
use crate::routes::tree::PinBar;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

fn figures(amount: Amount, total: Amount) -> String {
    format!(
        "{} of {} files ({}) · {} of {} lines ({})",
        thousands(amount.files),
        thousands(total.files),
        percent(amount.files, total.files),
        thousands(amount.lines),
        thousands(total.lines),
        percent(amount.lines, total.lines)
    )
}

#[component]
pub fn CoveragePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key =
        move || (params.read().get("pin").unwrap_or_default(), query.read().get("reviewer").filter(|r| !r.is_empty()));
    let page = Resource::new(key, |(pin, reviewer)| load_coverage(pin, reviewer));
    view! {
        <Page title="Coverage">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <CoverageBody page/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn ReviewerRow(coverage: ReviewerCoverage, total: Amount, pin: String, selected: bool) -> impl IntoView {
    let href = format!("/pins/{pin}/coverage?reviewer={}", coverage.username);
    view! {
        <tr class:selected-row=selected>
            <td><a href=href>{coverage.username.clone()}</a></td>
            <td>{figures(coverage.shown, total)}</td>
            <td>{figures(coverage.reviewed, total)}</td>
            <td>{figures(coverage.carried, total)}</td>
        </tr>
    }
}

#[component]
fn CoverageBody(page: CoveragePage) -> impl IntoView {
    let pin = page.pin.id.to_string();
    let total = page.report.total;
    let report = page.report;
    let progress = report.index_progress.map(|(done, total)| {
        view! {
            <div class="notice notice-info" role="status">
                "The pin's files are still being indexed; figures are partial. "
                <progress max=total.max(1).to_string() value=done.to_string()>{format!("{done} of {total}")}</progress>
            </div>
        }
    });
    let whose = page.selected.clone().unwrap_or_else(|| "all reviewers together".into());
    let rows = report
        .reviewers
        .iter()
        .cloned()
        .map(|coverage| {
            let selected = page.selected.as_deref() == Some(coverage.username.as_str());
            view! { <ReviewerRow coverage total pin=pin.clone() selected/> }
        })
        .collect_view();
    view! {
        <PinBar pin=page.pin.clone() current="coverage"/>
        <main class="content">
            <h1>{format!("Coverage of {}", page.pin.label)}</h1>
            {progress}
            <p class="muted">
                {format!("{} files, {} lines. ", thousands(total.files), thousands(total.lines))}
                "Shown: what the audit log says was shown to the reviewer. Reviewed: marked reviewed here. "
                "Carried: identical to a file the reviewer marked reviewed at an earlier pin."
            </p>
            <table class="grid">
                <caption class="visually-hidden">"Coverage by reviewer"</caption>
                <thead><tr><th scope="col">"Reviewer"</th><th scope="col">"Shown"</th><th scope="col">"Reviewed"</th><th scope="col">"Carried"</th></tr></thead>
                <tbody>
                    {rows}
                    <tr class:selected-row=page.selected.is_none()>
                        <td><a href=format!("/pins/{pin}/coverage")>"Everyone together"</a></td>
                        <td>{figures(report.combined.shown, total)}</td>
                        <td>{figures(report.combined.reviewed, total)}</td>
                        <td>{figures(report.combined.carried, total)}</td>
                    </tr>
                </tbody>
            </table>
            <section class="panel treemap-panel" aria-label="Coverage picture">
                <h2>{format!("Picture: {whose}")}</h2>
                <ul class="legend">
                    <li><span class="swatch tm-reviewed"></span>"reviewed"</li>
                    <li><span class="swatch tm-carried"></span>"carried"</li>
                    <li><span class="swatch tm-shown"></span>"shown"</li>
                    <li><span class="swatch tm-none"></span>"not yet seen"</li>
                </ul>
                <p class="muted">"Each rectangle is a file, its area its lines. Hover to name it; click to open it."</p>
                <div class="treemap-frame" inner_html=page.svg></div>
            </section>
            <section class="panel" aria-label="Coverage by directory">
                <h2>"By directory"</h2>
                <table class="grid">
                    <thead><tr><th scope="col">"Directory"</th><th scope="col">"Files"</th><th scope="col">"Lines"</th><th scope="col">"Shown"</th><th scope="col">"Reviewed or carried"</th></tr></thead>
                    <tbody>
                        {page.directories.into_iter().map(|dir| {
                            let name = if dir.path.is_empty() { "(whole pin)".to_string() } else { format!("{}/", dir.path) };
                            view! {
                                <tr>
                                    <td class="path">{name}</td>
                                    <td class="num">{thousands(dir.total.files)}</td>
                                    <td class="num">{thousands(dir.total.lines)}</td>
                                    <td class="num">{percent(dir.shown.lines, dir.total.lines)}</td>
                                    <td class="num">{percent(dir.reviewed.lines, dir.total.lines)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        </main>
    }
}
