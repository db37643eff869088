//! Comparing two pins: choosing the other pin, the changed files grouped by directory (filtered,
//! paged, never silently cut), and one file's diff, unified or side by side.

use crate::api::{list_pins, load_compare};
use crate::components::islands::LazyDiffs;
use crate::components::layout::{ErrorPanel, Loading, Page, Watermark};
use crate::model::{ChangeStatus, ChangedFileView, CompareFilter, CompareView, RepoPath};
use crate::routes::tree::PinBar;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// `/pins/{pin}/compare`: the pins of the same repository this one can be compared with.
#[component]
pub fn CompareChooser() -> impl IntoView {
    view! { <PairChooser kind="compare"/> }
}

/// The pins of the same repository as this one, each pair older → newer, for a comparison
/// (`kind` "compare") or the history between them ("history").
#[component]
pub fn PairChooser(kind: &'static str) -> impl IntoView {
    let params = use_params_map();
    let pin = move || params.read().get("pin").unwrap_or_default();
    let pins = Resource::new(|| (), |_| list_pins());
    let title = if kind == "history" { "History" } else { "Compare" };
    view! {
        <Page title=title>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    let current = pin();
                    match pins.await {
                        Ok(pins) => {
                            let Some(this) = pins.iter().find(|p| p.id.to_string() == current).cloned() else {
                                return view! { <main class="content"><ErrorPanel error=crate::error::AppError::NotFound("there is no such pin, or you have no access to it".into())/></main> }.into_any();
                            };
                            let others: Vec<_> = pins.into_iter().filter(|p| p.repository == this.repository && p.id != this.id).collect();
                            let heading = if kind == "history" {
                                format!("History of {}: the commits from or to another release", this.label)
                            } else {
                                format!("Compare {} with another release", this.label)
                            };
                            view! {
                                <PinBar pin=this.clone() current=kind/>
                                <main class="content narrow">
                                    <h1>{heading}</h1>
                                    {if others.is_empty() {
                                        view! { <div class="empty"><h2>"No other pin of this repository"</h2><p>"Staff pin the next release of the same repository to compare them."</p></div> }.into_any()
                                    } else {
                                        view! {
                                            <ul class="choice-list">
                                                {others.into_iter().map(|other| {
                                                    // Older by commit time (then by when pinned): what came before what.
                                                    let order = |p: &crate::model::PinSummary| (p.committed_at_ms.unwrap_or(p.pinned_at_ms), p.pinned_at_ms);
                                                    let (older, newer) = if order(&other) <= order(&this) { (other.clone(), this.clone()) } else { (this.clone(), other.clone()) };
                                                    view! {
                                                        <li>
                                                            <a href=format!("/pins/{}/{kind}/{}", older.id, newer.id)>{format!("{} → {}", older.label, newer.label)}</a>
                                                            <span class="muted">{format!(" {} → {}", &older.commit_id[..12.min(older.commit_id.len())], &newer.commit_id[..12.min(newer.commit_id.len())])}</span>
                                                        </li>
                                                    }
                                                }).collect_view()}
                                            </ul>
                                        }.into_any()
                                    }}
                                </main>
                            }.into_any()
                        }
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
pub fn ComparePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let p = params.read();
        let q = query.read();
        let filter = CompareFilter {
            filter: q.get("filter").filter(|f| !f.is_empty()),
            page: q.get("page").and_then(|p| p.parse().ok()),
        };
        (p.get("a").unwrap_or_default(), p.get("b").unwrap_or_default(), filter)
    };
    let view = Resource::new(key, |(a, b, filter)| load_compare(a, b, filter));
    view! {
        <Page title="Compare">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(view) => view! { <CompareBody view/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

pub fn status_badge(status: ChangeStatus) -> impl IntoView {
    view! { <span class=format!("badge change change-{}", status.as_str())>{status.label()}</span> }
}

fn diff_href(view: &CompareView, file: &ChangedFileView) -> String {
    let path = RepoPath::parse(&file.path).map(|p| p.url_encoded()).unwrap_or_default();
    let from = file
        .old_path
        .as_ref()
        .map(|old| format!("?from={}", percent_encoding::utf8_percent_encode(old, percent_encoding::NON_ALPHANUMERIC)))
        .unwrap_or_default();
    format!("/pins/{}/compare/{}/{path}{from}", view.a.id, view.b.id)
}

#[component]
fn CompareBody(view: CompareView) -> impl IntoView {
    let query = use_query_map();
    let filter_now = query.get_untracked().get("filter").unwrap_or_default();
    // Every diff of the page under its file, each loaded as it comes near (`LazyDiffs`).
    let with_diffs = query.get_untracked().get("diffs").as_deref() == Some("1");
    let (a, b) = (view.a.id, view.b.id);
    let diffs_link = {
        let mut q = query.get_untracked();
        if with_diffs {
            q.remove("diffs");
        } else {
            q.replace("diffs", "1".to_string());
        }
        format!("/pins/{a}/compare/{b}{}", q.to_query_string())
    };
    let page_link = move |page: u32| {
        let mut q = query.get_untracked();
        q.replace("page", page.to_string());
        format!("/pins/{a}/compare/{b}{}", q.to_query_string())
    };
    // The tree of changes: files grouped under their directory, in path order.
    let mut groups: Vec<(String, Vec<ChangedFileView>)> = Vec::new();
    for file in &view.files {
        let dir = file.path.rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default();
        match groups.last_mut() {
            Some((last, files)) if *last == dir => files.push(file.clone()),
            _ => groups.push((dir, vec![file.clone()])),
        }
    }
    let rows = groups
        .into_iter()
        .map(|(dir, files)| {
            let heading = if dir.is_empty() { "(top level)".to_string() } else { format!("{dir}/") };
            view! {
                <li class="change-group">
                    <div class="change-dir">{heading}</div>
                    <ul class="change-files">
                        {files.into_iter().map(|file| {
                            let href = diff_href(&view, &file);
                            let fragment = with_diffs.then(|| {
                                // Beside the diff pages' addresses, so that no path of the repository is taken.
                                let source = href.replacen(&format!("/compare/{b}/"), &format!("/diff-fragment/{b}/"), 1);
                                view! {
                                    <div class="lazy-diff" data-src=source>
                                        <a href=href.clone()>"Show this diff"</a>
                                    </div>
                                }
                            });
                            let name = file.path.rsplit('/').next().unwrap_or(&file.path).to_string();
                            let renamed = file.old_path.clone().map(|old| match file.similarity {
                                Some(similarity) => format!("from {old} ({similarity} % similar)"),
                                None => format!("from {old}"),
                            });
                            let mode = file.mode_change.clone().map(|(old, new)| format!("mode {old} → {new}"));
                            view! {
                                <li class="change-file" data-name=file.path.clone()>
                                    {status_badge(file.status)}
                                    <a href=href class="path">{name}</a>
                                    {renamed.map(|r| view! { <span class="muted">{r}</span> })}
                                    {mode.map(|m| view! { <span class="muted">{m}</span> })}
                                    <span class="spacer"></span>
                                    {if file.binary {
                                        view! { <span class="muted">"binary"</span> }.into_any()
                                    } else {
                                        view! { <span class="additions">{format!("+{}", file.additions)}</span><span class="deletions">{format!("−{}", file.deletions)}</span> }.into_any()
                                    }}
                                    {fragment}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </li>
            }
        })
        .collect_view();
    view! {
        <Watermark mark=view.watermark.clone()/>
        <PinBar pin=view.b.clone() current="compare"/>
        <main class="content">
            <h1>{format!("{} → {}", view.a.label, view.b.label)}</h1>
            {(view.a.caps.history && view.b.caps.history).then(|| view! {
                <p><a href=format!("/pins/{a}/history/{b}")>"The commits between these releases"</a></p>
            })}
            <p class="muted">
                {format!("{} files changed, ", view.total_files)}
                <span class="additions">{format!("+{}", view.total_additions)}</span>" "
                <span class="deletions">{format!("−{}", view.total_deletions)}</span>
                {format!(" lines, from commit {} to {}.", &view.a.commit_id[..12.min(view.a.commit_id.len())], &view.b.commit_id[..12.min(view.b.commit_id.len())])}
            </p>
            <form method="get" class="filters" role="search" aria-label="Filter changed files">
                <label>"Paths containing" <input type="search" name="filter" value=filter_now placeholder="src/"/></label>
                <button type="submit" class="button">"Filter"</button>
                <a class="button subtle" href=format!("/pins/{a}/compare/{b}")>"Clear"</a>
                <span class="muted">{format!("{} of {} files match; page {} of {}", view.matching, view.total_files, view.page, view.pages)}</span>
                <a class="button subtle" href=diffs_link>{if with_diffs { "List the files only" } else { "Show every diff on this page" }}</a>
            </form>
            {with_diffs.then(|| view! { <LazyDiffs/> })}
            {if view.files.is_empty() {
                view! { <div class="empty"><h2>"No changed file matches"</h2></div> }.into_any()
            } else {
                view! { <ul class="change-tree">{rows}</ul> }.into_any()
            }}
            {(view.pages > 1).then(|| view! {
                <nav class="pager" aria-label="Pages">
                    {(view.page > 1).then(|| view! { <a class="button" href=page_link(view.page - 1)>"Previous"</a> })}
                    <span class="muted">{format!("page {} of {}", view.page, view.pages)}</span>
                    {(view.page < view.pages).then(|| view! { <a class="button" href=page_link(view.page + 1)>"Next"</a> })}
                </nav>
            })}
        </main>
    }
}
