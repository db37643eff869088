//! The pins the signed-in person may browse.

use crate::api::{list_pins, my_progress, my_threads, open_releases};
use crate::components::layout::{ErrorPanel, Loading, Page};
use crate::components::review::{thread_link, SeverityBadge, StateBadge};
use crate::components::time::Time;
use crate::html::{counted, percent};
use crate::model::{CommentKind, OpenRelease, PinProgress, PinSummary, Thread};
use leptos::prelude::*;

#[component]
pub fn Home() -> impl IntoView {
    let pins = Resource::new(|| (), |_| async { (list_pins().await, my_progress().await.unwrap_or_default()) });
    let threads = Resource::new(|| (), |_| my_threads());
    let releases = Resource::new(|| (), |_| open_releases());
    view! {
        <Page title="Pins">
            <main class="content narrow">
                <h1>"Pinned revisions"</h1>
                <p class="muted">
                    "Each pin is one immutable commit. What you open here is recorded in the audit log."
                </p>
                <Suspense fallback=Loading>
                    {move || Suspend::new(async move {
                        let (pins, progress) = pins.await;
                        // My open findings by pin, for each pin's row.
                        let findings: Vec<(i64, usize)> = match threads.await {
                            Ok(threads) => {
                                let mut by_pin = std::collections::BTreeMap::new();
                                for t in threads.iter().filter(|t| t.kind == CommentKind::Finding && t.state.is_open()) {
                                    *by_pin.entry(t.pin.get()).or_insert(0) += 1;
                                }
                                by_pin.into_iter().collect()
                            }
                            Err(_) => Vec::new(),
                        };
                        match pins {
                            Ok(pins) if pins.is_empty() => {
                                view! {
                                    <div class="empty">
                                        <h2>"No pins to show"</h2>
                                        <p>
                                            "There is no pin you may open now: no access grant is active. Ask the centre's staff for one; access starts and ends at the times they set."
                                        </p>
                                    </div>
                                }
                                    .into_any()
                            }
                            Ok(pins) => view! { <PinTable pins progress findings/> }.into_any(),
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })}
                </Suspense>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match releases.await {
                            Ok(releases) if !releases.is_empty() => Some(view! { <OpenReleases releases/> }),
                            _ => None,
                        }
                    })}
                </Suspense>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match threads.await {
                            Ok(threads) if !threads.is_empty() => Some(view! { <MyThreads threads/> }),
                            _ => None,
                        }
                    })}
                </Suspense>
            </main>
        </Page>
    }
}

/// The releases not yet authorised, and which wait for the signed-in supervisor's decision.
#[component]
fn OpenReleases(releases: Vec<OpenRelease>) -> impl IntoView {
    let yours = releases.iter().filter(|r| r.yours).count();
    view! {
        <section class="panel open-releases" aria-labelledby="open-releases-heading">
            <h2 id="open-releases-heading">"Releases in progress"</h2>
            {(yours > 0).then(|| view! {
                <p class="notice notice-warn" role="status">{format!("{} for your decision.", counted(yours as u64, "release waits", "releases wait"))}</p>
            })}
            <table class="grid">
                <thead><tr><th scope="col">"Release"</th><th scope="col">"Pin"</th><th scope="col">"State"</th><th scope="col">"Waiting for"</th></tr></thead>
                <tbody>
                    {releases.into_iter().map(|open| {
                        let r = open.release;
                        let unmet: Vec<String> = r.rules.iter().filter(|rule| !rule.met).map(|rule| rule.rule.clone()).collect();
                        view! {
                            <tr>
                                <td><a href=format!("/pins/{}/releases#release-{}", r.pin_id, r.id)>{format!("{} {}", r.repository, r.version)}</a></td>
                                <td>{r.pin_label.clone()}</td>
                                <td>
                                    <span class=format!("badge release-state state-{}", r.state.as_str())>{r.state.as_str()}</span>
                                    {open.yours.then(|| view! { <span class="badge badge-yours">"your decision"</span> })}
                                </td>
                                <td>{if unmet.is_empty() { "nothing".to_string() } else { unmet.join(", ") }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// The threads the signed-in person started, with where they are and how they stand.
#[component]
fn MyThreads(threads: Vec<Thread>) -> impl IntoView {
    view! {
        <section class="panel my-threads" aria-label="Your comments">
            <h2>"Your comments and findings"</h2>
            <table class="grid">
                <thead><tr><th scope="col">"Where"</th><th scope="col">"What"</th><th scope="col">"State"</th><th scope="col">"Replies"</th><th scope="col">"When"</th></tr></thead>
                <tbody>
                    {threads.into_iter().map(|thread| {
                        let href = thread_link(&thread);
                        let place = if thread.path.is_root() { thread.pin_label.clone() } else { format!("{} · {}", thread.pin_label, thread.path) };
                        // Rendered as in the thread (the server's sanitised Markdown), cut to two lines.
                        let body = thread.root.current().body_html.clone();
                        view! {
                            <tr>
                                <td class="path"><a href=href>{place}</a></td>
                                <td>
                                    {thread.severity.map(|severity| view! { <SeverityBadge severity/> })}
                                    {(thread.kind == crate::model::CommentKind::Note).then(|| view! { <span class="badge">"private note"</span> })}
                                    <div class="comment-body markdown excerpt" inner_html=body></div>
                                </td>
                                <td><StateBadge state=thread.state/></td>
                                <td class="num">{thread.replies.len()}</td>
                                <td><Time ms=thread.root.created_at_ms/></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// A reviewer's progress at a pin in a few words: the share reviewed, their open findings, and
/// the next file to review.
fn progress_cell(pin: &PinSummary, progress: &PinProgress, open_findings: usize) -> impl IntoView {
    let next = progress.next_unreviewed.clone().map(|path| {
        let href = crate::model::RepoPath::parse(&path)
            .map(|p| format!("/pins/{}/blob/{}", pin.id, p.url_encoded()))
            .unwrap_or_default();
        view! { <span class="next-file">"Next: "<a href=href class="path">{path}</a></span> }
    });
    let findings = format!("{} of yours", counted(open_findings as u64, "open finding", "open findings"));
    view! {
        <div class="pin-progress">
            <progress max=progress.total.lines.max(1).to_string() value=progress.reviewed.lines.to_string() aria-label=format!("Reviewed of {}", pin.label)></progress>
            <span>{if progress.total.files == 0 {
                // The pin's file index is still being built (a pin made moments ago).
                "Its files are being indexed; progress shows once they are".to_string()
            } else {
                format!(
                    "Reviewed {} of the lines ({} of {})",
                    percent(progress.reviewed.lines, progress.total.lines),
                    progress.reviewed.files,
                    counted(progress.total.files, "file", "files")
                )
            }}</span>
            <a href=format!("/pins/{}/comments?kind=finding", pin.id) class="muted">{findings}</a>
            {next}
        </div>
    }
}

#[component]
pub fn PinTable(
    pins: Vec<PinSummary>,
    #[prop(optional)] progress: Vec<PinProgress>,
    #[prop(optional)] findings: Vec<(i64, usize)>,
) -> impl IntoView {
    let rows = pins
        .into_iter()
        .map(|pin| {
            let open_findings = findings.iter().find(|(id, _)| *id == pin.id.get()).map_or(0, |(_, n)| *n);
            let mine = progress.iter().find(|p| p.pin == pin.id).map(|p| progress_cell(&pin, p, open_findings));
            let href = crate::routes::tree::pin_home(&pin);
            // The review records one may read, linked from here (a regulator's way in).
            let records = pin.caps.read_review.then(|| {
                let id = pin.id;
                view! {
                    <nav class="pin-records" aria-label=format!("Review records of {}", pin.label)>
                        <a href=format!("/pins/{id}/comments")>"Comments"</a>
                        <a href=format!("/pins/{id}/coverage")>"Coverage"</a>
                        <a href=format!("/pins/{id}/verdicts")>"Verdicts"</a>
                        <a href=format!("/pins/{id}/builds")>"Builds"</a>
                        {pin.caps.export.then(|| view! { <a href="/exports">"Exports"</a> })}
                    </nav>
                }
            });
            let short = pin.commit_id.chars().take(12).collect::<String>();
            view! {
                <tr>
                    <td>
                        <a href=href class="strong">{pin.label.clone()}</a>
                        {pin.withdrawn.then(|| view! { <span class="badge">"withdrawn"</span> })}
                        {records}
                        {mine}
                    </td>
                    <td>{pin.repository.clone()}</td>
                    <td>
                        <code title=pin.commit_id.clone()>{short}</code>
                    </td>
                    <td>
                        <Time ms=pin.pinned_at_ms/>
                    </td>
                    <td>
                        {match pin.access_ends_ms {
                            Some(ms) => view! { <Time ms/> }.into_any(),
                            None => view! { <span class="muted">"—"</span> }.into_any(),
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="grid">
            <thead>
                <tr>
                    <th scope="col">"Pin"</th>
                    <th scope="col">"Repository"</th>
                    <th scope="col">"Commit"</th>
                    <th scope="col">"Pinned"</th>
                    <th scope="col">"Your access ends"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
