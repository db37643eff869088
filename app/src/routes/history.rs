//! The history behind pins, as staff let it be shown: the commits between two pins (message,
//! author, date; with the `full` policy each commit's changed files), one commit's diffs, and
//! blame at a pin.

use crate::api::{load_blame, load_history, load_history_commit};
use crate::components::layout::{ErrorPanel, Loading, Page, Watermark};
use crate::components::notices::diff_notice;
use crate::components::time::Time;
use crate::html::escape_into;
use crate::model::{BlameView, ChangedFileView, CommitDiffView, CommitView, HistoryPolicy, HistoryView};
use crate::routes::compare::{status_badge, PairChooser};
use crate::routes::diff::unified_html;
use crate::routes::tree::{Breadcrumbs, PinBar};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use std::fmt::Write as _;

fn short(id: &str) -> &str {
    &id[..12.min(id.len())]
}

/// `/pins/{pin}/history`: the other pins of the repository, each pair older → newer.
#[component]
pub fn HistoryChooser() -> impl IntoView {
    view! { <PairChooser kind="history"/> }
}

/// `/pins/{a}/history/{b}`: the first-parent commits from `a` to `b`, newest first.
#[component]
pub fn HistoryPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let p = params.read();
        (p.get("a").unwrap_or_default(), p.get("b").unwrap_or_default(), query.read().get("page"))
    };
    let view = Resource::new(key, |(a, b, page)| load_history(a, b, page));
    view! {
        <Page title="History">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(view) => view! { <HistoryBody view/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

fn file_row(file: &ChangedFileView) -> impl IntoView + use<> {
    let counts = if file.binary {
        view! { <span class="muted">"binary"</span> }.into_any()
    } else {
        view! { <span class="additions">{format!("+{}", file.additions)}</span><span class="deletions">{format!("−{}", file.deletions)}</span> }.into_any()
    };
    view! {
        <li class="change-file">
            {status_badge(file.status)}
            <span class="path">{file.path.clone()}</span>
            {file.old_path.clone().map(|old| view! { <span class="muted">{format!("from {old}")}</span> })}
            <span class="spacer"></span>
            {counts}
        </li>
    }
}

/// A commit's message below its summary line, if it has more than one line.
fn message_body(commit: &CommitView) -> Option<String> {
    let body = commit.message.split_once('\n').map(|(_, rest)| rest.trim()).unwrap_or_default();
    (!body.is_empty()).then(|| body.to_string())
}

#[component]
fn HistoryBody(view: HistoryView) -> impl IntoView {
    let (a, b) = (view.a.id, view.b.id);
    let full = view.policy == HistoryPolicy::Full;
    let commits = view
        .commits
        .iter()
        .map(|commit| {
            let body = message_body(commit);
            let files = commit.files.as_ref().map(|files| {
                view! {
                    <details class="commit-files">
                        <summary>{format!("{} changed", crate::html::counted(files.len() as u64, "file", "files"))}</summary>
                        <ul class="change-files">{files.iter().map(file_row).collect_view()}</ul>
                    </details>
                }
            });
            let id = commit.id.clone();
            view! {
                <li class="commit" id=format!("c-{}", short(&id))>
                    <div class="commit-line">
                        {if full {
                            view! { <a class="commit-summary" href=format!("/pins/{a}/history/{b}/{id}")>{commit.summary.clone()}</a> }.into_any()
                        } else {
                            view! { <span class="commit-summary">{commit.summary.clone()}</span> }.into_any()
                        }}
                        <span class="spacer"></span>
                        <code class="hash" title=id.clone()>{short(&id).to_string()}</code>
                    </div>
                    <div class="muted commit-meta">
                        {commit.author.name.clone()} " <" {commit.author.email.clone()} "> · " <Time ms=commit.author.at_ms/>
                        {(commit.parents.len() > 1).then(|| format!(" · merge of {} parents", commit.parents.len()))}
                    </div>
                    {body.map(|body| view! { <details class="commit-message"><summary>"Message"</summary><pre>{body}</pre></details> })}
                    {files}
                </li>
            }
        })
        .collect_view();
    let page_link = move |page: u32| format!("/pins/{a}/history/{b}?page={page}");
    let level = if full {
        "Each commit's changed files and diffs are shown."
    } else {
        "Commit messages are shown; staff keep the diffs of these commits back."
    };
    view! {
        <PinBar pin=view.b.clone() current="history"/>
        <main class="content narrow">
            <h1>{format!("History {} → {}", view.a.label, view.b.label)}</h1>
            <p class="muted">
                {format!(
                    "{} on the first-parent line from {} to {} (git log --first-parent). ",
                    crate::html::counted(view.total as u64, "commit", "commits"),
                    short(&view.a.commit_id),
                    short(&view.b.commit_id)
                )}
                {level}
            </p>
            {if view.commits.is_empty() {
                view! { <div class="empty"><h2>"No commit between these pins"</h2><p>"The newer pin's commit adds nothing on the first-parent line after the older one's."</p></div> }.into_any()
            } else {
                view! { <ol class="commit-list">{commits}</ol> }.into_any()
            }}
            {(view.pages > 1).then(|| view! {
                <nav class="pager" aria-label="Pages">
                    {(view.page > 1).then(|| view! { <a class="button" href=page_link(view.page - 1)>"Newer"</a> })}
                    <span class="muted">{format!("page {} of {}", view.page, view.pages)}</span>
                    {(view.page < view.pages).then(|| view! { <a class="button" href=page_link(view.page + 1)>"Older"</a> })}
                </nav>
            })}
        </main>
    }
}

/// `/pins/{a}/history/{b}/{commit}`: one commit with the diff of each file it changed.
#[component]
pub fn CommitPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (p.get("a").unwrap_or_default(), p.get("b").unwrap_or_default(), p.get("commit").unwrap_or_default())
    };
    let view = Resource::new(key, |(a, b, commit)| load_history_commit(a, b, commit));
    view! {
        <Page title="Commit">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(view) => view! { <CommitBody view/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn CommitBody(view: CommitDiffView) -> impl IntoView {
    let commit = &view.commit;
    let body = message_body(commit);
    let files = view
        .files
        .iter()
        .map(|diff| {
            let table = if diff.omitted {
                r#"<p class="muted">This commit changes more files than a page shows diffs of.</p>"#.to_string()
            } else if let Some(notice) = diff.notice {
                let mut out = String::from(r#"<p class="notice notice-info">"#);
                escape_into(&mut out, &diff_notice(notice));
                out.push_str("</p>");
                out
            } else if diff.hunks.is_empty() {
                r#"<p class="muted">The contents are identical (only the mode or the name changed).</p>"#.to_string()
            } else {
                format!(
                    r#"<div class="code-scroll"><table class="code diff diff-unified"><colgroup><col class="ln-col"><col class="ln-col"><col></colgroup><tbody>{}</tbody></table></div>"#,
                    unified_html(&diff.hunks)
                )
            };
            view! {
                <section class="commit-file">
                    <ul class="change-files">{file_row(&diff.file)}</ul>
                    <div inner_html=table></div>
                </section>
            }
        })
        .collect_view();
    view! {
        <Watermark mark=view.watermark.clone()/>
        <PinBar pin=view.b.clone() current="history"/>
        <main class="content">
            <p><a href=format!("/pins/{}/history/{}", view.a.id, view.b.id)>{format!("← History {} → {}", view.a.label, view.b.label)}</a></p>
            <h1>{commit.summary.clone()}</h1>
            <p class="muted commit-meta">
                <code class="hash">{commit.id.clone()}</code>
                " · " {commit.author.name.clone()} " <" {commit.author.email.clone()} "> · " <Time ms=commit.author.at_ms/>
                {(commit.committer.name != commit.author.name).then(|| format!(" · committed by {}", commit.committer.name))}
                {commit.parents.first().map(|p| format!(" · parent {}", short(p)))}
            </p>
            {body.map(|body| view! { <pre class="commit-message">{body}</pre> })}
            {files}
        </main>
    }
}

/// `/pins/{pin}/blame/{path}`: each line of a file beside the commit that last changed it.
#[component]
pub fn BlamePage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (p.get("pin").unwrap_or_default(), p.get("path").unwrap_or_default())
    };
    let view = Resource::new(key, |(pin, path)| load_blame(pin, path));
    view! {
        <Page title="Blame">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(view) => view! { <BlameBody view/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

/// The blame table: a run's commit (short id, summary, author, date) spanning its lines.
pub fn blame_html(view: &BlameView) -> String {
    let mut out = String::new();
    for hunk in &view.hunks {
        let Some(commit) = view.commits.iter().find(|c| c.id == hunk.commit) else { continue };
        for offset in 0..hunk.lines {
            let number = hunk.first + offset;
            out.push_str(if offset == 0 { r#"<tr class="blame-start">"# } else { "<tr>" });
            if offset == 0 {
                let _ = write!(
                    out,
                    r#"<td class="blame-meta" rowspan="{}"><code class="hash" title="{}">"#,
                    hunk.lines, commit.id
                );
                out.push_str(short(&commit.id));
                out.push_str(r#"</code> <span class="blame-summary">"#);
                escape_into(&mut out, &commit.summary);
                out.push_str(r#"</span><br><span class="muted">"#);
                escape_into(&mut out, &commit.author.name);
                out.push_str(" · ");
                out.push_str(&app_date(commit.author.at_ms));
                out.push_str("</span></td>");
            }
            let _ =
                write!(out, r##"<td class="ln" id="L{number}"><a href="#L{number}">{number}</a></td><td class="lc">"##);
            out.push_str(view.lines.get(number as usize - 1).map_or("", String::as_str));
            out.push_str("</td></tr>");
        }
    }
    out
}

/// A commit's date as the blame column shows it (UTC, the day).
fn app_date(ms: i64) -> String {
    crate::times::rfc3339(ms).chars().take(10).collect()
}

#[component]
fn BlameBody(view: BlameView) -> impl IntoView {
    let table = blame_html(&view);
    let file = format!("/pins/{}/blob/{}", view.pin.id, view.path.url_encoded());
    view! {
        <Watermark mark=view.watermark.clone()/>
        <PinBar pin=view.pin.clone() current="files"/>
        <main class=if view.pin.caps.copy { "content" } else { "content no-copy" }>
            <Breadcrumbs pin=view.pin.clone() path=view.path.clone() leaf_is_file=true/>
            <div class="file-header">
                <h1 class="file-name">{format!("Blame: {}", view.path.file_name())}</h1>
                <span class="muted">{format!(
                    "{} from {}",
                    crate::html::counted(view.lines.len() as u64, "line", "lines"),
                    crate::html::counted(view.commits.len() as u64, "commit", "commits")
                )}</span>
                <span class="spacer"></span>
                <a class="button small subtle" href=file>"The file"</a>
            </div>
            <div class="code-scroll">
                <table class="code blame">
                    <caption class="visually-hidden">"Each line beside the commit that last changed it"</caption>
                    <tbody inner_html=table></tbody>
                </table>
            </div>
        </main>
    }
}
