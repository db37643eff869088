//! A file at a pin: the tree beside it, the highlighted code with line numbers and permalinks, the
//! threads under the lines they are on, the reviewed mark, and the composer for a new comment.

use crate::api::open_blob;
use crate::components::islands::{
    Composer, CopyButton, FileFilter, LineSelection, SidebarTree, SymbolLookup, ToolResultMarks, WindowLoader,
};
use crate::components::layout::{ErrorPanel, Flash, Loading, Page, Watermark};
use crate::components::notices::file_notice;
use crate::components::review::{thread_html, ReviewedButton, ThreadForms, Threads};
use crate::html::{counted, thousands};
use crate::model::{BlobContent, BlobView, FileNotice, LineWindow, RepoPath, Thread};
use crate::routes::blob_results::annotation_html;
use crate::routes::compiled::CompiledBar;
use crate::routes::tree::{size_text, Breadcrumbs, EntryList, PinBar};
use crate::rows::rows_html;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn BlobPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let params = params.read();
        // `line` (the go-to-line field) opens the window that holds the line, as `from` does.
        let query = query.read();
        let from = query.get("from").or_else(|| query.get("line")).and_then(|f| f.parse::<u32>().ok());
        let artifact = query.get("artifact");
        (params.get("pin").unwrap_or_default(), params.get("path").unwrap_or_default(), from, artifact)
    };
    let blob = Resource::new(key, |(pin, path, from, artifact)| open_blob(pin, path, from, artifact));
    view! {
        <Page title="File">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match blob.await {
                        Ok(view) => view! { <BlobBody view/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn BlobBody(view: BlobView) -> impl IntoView {
    let pin_id = view.pin.id.to_string();
    let name = view.path.file_name().to_string();
    let dir = view.path.parent();
    let meta = format!("{} · blob {}", size_text(view.size), &view.blob_id[..view.blob_id.len().min(12)]);
    let back = format!("/pins/{}/blob/{}", view.pin.id, view.path.url_encoded());
    let (file_threads, line_threads): (Vec<Thread>, Vec<Thread>) =
        view.threads.into_iter().partition(|t| t.lines.is_none());
    let file_annotations = view.annotations;
    let file_annotations_view = (!file_annotations.is_empty()).then(|| {
        let mut html = String::new();
        for annotation in &file_annotations {
            annotation_html(&mut html, &pin_id, annotation);
        }
        view! { <section class="file-annotations" aria-label="Tool results on this file" inner_html=html></section> }
    });
    let windowed = matches!(view.content, BlobContent::Text { window: Some(_), .. });
    let results_list = view.results_list.filter(|list| list.count > 0);
    let results_link = results_list.as_ref().map(|list| {
        let text = counted(list.count, "tool result", "tool results");
        view! { <a class="badge results-link" href="#tool-results" title="Imported tool results on these lines, listed after the code">{text}</a> }
    });
    let results_view = results_list.map(|list| {
        let list = list.html;
        let title = if windowed { "Tool results on these lines" } else { "Tool results on this file" };
        view! {
            <section class="file-results" id="tool-results" aria-labelledby="tool-results-title">
                <h2 id="tool-results-title">{title}</h2>
                <p class="muted">"From imported tool logs, by rule and message; a line number opens its line. With scripts on, each result is also shown under its line."</p>
                <div inner_html=list></div>
            </section>
            <ToolResultMarks/>
        }
    });
    let reviewed = view.reviewed.map(|reviewed| {
        view! { <ReviewedButton pin=view.pin.id path=view.path.clone() reviewed csrf=view.csrf_token.clone() back=back.clone()/> }
    });
    let file_threads_view = (!file_threads.is_empty()).then(|| {
        view! {
            <section class="file-threads" aria-label="Comments on this file">
                <Threads threads=file_threads back=back.clone() csrf=view.csrf_token.clone()/>
            </section>
        }
    });
    let composer = view.can_comment.then(|| {
        let kept = crate::components::layout::kept_form("composer");
        view! { <Composer pin=pin_id.clone() path=view.path.to_string() csrf=view.csrf_token.clone() back=back.clone() kept=kept/> }
    });
    let chosen_artifact = view.compiled.as_ref().filter(|c| c.artifacts.len() > 1).map(|c| c.chosen.clone());
    let compiled_bar = view.compiled.clone().map(|compiled| {
        let (first, last, total) = match &view.content {
            BlobContent::Text { window: Some(w), .. } => (w.first, w.last, w.total),
            BlobContent::Text { lines, spliced, .. } => {
                let count = spliced.as_ref().map_or(lines.len() as u32, |rows| rows.lines);
                (1, count, count)
            }
            _ => (1, 0, 0),
        };
        let base = format!("/pins/{}/blob/{}", view.pin.id, view.path.url_encoded());
        view! { <CompiledBar compiled base total first last/> }
    });
    // What the pin's take-away policy allows this person, as the server's guard decided it.
    let downloads = view.pin.caps.download;
    let pane_class = if view.pin.caps.copy { "content code-pane" } else { "content code-pane no-copy" };
    view! {
        <crate::components::layout::PageTitle text=format!("{} · {} · Clearroom", view.path, view.pin.label)/>
        <Watermark mark=view.watermark.clone()/>
        <PinBar pin=view.pin.clone() current="files"/>
        <div class="browse">
            <aside class="sidebar" aria-label="Files in this directory">
                <FileFilter/>
                <SidebarTree pin=pin_id.clone()/>
                <EntryList pin=pin_id.clone() dir=dir entries=view.siblings.clone() current=Some(name) class="file-list side"/>
            </aside>
            <main class=pane_class>
                <Flash/>
                <Breadcrumbs pin=view.pin.clone() path=view.path.clone() leaf_is_file=true/>
                <div class="file-header">
                    <h1 class="file-name">{view.path.file_name().to_string()}</h1>
                    <span class="muted">{meta}</span>
                    {match &view.content {
                        BlobContent::Text { language: Some(language), .. } => Some(view! { <span class="badge">{language.clone()}</span> }),
                        _ => None,
                    }}
                    {results_link}
                    <span class="spacer"></span>
                    {view.pin.caps.history.then(|| view! {
                        <a class="button small subtle" href=format!("/pins/{}/blame/{}", view.pin.id, view.path.url_encoded()) title="Who last changed each line">"Blame"</a>
                    })}
                    <CopyButton label="Copy path".to_string() text=view.path.to_string()/>
                    <CopyButton label="Copy permalink".to_string()/>
                    {reviewed}
                </div>
                {(!view.pin.caps.copy).then(|| view! {
                    <p class="notice notice-info policy-note" role="note">"This pin's policy turns copying off: the code cannot be selected. Permalinks and comments work as usual."</p>
                })}
                {compiled_bar}
                {file_annotations_view}
                {file_threads_view}
                <FileContent
                    downloads
                    content=view.content
                    threads=line_threads
                    csrf=view.csrf_token.clone()
                    back=back.clone()
                    pin=pin_id.clone()
                    path=view.path.clone()
                    artifact=chosen_artifact
                />
                {results_view}
                {composer}
            </main>
        </div>
        <LineSelection/>
        <SymbolLookup pin=pin_id.clone()/>
    }
}

/// The code table's rows, with each thread in a row of its own after the line it ends on. The
/// lines are numbered from `first`; in a window (`windowed`), threads on other lines are left out.
fn table_html(lines: &[String], first: usize, windowed: bool, threads: &[Thread], forms: &ThreadForms) -> String {
    let count = lines.len();
    let offset = first.saturating_sub(1);
    let mut marked = vec![false; count + 2];
    let mut by_last_line: std::collections::BTreeMap<usize, Vec<&Thread>> = Default::default();
    for thread in threads {
        let Some(range) = thread.lines else { continue };
        let (from, to) = (range.first as usize, range.last as usize);
        if windowed && (to <= offset || from > offset + count) {
            continue;
        }
        let last = to.saturating_sub(offset).clamp(1, count.max(1));
        marked[from.saturating_sub(offset).clamp(1, last)..=last].fill(true);
        by_last_line.entry(last).or_default().push(thread);
    }
    let mut html = String::new();
    let mut next = 1;
    for (last, threads) in by_last_line {
        if last >= next && count > 0 {
            rows_html(&mut html, lines, (next, last), &marked, offset, &[]);
            next = last + 1;
        }
        html.push_str("<tr class=\"thread-row\"><td colspan=\"2\">");
        for thread in threads {
            thread_html(&mut html, thread, forms, false, false);
        }
        html.push_str("</td></tr>");
    }
    if next <= count {
        rows_html(&mut html, lines, (next, count), &marked, offset, &[]);
    }
    html
}

#[component]
fn FileContent(
    /// Whether the raw-download link is offered (the pin's policy, or staff).
    downloads: bool,
    content: BlobContent,
    threads: Vec<Thread>,
    csrf: String,
    back: String,
    pin: String,
    path: RepoPath,
    /// The artifact whose compiled lines are marked, when the reader chose among several: the
    /// windows before and after, and those loaded on scrolling, keep the choice.
    artifact: Option<String>,
) -> impl IntoView {
    let keep = artifact.as_ref().map(|sha| format!("&artifact={sha}")).unwrap_or_default();
    let lines_query = artifact.map(|sha| format!("?artifact={sha}")).unwrap_or_default();
    match content {
        BlobContent::Text { lines, notice, window, spliced, .. } => {
            // Spliced rows come with no thread on their lines (the server splices only then);
            // tool results are listed after the table and placed by `ToolResultMarks`.
            let count = spliced.as_ref().map_or(lines.len(), |rows| rows.lines as usize);
            let first = window.map_or(1, |w| w.first as usize);
            let rows = match spliced {
                Some(rows) => rows.marker,
                None => {
                    let kept = crate::components::layout::kept_forms();
                    let forms = ThreadForms { back: &back, csrf: &csrf, kept: kept.as_ref() };
                    table_html(&lines, first, window.is_some(), &threads, &forms)
                }
            };
            let base = format!("/pins/{pin}/blob/{}", path.url_encoded());
            let raw = format!("/pins/{pin}/raw/{}", path.url_encoded());
            let window_bar = window.map(|w| {
                let earlier = (w.first > 1).then(|| {
                    let from = w.first.saturating_sub(LineWindow::LINES).max(1);
                    view! { <a href=format!("{base}?from={from}{keep}") rel="prev">"← Earlier lines"</a> }
                });
                let later = (w.last < w.total).then(|| {
                    view! { <a href=format!("{base}?from={}{keep}", w.last + 1) rel="next" class="window-next">"Later lines →"</a> }
                });
                view! {
                    <nav class="window-bar" aria-label="Lines of this file">
                        <span class="window-range">{format!("Lines {}–{} of {}", thousands(w.first), thousands(w.last), thousands(w.total))}</span>
                        {earlier}
                        {later}
                        {downloads.then(|| view! { <a href=raw.clone() download="">"Download raw file"</a> })}
                    </nav>
                    // The browser's find sees only the lines loaded: these reach every line.
                    <div class="window-tools">
                        <form method="get" action=base.clone() class="goto-line">
                            <label>"Go to line "
                                <input type="number" name="line" min="1" max=w.total.to_string() required inputmode="numeric"/>
                            </label>
                            <button type="submit">"Go"</button>
                        </form>
                        <form method="get" action=format!("/pins/{pin}/search") class="find-in-file" role="search">
                            <input type="hidden" name="path" value=crate::model::exact_glob(path.as_str())/>
                            <input type="hidden" name="lines" value="all"/>
                            <label>"Find in this file "
                                <input type="search" name="q" required/>
                            </label>
                            <button type="submit">"Find"</button>
                        </form>
                    </div>
                    <WindowLoader
                        lines_url=format!("/pins/{pin}/lines/{}{lines_query}", path.url_encoded())
                        page_url=base.clone()
                        first=w.first
                        last=w.last
                        total=w.total
                    />
                }
            });
            view! {
                {notice.map(|notice| {
                    // A download only where the pin's policy allows this person one.
                    let offer = downloads && matches!(notice, FileNotice::NotDisplayed { .. });
                    view! {
                        <div class="notice notice-info" role="status">
                            {file_notice(&notice)}
                            {offer.then(|| view! { " " <a href=raw.clone() download="">"Download the raw file"</a> })}
                        </div>
                    }
                })}
                {window_bar}
                {if count == 0 {
                    view! { <div class="empty"><p>"This file is empty."</p></div> }.into_any()
                } else {
                    view! {
                        <div class="code-scroll">
                            <table class="code" data-lines=count.to_string()>
                                <caption class="visually-hidden">"The file's lines; each line number is a permalink"</caption>
                                <tbody inner_html=rows></tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            }
            .into_any()
        }
        BlobContent::Binary { mime, hex_preview } => view! {
            <div class="notice notice-info" role="status">
                "Binary file (" {mime} "). It is not shown as text; the first bytes follow."
            </div>
            <pre class="hexdump">{hex_preview.join("\n")}</pre>
        }
        .into_any(),
    }
}
