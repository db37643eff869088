//! Review pieces shared by pages: a thread with its comments, versions, reply and state forms, and
//! the badges for kind, severity and state. Everything works as plain HTML forms; islands only add
//! comfort.

use crate::components::time::Time;
use crate::model::*;
use leptos::prelude::*;

#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! { <span class=format!("badge severity severity-{}", severity.as_str())>{severity.as_str()}</span> }
}

#[component]
pub fn StateBadge(state: ThreadState) -> impl IntoView {
    let open = if state.is_open() { "state-open" } else { "state-closed" };
    view! { <span class=format!("badge state {open} state-{}", state.as_str())>{state.label()}</span> }
}

fn anchor_text(thread: &Thread) -> String {
    match (thread.path.is_root(), thread.lines) {
        (true, _) => "the whole pin".to_string(),
        (false, None) => thread.path.to_string(),
        (false, Some(lines)) if lines.first == lines.last => format!("{} line {}", thread.path, lines.first),
        (false, Some(lines)) => format!("{} lines {}–{}", thread.path, lines.first, lines.last),
    }
}

/// Where a thread points to: the file view at its lines.
pub fn thread_link(thread: &Thread) -> String {
    if thread.path.is_root() {
        return format!("/pins/{}/comments#thread-{}", thread.pin, thread.id);
    }
    let fragment = thread.lines.map(|l| format!("#{l}")).unwrap_or_default();
    format!("/pins/{}/blob/{}{}", thread.pin, thread.path.url_encoded(), fragment)
}

#[component]
fn Comment(comment: CommentView, back: String, csrf: String) -> impl IntoView {
    let current = comment.current().clone();
    let edited = comment.versions.len() > 1;
    let earlier: Vec<CommentVersion> = comment.versions.iter().rev().skip(1).cloned().collect();
    let edit_form = comment.can_edit.then(|| {
        view! {
            <details class="edit">
                <summary>"Edit"</summary>
                <form method="post" action=format!("/comments/{}/versions", comment.id) class="stack">
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <input type="hidden" name="back" value=back.clone()/>
                    <label>"New version" <textarea name="body" rows="4" required>{current.body.clone()}</textarea></label>
                    <div><button type="submit" class="button small">"Save as a new version"</button></div>
                </form>
            </details>
        }
    });
    view! {
        <div class="comment" id=format!("comment-{}", comment.id)>
            <div class="comment-meta">
                <span class="strong">{comment.author.clone()}</span>
                <span class=format!("role role-{}", comment.author_role.as_str())>{comment.author_role.as_str()}</span>
                <Time ms=comment.created_at_ms/>
                {edited.then(|| view! { <span class="muted">{format!("edited · version {}", current.version)}</span> })}
            </div>
            <div class="comment-body markdown" inner_html=current.body_html.clone()></div>
            {(!earlier.is_empty()).then(|| view! {
                <details class="versions">
                    <summary>{format!("{} earlier version(s)", earlier.len())}</summary>
                    {earlier.into_iter().map(|v| view! {
                        <div class="version">
                            <div class="comment-meta"><span class="muted">{format!("version {}", v.version)}</span><Time ms=v.created_at_ms/></div>
                            <div class="comment-body markdown" inner_html=v.body_html/>
                        </div>
                    }).collect_view()}
                </details>
            })}
            {edit_form}
        </div>
    }
}

/// A thread: its anchor, kind, severity and state, its comments, and the forms the viewer may use.
#[component]
pub fn ThreadCard(thread: Thread, back: String, csrf: String, #[prop(optional)] show_anchor: bool) -> impl IntoView {
    let kind_class = format!("thread kind-{}", thread.kind.as_str());
    let anchor = show_anchor.then(|| {
        let href = thread_link(&thread);
        view! { <a class="anchor" href=href>{anchor_text(&thread)}</a> }
    });
    let carried = thread.carried_from.map(|pin| {
        view! {
            <span class="badge carried" title="Made on another pin where this file is identical (same blob)">
                {format!("carried from pin {pin} · {}", thread.pin_label)}
            </span>
        }
    });
    let kind_badge = match thread.kind {
        CommentKind::Finding => Some(view! { <span class="badge kind">"finding"</span> }.into_any()),
        CommentKind::Note => Some(
            view! { <span class="badge kind note" title="Only you see this note">"private note"</span> }.into_any(),
        ),
        CommentKind::Comment => None,
    };
    let fixed_at = thread.states.last().and_then(|s| s.fixed_pin).map(|pin| {
        view! { <span class="muted">{format!("verified at pin {pin}")}</span> }
    });
    let reply = thread.can_reply.then(|| {
        view! {
            <details class="reply">
                <summary class="button small">"Reply"</summary>
                <form method="post" action=format!("/pins/{}/comments", thread.pin) class="stack">
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <input type="hidden" name="back" value=back.clone()/>
                    <input type="hidden" name="reply_to" value=thread.id.to_string()/>
                    <input type="hidden" name="path" value=thread.path.to_string()/>
                    <label>"Reply (Markdown)" <textarea name="body" rows="3" required></textarea></label>
                    <div><button type="submit" class="button small primary">"Reply"</button></div>
                </form>
            </details>
        }
    });
    let states = (!thread.allowed_states.is_empty()).then(|| {
        let needs_pin = thread.allowed_states.contains(&ThreadState::Fixed);
        view! {
            <form method="post" action=format!("/comments/{}/state", thread.id) class="state-form">
                <input type="hidden" name="csrf" value=csrf.clone()/>
                <input type="hidden" name="back" value=back.clone()/>
                <label class="inline-label">"Move to"
                    <select name="state">
                        {thread.allowed_states.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="inline-label">"Reason" <input type="text" name="reason" maxlength="2000" placeholder="optional"/></label>
                {needs_pin.then(|| view! {
                    <label class="inline-label">"Fix verified at pin" <input type="text" name="fixed_pin" inputmode="numeric" size="4"/></label>
                })}
                <button type="submit" class="button small">"Change state"</button>
            </form>
        }
    });
    let replies = thread
        .replies
        .into_iter()
        .map(|reply| view! { <Comment comment=reply back=back.clone() csrf=csrf.clone()/> })
        .collect_view();
    view! {
        <article class=kind_class id=format!("thread-{}", thread.id) data-state=thread.state.as_str()>
            <header class="thread-header">
                {kind_badge}
                {thread.severity.map(|severity| view! { <SeverityBadge severity/> })}
                <StateBadge state=thread.state/>
                {fixed_at}
                {anchor}
                {carried}
            </header>
            <Comment comment=thread.root back=back.clone() csrf=csrf.clone()/>
            {replies}
            <footer class="thread-actions">{reply}{states}</footer>
        </article>
    }
}

/// The tabs of a pin's pages.
#[component]
pub fn PinTabs(pin: PinId, current: &'static str) -> impl IntoView {
    let tabs = [
        ("files", "Files", "tree"),
        ("comments", "Comments", "comments"),
        ("coverage", "Coverage", "coverage"),
        ("verdicts", "Verdicts", "verdicts"),
    ];
    view! {
        <nav class="pin-tabs" aria-label="This pin">
            {tabs.into_iter().map(|(key, label, route)| {
                let is_current = key == current;
                view! {
                    <a href=format!("/pins/{pin}/{route}") class:current=is_current aria-current=is_current.then_some("page")>{label}</a>
                }
            }).collect_view()}
        </nav>
    }
}
