//! The audit log for staff and regulators: filters, newest first, paged.

use crate::api::audit_log;
use crate::components::layout::{ErrorPanel, Loading, Page};
use crate::components::time::Time;
use crate::model::{AuditPage as Page_, AuditQuery};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

const PAGE_SIZE: u32 = 50;

/// Reads `2026-11-28` or `2026-11-28T10:00` (UTC) into milliseconds.
fn parse_time(text: &str, end_of_day: bool) -> Option<i64> {
    use time::macros::format_description;
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(at) = time::PrimitiveDateTime::parse(text, &format_description!("[year]-[month]-[day]T[hour]:[minute]")) {
        return Some((at.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let day = time::Date::parse(text, &format_description!("[year]-[month]-[day]")).ok()?;
    let at = if end_of_day { day.with_hms_milli(23, 59, 59, 999).ok()? } else { day.midnight() };
    Some((at.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64)
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    // A filter that does not parse is said, next to the form, instead of being dropped (which
    // would list events the reader did not ask for).
    let filters = move || {
        let q = query.read();
        let text = |k: &str| q.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let mut problems = Vec::new();
        let mut number = |key: &str, what: &'static str| {
            let value = text(key)?;
            let parsed = value.parse::<i64>().ok().filter(|n| *n >= 0);
            if parsed.is_none() {
                problems.push(format!("“{value}” is not {what}"));
            }
            parsed
        };
        let pin = number("pin", "a pin number");
        let before = number("before", "an event number");
        let mut time = |key: &str, end: bool| {
            let value = text(key)?;
            let parsed = parse_time(&value, end);
            if parsed.is_none() {
                problems.push(format!("“{value}” is not a date (2026-11-28)"));
            }
            parsed
        };
        let from_ms = time("from", false);
        let until_ms = time("until", true);
        let query = AuditQuery {
            actor: text("actor"),
            pin,
            action: text("action"),
            from_ms,
            until_ms,
            before,
            limit: PAGE_SIZE,
        };
        if problems.is_empty() {
            Ok(query)
        } else {
            Err(problems.join("; "))
        }
    };
    let raw = move |key: &'static str| query.read().get(key).unwrap_or_default();
    let page = Resource::new(filters, |filters| async move {
        match filters {
            Ok(query) => audit_log(query).await.map(Ok),
            Err(problem) => Ok(Err(problem)),
        }
    });
    view! {
        <Page title="Audit log">
            <main class="content">
                <h1>"Audit log"</h1>
                <form method="get" action="/audit" class="filters">
                    <label>"Actor" <input name="actor" value=move || raw("actor")/></label>
                    <label>"Pin" <input name="pin" inputmode="numeric" size="6" value=move || raw("pin")/></label>
                    <label>"Action" <input name="action" list="actions" value=move || raw("action")/></label>
                    <datalist id="actions">
                        {["auth.login", "auth.login_failed", "auth.logout", "tree.view", "blob.view", "access.denied", "user.create", "repo.import", "pin.create", "grant.create", "grant.revoke", "token.create", "log.read"]
                            .into_iter()
                            .map(|a| view! { <option value=a></option> })
                            .collect_view()}
                    </datalist>
                    <label>"From (UTC)" <input name="from" type="date" value=move || raw("from")/></label>
                    <label>"Until (UTC)" <input name="until" type="date" value=move || raw("until")/></label>
                    <button type="submit" class="button">"Filter"</button>
                    <a href="/audit" class="button subtle">"Clear"</a>
                </form>
                <Suspense fallback=Loading>
                    {move || Suspend::new(async move {
                        match page.await {
                            Ok(Ok(page)) => view! { <AuditTable page/> }.into_any(),
                            Ok(Err(problem)) => view! {
                                <p class="field-error" id="audit-filter-error" role="alert">{format!("No events listed: {problem}.")}</p>
                            }.into_any(),
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </main>
        </Page>
    }
}

#[component]
fn AuditTable(page: Page_) -> impl IntoView {
    let query = use_query_map();
    let older = page.next_before.map(|before| {
        let mut pairs: Vec<(String, String)> = query
            .get_untracked()
            .into_iter()
            .filter(|(k, _)| k != "before")
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        pairs.push(("before".into(), before.to_string()));
        let encoded: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{}={}", encode(&k), encode(&v))).collect();
        format!("/audit?{}", encoded.join("&"))
    });
    if page.entries.is_empty() {
        return view! {
            <div class="empty">
                <h2>"No events match"</h2>
                <p>"Change or clear the filters to see more of the log."</p>
            </div>
        }
        .into_any();
    }
    let rows = page
        .entries
        .into_iter()
        .map(|e| {
            let outcome_class = format!("outcome outcome-{}", e.outcome);
            // Every path the event names: a search's results name many.
            let shown_paths = e.paths.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
            let more = e.paths.len().saturating_sub(5);
            let paths = if more > 0 { format!("{shown_paths} and {more} more") } else { shown_paths };
            view! {
                <tr>
                    <td class="num">{e.index}</td>
                    <td><Time ms=e.recorded_at_ms/></td>
                    <td>{e.actor.clone().unwrap_or_else(|| "—".into())}</td>
                    <td><code>{e.action.clone()}</code></td>
                    <td class=outcome_class>{e.outcome.clone()}</td>
                    <td>{e.pin.map(|p| p.to_string())}</td>
                    <td class="path" title=e.paths.join("\n")>{paths}</td>
                    <td>
                        <details>
                            <summary><code class="hash">{e.leaf_hash[..16].to_string()}"…"</code></summary>
                            <pre class="leaf">{e.leaf_formatted.clone()}</pre>
                            <p class="muted">"Indented to read; the leaf hash is over the exact bytes: " <code>{e.leaf_hash.clone()}</code></p>
                            <p>
                                <a href=format!("/api/v1/log/entries/{}/proof", e.index) download>
                                    "Download inclusion proof (tlog-proof)"
                                </a>
                            </p>
                        </details>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="muted audit-count">
            {if page.matching == page.log_size {
                format!("All {} of the log. Newest first.", crate::html::counted(page.log_size as u64, "event", "events"))
            } else {
                format!(
                    "{} match, of {} in the log. Newest first.",
                    crate::html::counted(page.matching as u64, "event", "events"),
                    crate::html::thousands(page.log_size as u64)
                )
            }}
        </p>
        <table class="grid audit">
            <thead>
                <tr>
                    <th>"#"</th>
                    <th>"Time"</th>
                    <th>"Actor"</th>
                    <th>"Action"</th>
                    <th>"Outcome"</th>
                    <th>"Pin"</th>
                    <th>"Path"</th>
                    <th>"Event"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <nav class="pager">
            <a href="/audit" class="button subtle">"Newest"</a>
            {older.map(|href| view! { <a href=href class="button">"Older →"</a> })}
        </nav>
    }
    .into_any()
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
