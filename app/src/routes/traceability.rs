//! Requirements traced to code: each requirement of the pin's list with the regions reviewers
//! tagged with it, their review state, the findings among them and the verdicts' notes on it;
//! untraced requirements first. Staff import the list here.

use crate::api::load_traceability;
use crate::components::layout::{ErrorPanel, Flash, Loading, Page};
use crate::components::review::{SeverityBadge, StateBadge};
use crate::components::time::Time;
use crate::model::{CommentKind, RequirementTrace, Traceability, TracedRegion, VerdictKind};
use crate::routes::tree::PinBar;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// `/pins/{pin}/traceability`.
#[component]
pub fn TraceabilityPage() -> impl IntoView {
    let params = use_params_map();
    let page = Resource::new(move || params.read().get("pin").unwrap_or_default(), load_traceability);
    view! {
        <Page title="Traceability">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <TraceabilityBody page/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

/// A requirement's row's id: `req-` and the requirement's id itself (ids hold no white space), so
/// two requirements never share one.
pub fn requirement_anchor(id: &str) -> String {
    format!("req-{id}")
}

/// The fragment that opens a requirement's row: its anchor with what a fragment (or an attribute)
/// should not hold percent-encoded, which the browser decodes before it looks for the id.
pub fn requirement_fragment(id: &str) -> String {
    const KEPT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'/')
        .remove(b':')
        .remove(b'@')
        .remove(b'(')
        .remove(b')')
        .remove(b'+');
    format!("req-{}", percent_encoding::utf8_percent_encode(id, KEPT))
}

fn names(people: &[String]) -> String {
    if people.is_empty() {
        "nobody".to_string()
    } else {
        people.join(", ")
    }
}

fn region_item(pin: i64, region: &TracedRegion) -> impl IntoView + use<> {
    let place = match region.lines {
        Some(lines) if lines.first == lines.last => format!("{}:{}", region.path, lines.first),
        Some(lines) => format!("{}:{}–{}", region.path, lines.first, lines.last),
        None if region.path.is_root() => "the whole pin".to_string(),
        None => region.path.to_string(),
    };
    let href = if region.path.is_root() {
        format!("/pins/{pin}/comments#thread-{}", region.thread)
    } else {
        let anchor = region.lines.map(|l| format!("#L{}", l.first)).unwrap_or_default();
        format!("/pins/{pin}/blob/{}{anchor}", region.path.url_encoded())
    };
    let shown = region.shown_by.clone();
    let reviewed = region.reviewed_by.clone();
    let state_class = match (shown.is_empty(), reviewed.is_empty()) {
        (_, false) => "trace-state reviewed",
        (false, true) => "trace-state shown",
        (true, true) => "trace-state unseen",
    };
    view! {
        <li class="trace-region">
            <a class="path" href=href>{place}</a>
            " "
            <a class="thread-ref" href=format!("/pins/{pin}/comments#thread-{}", region.thread)>{format!("#{}", region.thread)}</a>
            " "
            {(region.kind == CommentKind::Finding).then(|| view! { <span class="badge kind">"finding"</span> })}
            {region.severity.map(|severity| view! { <SeverityBadge severity/> })}
            <StateBadge state=region.state/>
            <span class="muted small">" by " {region.author.clone()}</span>
            <div class="trace-summary">{region.summary.clone()}</div>
            <div class=state_class>
                "Shown to " {names(&shown)} " · marked reviewed by " {names(&reviewed)}
            </div>
        </li>
    }
}

fn requirement_row(pin: i64, requirement: RequirementTrace) -> impl IntoView + use<> {
    let traced = requirement.traced();
    let findings = match (requirement.findings, requirement.open_findings) {
        (0, _) => "—".to_string(),
        (all, 0) => format!("{all}, none open"),
        (all, open) => format!("{all}, {open} open"),
    };
    let text = requirement.text.clone();
    view! {
        <tr id=requirement_anchor(&requirement.id) class:untraced=!traced>
            <th scope="row" class="requirement">
                <code>{requirement.id.clone()}</code>
                {(!traced).then(|| view! { " " <span class="badge untraced-badge">"untraced"</span> })}
                <div class="requirement-title">{requirement.title.clone()}</div>
                {(!text.is_empty()).then(|| view! {
                    <details class="requirement-text"><summary>"Text"</summary><p>{text}</p></details>
                })}
            </th>
            <td>
                {if traced {
                    view! {
                        <ul class="trace-regions">
                            {requirement.regions.iter().map(|region| region_item(pin, region)).collect_view()}
                        </ul>
                    }.into_any()
                } else {
                    view! { <span class="muted">"No code is traced to this requirement yet."</span> }.into_any()
                }}
            </td>
            <td class="num">{findings}</td>
            <td>
                {if requirement.verdict_notes.is_empty() {
                    view! { <span class="muted">"—"</span> }.into_any()
                } else {
                    view! {
                        <ul class="verdict-notes">
                            {requirement.verdict_notes.iter().map(|note| {
                                let outcome = VerdictKind::parse(&note.outcome).map(|v| v.label()).unwrap_or("verdict");
                                view! {
                                    <li>
                                        <span class="badge">{outcome}</span>
                                        " " {note.reviewer.clone()} " · " <Time ms=note.at_ms/>
                                        <div>{note.note.clone()}</div>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}

#[component]
fn TraceabilityBody(page: Traceability) -> impl IntoView {
    let pin = page.pin.id.get();
    let import = page.can_import.then(|| {
        view! {
            <form method="post" action=format!("/pins/{pin}/requirements") enctype="multipart/form-data" class="card requirements-upload">
                // The token comes before the file, so the server checks it before reading the list.
                <input type="hidden" name="csrf" value=page.csrf_token.clone()/>
                <label>"Requirement list "
                    <input type="file" name="file" required accept=".csv,.json,text/csv,application/json"/>
                </label>
                <button type="submit">"Import"</button>
                <p class="muted small">"CSV with the header " <code>"id,title,text"</code> ", or JSON: an array of " <code>"{id, title, text}"</code> ". It replaces the pin's list; tags on threads stay."</p>
            </form>
        }
    });
    let about = match &page.list {
        Some(list) => view! {
            <p class="muted list-about">
                {format!("List #{} of {} requirements, imported by {} · ", list.id, list.requirements, list.imported_by.clone().unwrap_or_else(|| "the operator".into()))}
                <Time ms=list.imported_at_ms/>
                " · SHA-256 " <code title=list.sha256.clone()>{list.sha256.chars().take(12).collect::<String>()}</code>
            </p>
            <p class="trace-figures">
                <strong>{page.traced}</strong> " traced · " <strong>{page.untraced}</strong> " untraced"
            </p>
        }
        .into_any(),
        None => view! {
            <div class="empty"><p>"No requirement list has been imported for this pin yet. Staff import one here, or with "
                <code>{format!("server requirements import --pin {pin} --file reqs.csv")}</code> "."</p></div>
        }
        .into_any(),
    };
    let table = (!page.requirements.is_empty()).then(|| {
        view! {
            <div class="table-scroll"><table class="grid traceability">
                <caption class="visually-hidden">"Requirements and the code traced to them"</caption>
                <thead><tr>
                    <th scope="col">"Requirement"</th><th scope="col">"Traced regions and their review"</th>
                    <th scope="col" class="num">"Findings"</th><th scope="col">"Verdict notes"</th>
                </tr></thead>
                <tbody>
                    {page.requirements.clone().into_iter().map(|r| requirement_row(pin, r)).collect_view()}
                </tbody>
            </table></div>
        }
    });
    view! {
        <crate::components::layout::PageTitle text=format!("Traceability · {} · Clearroom", page.pin.label)/>
        <PinBar pin=page.pin.clone() current="traceability"/>
        <main class="content">
            <Flash/>
            <h1>"Traceability"</h1>
            <p class="muted">"Each requirement of this pin's list with the code reviewers traced to it (a thread tagged with its id), whether that code was shown to and marked reviewed by a reviewer, the findings against it and the verdicts' notes naming it. Untraced requirements come first."</p>
            {about}
            {import}
            {table}
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differing_only_in_punctuation_have_their_own_rows_and_fragments() {
        assert_ne!(requirement_anchor("A.1"), requirement_anchor("A_1"));
        assert_eq!(requirement_fragment("FCS_COP.1/HASH"), "req-FCS_COP.1/HASH");
        assert_eq!(requirement_fragment("a\"b&c%d#e"), "req-a%22b%26c%25d%23e");
        assert_eq!(requirement_fragment("Ä"), "req-%C3%84");
    }
}
