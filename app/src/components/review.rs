//! Review pieces shared by pages: a thread with its comments, versions, reply and state forms, and
//! the badges for severity and state. Everything works as plain HTML forms; islands only add
//! comfort.

use crate::html::{escape, escape_into};
use crate::model::*;
use leptos::prelude::*;
use std::fmt::Write as _;

#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! { <span class=format!("badge severity severity-{}", severity.as_str())>{severity.as_str()}</span> }
}

#[component]
pub fn StateBadge(state: ThreadState) -> impl IntoView {
    let open = if state.is_open() { "state-open" } else { "state-closed" };
    view! { <span class=format!("badge state {open} state-{}", state.as_str())>{state.label()}</span> }
}

/// Where a thread points to: the file view at its lines.
pub fn thread_link(thread: &Thread) -> String {
    if thread.path.is_root() {
        return format!("/pins/{}/comments#thread-{}", thread.pin, thread.id);
    }
    let fragment = thread.lines.map(|l| format!("#{l}")).unwrap_or_default();
    format!("/pins/{}/blob/{}{}", thread.pin, thread.path.url_encoded(), fragment)
}

/// A `<time>` element as text (see `components::time::Time`).
fn time_html(out: &mut String, ms: i64) {
    let utc = crate::times::utc_text(ms);
    let _ = write!(
        out,
        r#"<time datetime="{}" title="{utc}" data-ms="{ms}" class="local-time">{utc}</time>"#,
        crate::times::rfc3339(ms)
    );
}

fn hidden(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, r#"<input type="hidden" name="{name}" value="{}"/>"#, escape(value));
}

/// What a thread's forms carry: the page to come back to, the anti-forgery token, and the form the
/// server refused on the way here (shown again, as typed, next to its field).
pub struct ThreadForms<'a> {
    pub back: &'a str,
    pub csrf: &'a str,
    pub kept: Option<&'a KeptForm>,
}

impl ThreadForms<'_> {
    /// The refused form, if it is the one at `place`.
    fn kept_at(&self, place: &str) -> Option<&KeptForm> {
        self.kept.filter(|form| form.place == place)
    }
}

/// A refused form's message before its field, and the attributes that tie the field to it.
fn field_error(out: &mut String, kept: Option<&KeptForm>, id: &str) -> &'static str {
    match kept.filter(|kept| kept.refused) {
        Some(kept) => {
            let _ = write!(out, r#"<p class="field-error" id="{id}" role="alert">"#);
            escape_into(out, &kept.message);
            out.push_str("</p>");
            " autofocus aria-invalid=\"true\""
        }
        None => "",
    }
}

fn comment_html(out: &mut String, comment: &CommentView, forms: &ThreadForms) {
    let (back, csrf) = (forms.back, forms.csrf);
    let current = comment.current();
    let _ = write!(
        out,
        r#"<div class="comment" id="comment-{}"><div class="comment-meta"><span class="strong">"#,
        comment.id
    );
    escape_into(out, &comment.author);
    let role = comment.author_role.as_str();
    let _ = write!(out, r#"</span><span class="role role-{role}">{role}</span>"#);
    time_html(out, comment.created_at_ms);
    if comment.versions.len() > 1 {
        let _ = write!(out, r#"<span class="muted">edited · version {}</span>"#, current.version);
    }
    out.push_str(r#"</div><div class="comment-body markdown">"#);
    out.push_str(&current.body_html);
    out.push_str("</div>");
    if comment.versions.len() > 1 {
        let _ = write!(
            out,
            r#"<details class="versions"><summary>{}</summary>"#,
            crate::html::counted(comment.versions.len() as u64 - 1, "earlier version", "earlier versions")
        );
        for version in comment.versions.iter().rev().skip(1) {
            let _ = write!(
                out,
                r#"<div class="version"><div class="comment-meta"><span class="muted">version {}</span>"#,
                version.version
            );
            time_html(out, version.created_at_ms);
            out.push_str(r#"</div><div class="comment-body markdown">"#);
            out.push_str(&version.body_html);
            out.push_str("</div></div>");
        }
        out.push_str("</details>");
    }
    if comment.can_edit {
        let place = format!("edit-{}", comment.id);
        let kept = forms.kept_at(&place);
        let _ = write!(
            out,
            r#"<details class="edit" id="{place}"{}><summary>Edit</summary><form method="post" action="/comments/{}/versions" class="stack">"#,
            if kept.is_some() { " open" } else { "" },
            comment.id
        );
        hidden(out, "csrf", csrf);
        hidden(out, "back", back);
        let invalid = field_error(out, kept, &format!("{place}-error"));
        let _ = write!(out, r#"<label>New version <textarea name="body" rows="4" required{invalid}"#);
        if kept.is_some() {
            let _ = write!(out, r#" aria-describedby="{place}-error""#);
        }
        out.push('>');
        escape_into(out, kept.map_or(current.body.as_str(), |kept| kept.field("body")));
        out.push_str(r#"</textarea></label><div><button type="submit" class="button small">Save as a new version</button></div></form></details>"#);
    }
    out.push_str("</div>");
}

fn anchor_text(thread: &Thread) -> String {
    match (thread.path.is_root(), thread.lines) {
        (true, _) => "the whole pin".to_string(),
        (false, None) => thread.path.to_string(),
        (false, Some(lines)) if lines.first == lines.last => format!("{} line {}", thread.path, lines.first),
        (false, Some(lines)) => format!("{} lines {}–{}", thread.path, lines.first, lines.last),
    }
}

/// A thread as HTML: its anchor, kind, severity and state, its comments with their versions, and
/// the forms the viewer may use (plain forms: they work without JavaScript). Rendered as a string
/// because a file view may carry hundreds of threads; every text is escaped here, and comment
/// bodies are the server's sanitised Markdown. With `show_anchor`, the thread's place heads it: a
/// link, or plain text for a file the reader may not open (`plain_paths`).
pub fn thread_html(out: &mut String, thread: &Thread, forms: &ThreadForms, show_anchor: bool, plain_paths: bool) {
    let (back, csrf) = (forms.back, forms.csrf);
    let _ = write!(
        out,
        r#"<article class="thread kind-{}" id="thread-{}" data-state="{}"><header class="thread-header">"#,
        thread.kind.as_str(),
        thread.id,
        thread.state.as_str()
    );
    match thread.kind {
        CommentKind::Finding => out.push_str(r#"<span class="badge kind">finding</span>"#),
        CommentKind::Note => {
            out.push_str(r#"<span class="badge kind note" title="Only you see this note">private note</span>"#)
        }
        CommentKind::Comment => {}
    }
    if let Some(severity) = thread.severity {
        let _ = write!(out, r#"<span class="badge severity severity-{0}">{0}</span>"#, severity.as_str());
    }
    for weakness in &thread.cwe {
        let _ = write!(out, r#"<span class="badge cwe" title="{}">CWE-{}</span>"#, escape(&weakness.name), weakness.id);
    }
    for id in &thread.requirements {
        let _ = write!(
            out,
            r#"<a class="badge requirement" href="/pins/{}/traceability#{}" title="Traced to requirement {name}">{name}</a>"#,
            thread.pin,
            crate::routes::traceability::requirement_fragment(id),
            name = escape(id)
        );
    }
    let open = if thread.state.is_open() { "state-open" } else { "state-closed" };
    let _ = write!(
        out,
        r#"<span class="badge state {open} state-{}">{}</span>"#,
        thread.state.as_str(),
        thread.state.label()
    );
    if let Some(pin) = thread.states.last().and_then(|s| s.fixed_pin) {
        let _ = write!(out, r#"<span class="muted">verified at pin {pin}</span>"#);
    }
    if show_anchor && plain_paths && !thread.path.is_root() {
        out.push_str(r#"<span class="anchor">"#);
        escape_into(out, &anchor_text(thread));
        out.push_str("</span>");
    } else if show_anchor {
        let _ = write!(out, r#"<a class="anchor" href="{}">"#, escape(&thread_link(thread)));
        escape_into(out, &anchor_text(thread));
        out.push_str("</a>");
    }
    if let Some(pin) = thread.carried_from {
        let _ = write!(
            out,
            r#"<span class="badge carried" title="Made on another pin where this file is identical (same blob)">carried from pin {pin} · "#
        );
        escape_into(out, &thread.pin_label);
        out.push_str("</span>");
    }
    out.push_str("</header>");
    if !thread.cwe.is_empty() {
        out.push_str(r#"<p class="thread-cwe">"#);
        for (i, weakness) in thread.cwe.iter().enumerate() {
            let _ = write!(out, "{}<b>CWE-{}</b> ", if i > 0 { "; " } else { "" }, weakness.id);
            escape_into(out, &weakness.name);
        }
        out.push_str("</p>");
    }
    comment_html(out, &thread.root, forms);
    for reply in &thread.replies {
        comment_html(out, reply, forms);
    }
    // One form for the thread's actions: a reply posts the text, a state change the state (each
    // button names its own address), so the anti-forgery token and return address appear once.
    if thread.can_reply || !thread.allowed_states.is_empty() {
        let _ = write!(
            out,
            r#"<footer class="thread-actions"><form method="post" action="/pins/{}/comments" class="thread-form">"#,
            thread.pin
        );
        hidden(out, "csrf", csrf);
        hidden(out, "back", back);
        if thread.can_reply {
            let _ = write!(out, r#"<input type="hidden" name="reply_to" value="{}"/>"#, thread.id);
            hidden(out, "path", thread.path.as_str());
            let kept = forms.kept_at(&format!("thread-{}", thread.id));
            let _ = write!(
                out,
                r#"<details class="reply"{}><summary class="button small">Reply</summary>"#,
                if kept.is_some() { " open" } else { "" }
            );
            let error_id = format!("thread-{}-error", thread.id);
            let invalid = field_error(out, kept, &error_id);
            let _ = write!(out, r#"<label>Reply (Markdown) <textarea name="body" rows="3"{invalid}"#);
            if kept.is_some() {
                let _ = write!(out, r#" aria-describedby="{error_id}""#);
            }
            out.push('>');
            escape_into(out, kept.map_or("", |kept| kept.field("body")));
            out.push_str(
                r#"</textarea></label><button type="submit" class="button small primary">Reply</button></details>"#,
            );
        }
        if !thread.allowed_states.is_empty() {
            out.push_str(r#"<span class="state-form"><label class="inline-label">Move to <select name="state">"#);
            for state in &thread.allowed_states {
                let _ = write!(out, r#"<option value="{}">{}</option>"#, state.as_str(), state.label());
            }
            out.push_str(r#"</select></label><label class="inline-label">Reason <input type="text" name="reason" maxlength="2000" placeholder="optional"/></label>"#);
            if thread.allowed_states.contains(&ThreadState::Fixed) {
                out.push_str(r#"<label class="inline-label">Fix verified at pin <input type="text" name="fixed_pin" inputmode="numeric" size="4"/></label>"#);
            }
            let _ = write!(
                out,
                r#"<button type="submit" class="button small" formaction="/comments/{}/state">Change state</button></span>"#,
                thread.id
            );
        }
        out.push_str("</form></footer>");
    }
    out.push_str("</article>");
}

/// Threads, each as `thread_html`, in one element.
#[component]
pub fn Threads(
    threads: Vec<Thread>,
    back: String,
    csrf: String,
    #[prop(optional)] show_anchor: bool,
    #[prop(optional)] plain_paths: bool,
) -> impl IntoView {
    let mut html = String::with_capacity(threads.len() * 2048);
    let kept = crate::components::layout::kept_forms();
    let forms = ThreadForms { back: &back, csrf: &csrf, kept: kept.as_ref() };
    for thread in &threads {
        thread_html(&mut html, thread, &forms, show_anchor, plain_paths);
    }
    view! { <div class="threads" inner_html=html></div> }
}

/// The tabs of a pin's pages.
#[component]
pub fn PinTabs(pin: PinId, caps: crate::model::Capabilities, current: &'static str) -> impl IntoView {
    // Only what the person may open (the server decides again on every request).
    let (source, records) = (caps.read_source, caps.read_review);
    let tabs = [
        ("files", "Files", "tree", source),
        ("search", "Search", "search", source),
        ("compare", "Compare", "compare", source),
        ("history", "History", "history", caps.history),
        ("comments", "Comments", "comments", records),
        ("sarif", "Tool results", "sarif", caps.tool_results),
        ("traceability", "Traceability", "traceability", records),
        ("coverage", "Coverage", "coverage", records),
        ("verdicts", "Verdicts", "verdicts", records),
        ("builds", "Builds", "builds", records),
        ("releases", "Releases", "releases", caps.releases),
    ];
    view! {
        <div class="pin-tabs">
            {source.then(|| view! { <crate::components::islands::FileFinder pin=pin.to_string()/> })}
            {tabs.into_iter().filter(|tab| tab.3).map(|(key, label, route, _)| {
                let is_current = key == current;
                view! {
                    <a href=format!("/pins/{pin}/{route}") id=format!("{key}-tab") class:current=is_current aria-current=is_current.then_some("page")>{label}</a>
                }
            }).collect_view()}
        </div>
    }
}

/// The reviewed mark of a file, as a button that turns it on or off (`r` presses it): on a file's
/// page and on its diff.
#[component]
pub fn ReviewedButton(pin: PinId, path: RepoPath, reviewed: bool, csrf: String, back: String) -> impl IntoView {
    let (value, label, class) =
        if reviewed { ("0", "Reviewed ✓", "button small reviewed") } else { ("1", "Mark reviewed", "button small") };
    view! {
        <form method="post" action=format!("/pins/{pin}/reviewed") class="inline" id="reviewed-form">
            <input type="hidden" name="csrf" value=csrf/>
            <input type="hidden" name="back" value=back/>
            <input type="hidden" name="path" value=path.to_string()/>
            <input type="hidden" name="reviewed" value=value/>
            <button type="submit" class=class aria-pressed=if reviewed { "true" } else { "false" } title="Mark this file reviewed (r)">
                {label}
            </button>
        </form>
    }
}
