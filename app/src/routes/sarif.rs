//! Imported tool results: a pin's SARIF logs with their triage counts per log and per tool and
//! rule (the false-positive rate), the upload form, and one log's results, each with where it is
//! in the pin and its triage form.

use crate::api::{load_sarif, load_sarif_results};
use crate::components::layout::{ErrorPanel, Flash, Loading, Page};
use crate::components::time::Time;
use crate::html::thousands;
use crate::model::{
    RepoPath, SarifFilter, SarifLogsPage, SarifResults, ToolResultView, Triage, TriageCounts, SARIF_PAGE,
};
use crate::routes::tree::PinBar;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// `/pins/{pin}/sarif`: the pin's imported logs.
#[component]
pub fn SarifPage() -> impl IntoView {
    let params = use_params_map();
    let page = Resource::new(move || params.read().get("pin").unwrap_or_default(), load_sarif);
    view! {
        <Page title="Tool results">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <LogsBody page/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

fn rate(counts: &TriageCounts) -> String {
    // False positives among the triaged results.
    let triaged = counts.confirmed + counts.false_positive + counts.not_useful;
    if triaged == 0 {
        "—".to_string()
    } else {
        crate::html::percent(counts.false_positive, triaged)
    }
}

fn count_cells(counts: &TriageCounts) -> impl IntoView + use<> {
    view! {
        <td class="num">{thousands(counts.untriaged)}</td>
        <td class="num">{thousands(counts.confirmed)}</td>
        <td class="num">{thousands(counts.false_positive)}</td>
        <td class="num">{thousands(counts.not_useful)}</td>
    }
}

#[component]
fn LogsBody(page: SarifLogsPage) -> impl IntoView {
    let pin = page.pin.id;
    let upload = page.can_import.then(|| {
        view! {
            <form method="post" action=format!("/pins/{pin}/sarif") enctype="multipart/form-data" class="card sarif-upload">
                // The token comes before the file, so the server checks it before reading the log.
                <input type="hidden" name="csrf" value=page.csrf_token.clone()/>
                <label>"SARIF 2.1.0 log from your tool "
                    <input type="file" name="file" required accept=".sarif,.json,application/json,application/sarif+json"/>
                </label>
                <button type="submit">"Import"</button>
                <p class="muted small">"At most 128 MiB. Results at files of this pin you may read are placed on their lines; the rest are counted and listed with the reason."</p>
            </form>
        }
    });
    let logs = page.logs.logs.clone();
    let table = if logs.is_empty() {
        view! { <div class="empty"><p>"No tool results have been imported for this pin yet."</p></div> }.into_any()
    } else {
        view! {
            <div class="table-scroll"><table class="grid sarif-logs">
                <caption class="visually-hidden">"Imported logs"</caption>
                <thead><tr>
                    <th scope="col">"Log"</th><th scope="col">"Tool"</th><th scope="col">"Imported"</th>
                    <th scope="col" class="num">"Results"</th><th scope="col" class="num">"Outside"</th>
                    <th scope="col" class="num">"Untriaged"</th><th scope="col" class="num">"Confirmed"</th>
                    <th scope="col" class="num">"False positive"</th><th scope="col" class="num">"Not useful"</th>
                </tr></thead>
                <tbody>
                    {logs.into_iter().map(|log| view! {
                        <tr>
                            <td><a href=format!("/pins/{pin}/sarif/{}", log.id)>{format!("#{}", log.id)}</a></td>
                            <td>{log.tools.join(", ")}</td>
                            <td>{log.uploaded_by.clone()} " · " <Time ms=log.uploaded_at_ms/></td>
                            <td class="num">{thousands(log.results)}</td>
                            <td class="num">{thousands(log.outside)}</td>
                            {count_cells(&log.counts)}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></div>
        }
        .into_any()
    };
    let rules = page.logs.rules.clone();
    let rules_table = (!rules.is_empty()).then(|| {
        view! {
            <h2>"By tool and rule"</h2>
            <div class="table-scroll"><table class="grid sarif-rules">
                <caption class="visually-hidden">"Triage per tool and rule"</caption>
                <thead><tr>
                    <th scope="col">"Tool"</th><th scope="col">"Rule"</th>
                    <th scope="col" class="num">"Untriaged"</th><th scope="col" class="num">"Confirmed"</th>
                    <th scope="col" class="num">"False positive"</th><th scope="col" class="num">"Not useful"</th>
                    <th scope="col" class="num" title="False positives among the triaged results">"False-positive rate"</th>
                </tr></thead>
                <tbody>
                    {rules.into_iter().map(|rule| view! {
                        <tr>
                            <td>{rule.tool.clone()}</td>
                            <td><code>{rule.rule_id.clone()}</code></td>
                            {count_cells(&rule.counts)}
                            <td class="num">{rate(&rule.counts)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></div>
        }
    });
    view! {
        <crate::components::layout::PageTitle text=format!("Tool results · {} · Clearroom", page.pin.label)/>
        <PinBar pin=page.pin.clone() current="sarif"/>
        <main class="content narrow">
            <Flash/>
            <h1>"Tool results"</h1>
            <p class="muted">"SARIF logs reviewers imported from their own tools. Each result can be confirmed (it becomes a finding), or marked a false positive or not useful, with a reason."</p>
            {upload}
            {table}
            {rules_table}
        </main>
    }
}

/// `/pins/{pin}/sarif/{log}`: one log's results.
#[component]
pub fn SarifLogPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let (p, q) = (params.read(), query.read());
        let filter = SarifFilter {
            state: q.get("state"),
            rule: q.get("rule"),
            level: q.get("level"),
            page: q.get("page").and_then(|p| p.parse().ok()),
        };
        (p.get("pin").unwrap_or_default(), p.get("log").unwrap_or_default(), filter)
    };
    let view = Resource::new(key, |(pin, log, filter)| load_sarif_results(pin, log, filter));
    view! {
        <Page title="Tool log">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(view) => view! { <LogBody view/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

fn level_badge(level: &str) -> impl IntoView + use<> {
    view! { <span class=format!("badge level level-{level}")>{level.to_string()}</span> }
}

fn lines_text(result: &ToolResultView) -> String {
    match (result.start_line, result.end_line) {
        (Some(first), Some(last)) if last > first => format!(":{first}–{last}"),
        (Some(first), _) => format!(":{first}"),
        _ => String::new(),
    }
}

/// Where a placed result is, linked to its line.
fn place_link(pin: i64, result: &ToolResultView) -> impl IntoView + use<> {
    let path = result.path.clone().unwrap_or_default();
    let anchor = result.start_line.map(|line| format!("#L{line}")).unwrap_or_default();
    let href =
        format!("/pins/{pin}/blob/{}{anchor}", RepoPath::parse(&path).map(|p| p.url_encoded()).unwrap_or_default());
    view! { <a class="path" href=href>{format!("{path}{}", lines_text(result))}</a> }
}

fn triage_form(pin: i64, result: &ToolResultView, csrf: &str, back: &str) -> impl IntoView + use<> {
    let action = format!("/pins/{pin}/sarif/{}/results/{}/triage", result.log, result.index);
    let id = format!("triage-{}-{}", result.log, result.index);
    view! {
        <form method="post" action=action class="triage-form" aria-label=format!("Triage result {}", result.index)>
            <input type="hidden" name="csrf" value=csrf.to_string()/>
            <input type="hidden" name="back" value=back.to_string()/>
            <select name="state" aria-label="Triage" id=format!("{id}-state") required>
                <option value="" selected disabled>"Triage as…"</option>
                {Triage::ALL.into_iter().map(|t| view! { <option value=t.as_str()>{t.label()}</option> }).collect_view()}
            </select>
            <select name="severity" aria-label="Severity of the finding (confirmed)" title="Severity of the finding, when confirmed">
                <option value="">"Severity by level"</option>
                {["critical", "high", "medium", "low", "info"].into_iter().map(|s| view! { <option value=s>{s}</option> }).collect_view()}
            </select>
            <input type="text" name="reason" maxlength="2000" placeholder="Why" aria-label="Reason"/>
            <button type="submit" class="small">"Triage"</button>
        </form>
    }
}

#[component]
fn LogBody(view: SarifResults) -> impl IntoView {
    let pin = view.pin.id.get();
    let log = view.log.clone();
    let back = format!("/pins/{pin}/sarif/{}", log.id);
    let csrf = view.csrf_token.clone();
    let results = view
        .results
        .iter()
        .map(|result| {
            let triage = match &result.triage {
                Some(t) => {
                    let finding = t.finding.map(|id| {
                        view! { " · " <a href=format!("/pins/{pin}/comments#thread-{id}")>{format!("finding #{id}")}</a> }
                    });
                    Some(view! {
                        <p class="triage muted">
                            <span class=format!("badge triage-{}", t.state.as_str())>{t.state.label()}</span>
                            " by " {t.by.clone()} " · " <Time ms=t.at_ms/> {finding}
                            {(!t.reason.is_empty()).then(|| view! { <span class="reason">{format!(" — {}", t.reason)}</span> })}
                        </p>
                    })
                }
                None => None,
            };
            let confirmed = result.triage.as_ref().is_some_and(|t| t.state == Triage::Confirmed);
            let form = (view.can_triage && !confirmed).then(|| triage_form(pin, result, &csrf, &back));
            let cwe = result.cwe.iter().map(|w| view! { <span class="badge cwe" title=w.name.clone()>{format!("CWE-{}", w.id)}</span> }).collect_view();
            view! {
                <li class="tool-result" id=format!("result-{}", result.index)>
                    <div class="result-line">
                        {level_badge(&result.level)}
                        <code class="rule" title=result.rule_name.clone().unwrap_or_default()>{result.rule_id.clone()}</code>
                        {cwe}
                        {place_link(pin, result)}
                    </div>
                    <p class="result-message">{result.message.clone()}</p>
                    {triage}
                    {form}
                </li>
            }
        })
        .collect_view();
    // The filter as asked, kept by the filter form and the pages' links.
    let query = use_query_map();
    let asked = move |key: &str| query.read_untracked().get(key).unwrap_or_default();
    let (state, level, rule) = (asked("state"), asked("level"), asked("rule"));
    let kept: String = [("state", &state), ("level", &level), ("rule", &rule)]
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| {
            format!("&{key}={}", percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC))
        })
        .collect();
    let pages = (view.matching as usize).div_ceil(SARIF_PAGE).max(1) as u32;
    let page_link = move |page: u32| format!("/pins/{pin}/sarif/{}?page={page}{kept}", log.id);
    let pager = (pages > 1).then(|| {
        view! {
            <nav class="pager" aria-label="Pages of results">
                {(view.page > 1).then(|| view! { <a href=page_link(view.page - 1) rel="prev">"← Previous"</a> })}
                <span>{format!("Page {} of {}", view.page, pages)}</span>
                {(view.page < pages).then(|| view! { <a href=page_link(view.page + 1) rel="next">"Next →"</a> })}
            </nav>
        }
    });
    let outside = (!view.outside.is_empty()).then(|| {
        view! {
            <details class="sarif-outside">
                <summary>{format!("{} results not placed in the pin", thousands(view.log.outside))}</summary>
                <ul>
                    {view.outside.iter().map(|r| view! {
                        <li><code>{r.uri.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| "(no location)".into())}{lines_text(r)}</code>
                            " — " {r.outside.clone().unwrap_or_default()} " · " <code>{r.rule_id.clone()}</code></li>
                    }).collect_view()}
                </ul>
            </details>
        }
    });
    let counts = &view.log.counts;
    view! {
        <crate::components::layout::PageTitle text=format!("Tool log #{} · {} · Clearroom", view.log.id, view.pin.label)/>
        <PinBar pin=view.pin.clone() current="sarif"/>
        <main class="content narrow">
            <Flash/>
            <p><a href=format!("/pins/{pin}/sarif")>"← All tool results"</a></p>
            <h1>{format!("Log #{} · {}", view.log.id, view.log.tools.join(", "))}</h1>
            <p class="muted">
                "Imported by " {view.log.uploaded_by.clone()} " · " <Time ms=view.log.uploaded_at_ms/>
                {format!(" · {} results, {} placed · SHA-256 ", thousands(view.log.results), thousands(view.log.placed))}
                <code class="hash">{view.log.sha256.clone()}</code>
            </p>
            <p class="sarif-counts">
                {format!("{} untriaged · {} confirmed · {} false positive · {} not useful · false-positive rate {}",
                    thousands(counts.untriaged), thousands(counts.confirmed), thousands(counts.false_positive),
                    thousands(counts.not_useful), rate(counts))}
            </p>
            <form method="get" action=back.clone() class="filters" role="search">
                <label>"Triage "
                    <select name="state">
                        <option value="">"Any"</option>
                        <option value="untriaged" selected=state == "untriaged">"Untriaged"</option>
                        {Triage::ALL.into_iter().map(|t| view! { <option value=t.as_str() selected=state == t.as_str()>{t.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Level "
                    <select name="level">
                        <option value="">"Any"</option>
                        {["error", "warning", "note", "none"].into_iter().map(|l| view! { <option value=l selected=level == l>{l}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Rule " <input type="text" name="rule" size="16" value=rule.clone()/></label>
                <button type="submit" class="small">"Filter"</button>
            </form>
            <p class="muted">{format!("{} results match", thousands(view.matching))}</p>
            <ul class="tool-results">{results}</ul>
            {pager}
            {outside}
        </main>
    }
}
