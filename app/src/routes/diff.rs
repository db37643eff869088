//! One file's diff between two pins: highlighted, unified or side by side (the choice is
//! remembered), line numbers of both sides with permalinks (`#L-12` old, `#R-40` new), more context
//! on request, intra-line changes marked; binary files and files over the cap described instead.

use crate::api::load_diff;
use crate::components::islands::{Composer, CopyButton, LayoutChoice};
use crate::components::layout::{ErrorPanel, Loading, Page, Watermark};
use crate::components::notices::diff_notice;
use crate::components::review::ReviewedButton;
use crate::html::thousands;
use crate::model::{DiffLayout, DiffLine, DiffLineKind, DiffView, Hunk, LineWindow};
use crate::routes::tree::{size_text, PinBar};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use std::fmt::Write as _;

#[component]
pub fn DiffPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let p = params.read();
        let q = query.read();
        (
            p.get("a").unwrap_or_default(),
            p.get("b").unwrap_or_default(),
            p.get("path").unwrap_or_default(),
            q.get("from"),
            q.get("view"),
            q.get("context"),
            q.get("rows"),
        )
    };
    let diff = Resource::new(key, |(a, b, path, from, layout, context, rows)| {
        load_diff(a, b, path, from, layout, context, rows)
    });
    view! {
        <Page title="Diff">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match diff.await {
                        Ok(view) => view! { <DiffBody view/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

fn number_cell(out: &mut String, side: char, number: Option<u32>) {
    match number {
        Some(n) => {
            let _ = write!(out, r##"<td class="ln"><a id="{side}-{n}" href="#{side}-{n}">{n}</a></td>"##);
        }
        None => out.push_str(r#"<td class="ln"></td>"#),
    }
}

fn kind_class(kind: DiffLineKind) -> &'static str {
    match kind {
        DiffLineKind::Context => "ctx",
        DiffLineKind::Added => "add",
        DiffLineKind::Removed => "del",
    }
}

fn hunk_header(out: &mut String, hunk: &Hunk, columns: u32) {
    let _ = write!(
        out,
        r#"<tr class="hunk"><td colspan="{columns}">@@ −{},{} +{},{} @@</td></tr>"#,
        hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines
    );
}

/// Unified: old number, new number, the line.
pub fn unified_html(hunks: &[Hunk]) -> String {
    let mut out = String::new();
    for hunk in hunks {
        hunk_header(&mut out, hunk, 3);
        for line in &hunk.lines {
            let _ = write!(out, r#"<tr class="{}">"#, kind_class(line.kind));
            number_cell(&mut out, 'L', line.old);
            number_cell(&mut out, 'R', line.new);
            let sign = match line.kind {
                DiffLineKind::Added => '+',
                DiffLineKind::Removed => '−',
                DiffLineKind::Context => ' ',
            };
            let _ = write!(out, r#"<td class="lc" data-sign="{sign}">{}</td></tr>"#, line.html);
        }
    }
    out
}

/// Side by side: removed lines beside the added lines they became, context on both sides.
fn split_html(hunks: &[Hunk]) -> String {
    let mut out = String::new();
    for hunk in hunks {
        hunk_header(&mut out, hunk, 4);
        let mut index = 0;
        let lines = &hunk.lines;
        while index < lines.len() {
            if lines[index].kind == DiffLineKind::Context {
                let line = &lines[index];
                out.push_str(r#"<tr class="ctx">"#);
                number_cell(&mut out, 'L', line.old);
                let _ = write!(out, r#"<td class="lc">{}</td>"#, line.html);
                number_cell(&mut out, 'R', line.new);
                let _ = write!(out, r#"<td class="lc">{}</td></tr>"#, line.html);
                index += 1;
                continue;
            }
            // A run of removed then added lines, paired row by row.
            let removed: Vec<&DiffLine> =
                lines[index..].iter().take_while(|l| l.kind == DiffLineKind::Removed).collect();
            let after = index + removed.len();
            let added: Vec<&DiffLine> = lines[after..].iter().take_while(|l| l.kind == DiffLineKind::Added).collect();
            for row in 0..removed.len().max(added.len()) {
                out.push_str("<tr>");
                match removed.get(row) {
                    Some(line) => {
                        number_cell(&mut out, 'L', line.old);
                        let _ = write!(out, r#"<td class="lc del">{}</td>"#, line.html);
                    }
                    None => out.push_str(r#"<td class="ln empty-side"></td><td class="lc empty-side"></td>"#),
                }
                match added.get(row) {
                    Some(line) => {
                        number_cell(&mut out, 'R', line.new);
                        let _ = write!(out, r#"<td class="lc add">{}</td>"#, line.html);
                    }
                    None => out.push_str(r#"<td class="ln empty-side"></td><td class="lc empty-side"></td>"#),
                }
                out.push_str("</tr>");
            }
            index = after + added.len();
        }
    }
    out
}

#[component]
fn DiffBody(view: DiffView) -> impl IntoView {
    let query = use_query_map();
    let (a, b) = (view.a.id, view.b.id);
    let encoded = view.path.url_encoded();
    let link_with = move |key: &'static str, value: &str| {
        let mut q = query.get_untracked();
        q.replace(key, value.to_string());
        format!("/pins/{a}/compare/{b}/{encoded}{}", q.to_query_string())
    };
    let layout = view.layout;
    // Side by side, each half wraps its long lines; unified, long lines wrap on request (`wrap=1`).
    let wrap = layout == DiffLayout::Split || query.get_untracked().get("wrap").as_deref() == Some("1");
    let wrap_toggle = (layout == DiffLayout::Unified).then(|| {
        let (value, label) = if wrap { ("0", "Don't wrap lines") } else { ("1", "Wrap long lines") };
        view! { <a class="button small subtle" href=link_with("wrap", value)>{label}</a> }
    });
    let table = match layout {
        DiffLayout::Unified => unified_html(&view.hunks),
        DiffLayout::Split => split_html(&view.hunks),
    };
    let side = |side: &Option<crate::model::DiffSideView>, label: &str| match side {
        Some(s) => {
            format!("{label}: {} · {} · blob {}", s.path, size_text(s.size), &s.blob_id[..12.min(s.blob_id.len())])
        }
        None => format!("{label}: (none)"),
    };
    let more_context = view.context.map(|n| {
        let more = (n.max(3) * 4).to_string();
        view! {
            <a class="button small" href=link_with("context", &more)>{format!("More context ({more} lines)")}</a>
            <a class="button small" href=link_with("context", "all")>"Whole file"</a>
        }
    });
    let back = format!("/pins/{a}/compare/{b}/{}", view.path.url_encoded());
    let composer = view.can_comment.then(|| {
        view! {
            <p class="muted">"Comments made here land on the newer pin's file: use the newer version's line numbers."</p>
            <Composer pin=b.to_string() path=view.path.to_string() csrf=view.csrf_token.clone() back=back kept=crate::components::layout::kept_form("composer")/>
        }
    });
    let old_file = view.old.as_ref().map(|s| {
        format!(
            "/pins/{a}/blob/{}",
            crate::model::RepoPath::parse(&s.path).map(|p| p.url_encoded()).unwrap_or_default()
        )
    });
    let new_file = view.new.as_ref().map(|_| format!("/pins/{b}/blob/{}", view.path.url_encoded()));
    let reviewed = view.reviewed.map(|reviewed| {
        let back = format!("/pins/{a}/compare/{b}/{}", view.path.url_encoded());
        view! { <ReviewedButton pin=b path=view.path.clone() reviewed csrf=view.csrf_token.clone() back/> }
    });
    // The files before and after this one in the comparison's list (`n` and `p` follow them).
    let neighbour = |file: &crate::model::ChangedFileView| {
        let path = crate::model::RepoPath::parse(&file.path).map(|p| p.url_encoded()).unwrap_or_default();
        let from = file.old_path.as_ref().map(|o| {
            format!("?from={}", crate::model::RepoPath::parse(o).map(|p| p.url_encoded()).unwrap_or_default())
        });
        (format!("/pins/{a}/compare/{b}/{path}{}", from.unwrap_or_default()), file.path.clone())
    };
    let previous = view.previous.as_ref().map(neighbour);
    let next = view.next.as_ref().map(neighbour);
    let files_nav = view.position.map(|(at, of)| {
        view! {
            <nav class="file-steps" aria-label="Changed files">
                {match previous.clone() {
                    Some((href, path)) => view! { <a href=href rel="prev" class="button small" title=path>"← Previous file"</a> }.into_any(),
                    None => view! { <span class="button small disabled" aria-disabled="true">"← Previous file"</span> }.into_any(),
                }}
                <span class="muted">{format!("File {} of {}", thousands(at), thousands(of))}</span>
                {match next.clone() {
                    Some((href, path)) => view! { <a href=href rel="next" class="button small" title=path>"Next file →"</a> }.into_any(),
                    None => view! { <span class="button small disabled" aria-disabled="true">"Next file →"</span> }.into_any(),
                }}
            </nav>
        }
    });
    view! {
        <crate::components::layout::PageTitle text=format!("{} · {} → {} · Clearroom", view.path, view.a.label, view.b.label)/>
        <Watermark mark=view.watermark.clone()/>
        <PinBar pin=view.b.clone() current="compare"/>
        <main class="content">
            <nav class="breadcrumbs" aria-label="Comparison">
                <a class="crumb" href=format!("/pins/{a}/compare/{b}")>{format!("{} → {}", view.a.label, view.b.label)}</a>
                <span class="sep">"/"</span>
                <span class="crumb current">{view.path.to_string()}</span>
            </nav>
            {files_nav}
            <div class="file-header diff-header">
                <h1 class="file-name">{view.path.file_name().to_string()}</h1>
                <span class="muted">{side(&view.old, "old")}</span>
                <span class="muted">{side(&view.new, "new")}</span>
                <span class="spacer"></span>
                {old_file.map(|href| view! { <a class="button small subtle" href=href>"Old file"</a> })}
                {new_file.map(|href| view! { <a class="button small subtle" href=href>"New file"</a> })}
                <LayoutChoice current=if layout == DiffLayout::Split { "split".to_string() } else { "unified".to_string() }/>
                {wrap_toggle}
                {more_context}
                <CopyButton label="Copy path".to_string() text=view.path.to_string()/>
                {reviewed}
            </div>
            {view.notice.map(|notice| view! { <div class="notice notice-info" role="status">{diff_notice(notice)}</div> })}
            {if view.notice.is_none() && view.hunks.is_empty() {
                Some(view! { <div class="empty"><p>"The contents are identical (only the mode or the name changed)."</p></div> })
            } else {
                None
            }}
            {view.rows.map(|w| {
                let earlier = (w.first > 1).then(|| {
                    let from = w.first.saturating_sub(LineWindow::LINES).max(1).to_string();
                    view! { <a href=link_with("rows", &from) rel="prev">"← Earlier rows"</a> }
                });
                let later = (w.last < w.total).then(|| {
                    view! { <a href=link_with("rows", &(w.last + 1).to_string()) rel="next">"Later rows →"</a> }
                });
                view! {
                    <nav class="window-bar" aria-label="Rows of this diff">
                        <span class="window-range">{format!(
                            "Rows {}–{} of {} (a long diff is shown {} rows at a time)",
                            thousands(w.first), thousands(w.last), thousands(w.total), thousands(LineWindow::LINES)
                        )}</span>
                        {earlier}
                        {later}
                    </nav>
                }
            })}
            {(!view.hunks.is_empty()).then(|| view! {
                <div class="code-scroll">
                    <table class=format!(
                        "code diff diff-{}{}",
                        if layout == DiffLayout::Split { "split" } else { "unified" },
                        if wrap { " wrap" } else { "" }
                    )>
                        <caption class="visually-hidden">"The changed lines with their numbers in the old and the new version"</caption>
                        {if layout == DiffLayout::Split {
                            view! { <colgroup><col class="ln-col"/><col/><col class="ln-col"/><col/></colgroup> }.into_any()
                        } else {
                            view! { <colgroup><col class="ln-col"/><col class="ln-col"/><col/></colgroup> }.into_any()
                        }}
                        <tbody inner_html=table></tbody>
                    </table>
                </div>
            })}
            {composer}
        </main>
    }
}

/// One file's diff as a fragment of HTML for a comparison's page of every diff (unified, three
/// lines of context): the table, or why there is none; a long diff's first window, with a link to
/// its own page.
pub fn fragment_html(view: &DiffView) -> String {
    let mut out = String::new();
    if let Some(notice) = view.notice {
        out.push_str(r#"<p class="notice notice-info">"#);
        crate::html::escape_into(&mut out, &diff_notice(notice));
        out.push_str("</p>");
        return out;
    }
    if view.hunks.is_empty() {
        out.push_str(r#"<p class="muted">The contents are identical (only the mode or the name changed).</p>"#);
        return out;
    }
    out.push_str(r#"<div class="code-scroll"><table class="code diff diff-unified"><colgroup><col class="ln-col"><col class="ln-col"><col></colgroup><tbody>"#);
    out.push_str(&unified_html(&view.hunks));
    out.push_str("</tbody></table></div>");
    if let Some(rows) = view.rows.filter(|rows| rows.last < rows.total) {
        let _ = write!(
            out,
            r#"<p class="muted">Rows 1–{} of {} shown: open the file's diff for the rest.</p>"#,
            thousands(rows.last),
            thousands(rows.total)
        );
    }
    out
}
