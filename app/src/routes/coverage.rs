//! A pin's coverage: per reviewer (staff and regulators see each; a reviewer sees their own) and
//! for everyone together, in files and lines, a treemap picture drawn on the server, and the
//! directory table that says the same in text.

use crate::api::load_coverage;
use crate::components::layout::{ErrorPanel, Loading, Page};
use crate::html::{percent, thousands};
use crate::model::{Amount, CompiledCoverage, CoveragePage, ReviewerCoverage};
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
    let key = move || {
        let query = query.read();
        (
            params.read().get("pin").unwrap_or_default(),
            query.get("reviewer").filter(|r| !r.is_empty()),
            query.get("compiled").filter(|c| !c.is_empty()),
        )
    };
    let page = Resource::new(key, |(pin, reviewer, compiled)| load_coverage(pin, reviewer, compiled));
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

fn lines_of(part: u64, whole: u64) -> String {
    format!("{} of {} lines ({})", thousands(part), thousands(whole), percent(part, whole))
}

/// The toggle between every file and the code compiled into one of the pin's artifacts.
#[component]
fn CompiledToggle(page: CoveragePage) -> impl IntoView {
    let pin = page.pin.id;
    let reviewer = page.selected.as_ref().map(|r| format!("reviewer={r}&")).unwrap_or_default();
    let current = page.compiled.as_ref().map(|a| a.sha256.clone());
    view! {
        <nav class="compiled-chooser compiled-toggle" aria-label="What the coverage is of">
            "Coverage of: "
            <a href=format!("/pins/{pin}/coverage?{}", reviewer.trim_end_matches('&')) class="chip" class:chip-current=current.is_none()
                aria-current=current.is_none().then_some("true")>"all files"</a>
            {page.artifacts.iter().map(|artifact| {
                let here = current.as_deref() == Some(artifact.sha256.as_str());
                view! {
                    <a href=format!("/pins/{pin}/coverage?{reviewer}compiled={}", artifact.sha256) class="chip" class:chip-current=here
                        aria-current=here.then_some("true")>{format!("compiled into {}", artifact.name)}</a>
                }
            }).collect_view()}
        </nav>
    }
}

/// Per reviewer and together: of the chosen artifact's compiled lines, those shown and those in
/// files reviewed (or carried).
#[component]
fn CompiledTable(page: CoveragePage) -> impl IntoView {
    let Some(artifact) = page.compiled.clone() else { return ().into_any() };
    let of = |figures: &[CompiledCoverage]| figures.iter().find(|c| c.sha256 == artifact.sha256).cloned();
    let combined = of(&page.report.combined.compiled);
    let lines = combined.as_ref().map_or(0, |c| c.lines);
    let row = |name: String, figures: Option<CompiledCoverage>| {
        let figures = figures.unwrap_or(CompiledCoverage {
            artifact: String::new(),
            sha256: String::new(),
            lines,
            shown: 0,
            reviewed: 0,
        });
        view! {
            <tr><td>{name}</td><td>{lines_of(figures.shown, figures.lines)}</td><td>{lines_of(figures.reviewed, figures.lines)}</td></tr>
        }
    };
    view! {
        <table class="grid compiled-coverage">
            <caption>{format!("Of the {} lines of this pin compiled into {}", thousands(lines), artifact.name)}</caption>
            <thead><tr><th scope="col">"Reviewer"</th><th scope="col">"Shown ∩ compiled"</th><th scope="col">"Reviewed ∩ compiled"</th></tr></thead>
            <tbody>
                {page.report.reviewers.iter().map(|r| row(r.username.clone(), of(&r.compiled))).collect_view()}
                {row("Everyone together".into(), combined)}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn CoverageBody(page: CoveragePage) -> impl IntoView {
    let toggle = (!page.artifacts.is_empty()).then(|| view! { <CompiledToggle page=page.clone()/> });
    let compiled_table = view! { <CompiledTable page=page.clone()/> };
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
            {toggle}
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
            {compiled_table}
            <section class="panel treemap-panel" aria-label="Coverage picture">
                <h2>{format!("Picture: {whose}")}</h2>
                <ul class="legend">
                    <li><span class="swatch tm-reviewed"></span>"reviewed"</li>
                    <li><span class="swatch tm-carried"></span>"carried"</li>
                    <li><span class="swatch tm-shown"></span>"shown"</li>
                    <li><span class="swatch tm-none"></span>"not yet seen"</li>
                </ul>
                <p class="muted">{match &page.compiled {
                    Some(artifact) => format!("Each rectangle is a file compiled into {}, its area its compiled lines. Hover to name it; click to open it.", artifact.name),
                    None => "Each rectangle is a file, its area its lines. Hover to name it; click to open it.".to_string(),
                }}</p>
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
