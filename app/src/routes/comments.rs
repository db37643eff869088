//! A pin's threads: filter by file, state, severity, author and kind; paged; each thread with its
//! replies, versions and the forms the viewer may use; and a form for a comment on the whole pin.

use crate::api::pin_comments;
use crate::components::layout::{ErrorPanel, Flash, Loading, Page};
use crate::components::review::Threads;
use crate::model::{CommentFilter, CommentList, Severity, COMMENT_PAGE};
use crate::routes::tree::PinBar;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn CommentsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let q = query.read();
        let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
        let filter = CommentFilter {
            path: get("path"),
            state: get("state"),
            severity: get("severity"),
            author: get("author"),
            kind: get("kind"),
            cwe: get("cwe"),
            page: get("page").and_then(|p| p.parse().ok()),
        };
        (params.read().get("pin").unwrap_or_default(), filter)
    };
    let list = Resource::new(key, |(pin, filter)| pin_comments(pin, filter));
    view! {
        <Page title="Comments">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) => view! { <CommentsBody list/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn CommentsBody(list: CommentList) -> impl IntoView {
    let query = use_query_map();
    let q = query.get_untracked();
    let current = |k: &str| q.get(k).unwrap_or_default();
    let pin = list.pin.id;
    let back = format!("/pins/{pin}/comments");
    let pages = list.matching.div_ceil(COMMENT_PAGE).max(1) as u32;
    let page_link = move |page: u32| {
        let mut q = query.get_untracked();
        q.replace("page", page.to_string());
        format!("/pins/{pin}/comments{}", q.to_query_string())
    };
    let option = |value: &'static str, label: &'static str, selected: &str| {
        view! { <option value=value selected=selected == value>{label}</option> }
    };
    let new_pin_comment = list.can_comment.then(|| {
        view! {
            <details class="panel new-thread">
                <summary class="button">"Comment on the whole pin"</summary>
                <form method="post" action=format!("/pins/{pin}/comments") class="stack">
                    <input type="hidden" name="csrf" value=list.csrf_token.clone()/>
                    <input type="hidden" name="back" value=back.clone()/>
                    <input type="hidden" name="path" value=""/>
                    <label>"Comment (Markdown)" <textarea name="body" rows="4" required></textarea></label>
                    <label>"Severity (makes it a finding)"
                        <select name="severity">
                            <option value="">"none: a comment"</option>
                            {Severity::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"CWE ids (a finding's)" <input name="cwe" placeholder="CWE-20, CWE-787"/></label>
                    <label>"Requirements traced" <input name="requirements" placeholder="FCS_COP.1/AES"/></label>
                    <label class="check"><input type="checkbox" name="private"/>" Private note (only you see it)"</label>
                    <div><button type="submit" class="button primary">"Save"</button></div>
                </form>
            </details>
        }
    });
    let authors = list.authors.clone();
    let author_now = current("author");
    view! {
        <PinBar pin=list.pin.clone() current="comments"/>
        <main class="content narrow">
            <Flash/>
            <h1>{format!("Comments on {}", list.pin.label)}</h1>
            <form method="get" class="filters" role="search" aria-label="Filter comments">
                <label>"File or directory" <input type="text" name="path" value=current("path") placeholder="src/"/></label>
                <label>"State"
                    <select name="state">
                        {option("", "any", &current("state"))}
                        {option("open", "open (needs attention)", &current("state"))}
                        {option("closed", "closed", &current("state"))}
                        {option("resolved", "resolved", &current("state"))}
                        {option("wont_fix", "won't fix", &current("state"))}
                        {option("responded", "vendor responded", &current("state"))}
                        {option("accepted", "accepted", &current("state"))}
                        {option("disputed", "disputed", &current("state"))}
                        {option("fixed", "fixed", &current("state"))}
                        {option("withdrawn", "withdrawn", &current("state"))}
                    </select>
                </label>
                <label>"Severity"
                    <select name="severity">
                        {option("", "any", &current("severity"))}
                        {Severity::ALL.iter().map(|s| option(s.as_str(), s.as_str(), &current("severity"))).collect_view()}
                    </select>
                </label>
                <label>"CWE" <input type="text" name="cwe" value=current("cwe") placeholder="CWE-79" size="8"/></label>
                <label>"Kind"
                    <select name="kind">
                        {option("", "any", &current("kind"))}
                        {option("comment", "comments", &current("kind"))}
                        {option("finding", "findings", &current("kind"))}
                        {option("note", "my private notes", &current("kind"))}
                    </select>
                </label>
                <label>"Author"
                    <select name="author">
                        <option value="">"anyone"</option>
                        {authors.into_iter().map(|a| {
                            let selected = a == author_now;
                            view! { <option value=a.clone() selected=selected>{a.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="button">"Filter"</button>
                <a class="button subtle" href=back.clone()>"Clear"</a>
            </form>
            {new_pin_comment}
            <p class="muted">{format!(
                "{} of {} {}.",
                list.matching,
                crate::html::counted(list.total as u64, "thread", "threads"),
                if list.matching == 1 { "matches" } else { "match" }
            )}</p>
            {if list.threads.is_empty() {
                view! { <div class="empty"><h2>"No comments here"</h2><p>"Nothing matches these filters yet."</p></div> }.into_any()
            } else {
                {
                let plain_paths = !list.pin.caps.read_source;
                view! { <Threads threads=list.threads back=back.clone() csrf=list.csrf_token.clone() show_anchor=true plain_paths/> }.into_any()
            }
            }}
            {(pages > 1).then(|| view! {
                <nav class="pager" aria-label="Pages">
                    {(list.page > 1).then(|| view! { <a class="button" href=page_link(list.page - 1)>"Previous"</a> })}
                    <span class="muted">{format!("page {} of {pages}", list.page)}</span>
                    {(list.page < pages).then(|| view! { <a class="button" href=page_link(list.page + 1)>"Next"</a> })}
                </nav>
            })}
        </main>
    }
}
