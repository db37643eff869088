//! A pin's verdicts: each reviewer's conclusion with the commit, coverage, open findings and
//! binaries it was bound to; superseded ones kept and marked; the form for a new one.

use crate::api::verdicts;
use crate::components::layout::{ErrorPanel, Flash, Loading, Page};
use crate::components::review::SeverityBadge;
use crate::components::time::Time;
use crate::model::{VerdictKind, VerdictPage, VerdictView};
use crate::routes::tree::PinBar;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn VerdictsPage() -> impl IntoView {
    let params = use_params_map();
    let page = Resource::new(move || params.read().get("pin").unwrap_or_default(), verdicts);
    view! {
        <Page title="Verdicts">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <VerdictsBody page/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn Verdict(verdict: VerdictView) -> impl IntoView {
    let class = format!("verdict verdict-{}", verdict.verdict.as_str());
    let coverage = verdict.coverage;
    view! {
        <article class=class class:superseded=verdict.superseded id=format!("verdict-{}", verdict.id)>
            <header class="thread-header">
                <span class="strong">{verdict.reviewer.clone()}</span>
                <span class=format!("badge verdict-badge verdict-{}", verdict.verdict.as_str())>{verdict.verdict.label()}</span>
                <Time ms=verdict.created_at_ms/>
                {verdict.superseded.then(|| view! { <span class="badge">"superseded by a later verdict"</span> })}
            </header>
            <p class="verdict-summary">{verdict.summary.clone()}</p>
            <dl class="facts">
                <dt>"Commit"</dt><dd><code class="commit">{verdict.commit_id.clone()}</code></dd>
                <dt>"Coverage then"</dt>
                <dd>{format!("shown {} of {} files; reviewed {}; carried {}", coverage.shown.files, coverage.total.files, coverage.reviewed.files, coverage.carried.files)}</dd>
                <dt>"Open findings then"</dt>
                <dd>
                    {if verdict.open_findings.is_empty() {
                        view! { <span>"none"</span> }.into_any()
                    } else {
                        verdict.open_findings.into_iter().map(|f| view! {
                            <span class="finding-ref"><SeverityBadge severity=f.severity/>{format!(" #{} {}", f.id, f.path)}</span>
                        }).collect_view().into_any()
                    }}
                </dd>
                <dt>"Binaries then"</dt>
                <dd>
                    {if verdict.binaries.is_empty() {
                        view! { <span>"none recorded"</span> }.into_any()
                    } else {
                        verdict.binaries.into_iter().map(|b| view! { <div><code class="hash">{format!("{}  {}", b.sha256, b.name)}</code></div> }).collect_view().into_any()
                    }}
                </dd>
            </dl>
        </article>
    }
}

#[component]
fn VerdictsBody(page: VerdictPage) -> impl IntoView {
    let pin = page.pin.id;
    let form = page.can_submit.then(|| {
        view! {
            <section class="panel" aria-label="Give a verdict">
                <h2>"Give your verdict"</h2>
                <p class="muted">
                    {format!(
                        "It will record commit {}, your coverage now, {} and {}. A later verdict supersedes it; none is ever edited.",
                        page.pin.commit_id,
                        crate::html::counted(page.open_findings.len() as u64, "open finding", "open findings"),
                        crate::html::counted(page.binaries.len() as u64, "recorded binary", "recorded binaries")
                    )}
                </p>
                {(!page.pin.mismatches.is_empty()).then(|| view! {
                    <p class="notice notice-error" role="alert">
                        {format!("Builders disagree on {}: the binaries this verdict binds are not reproducible. ", page.pin.mismatches.join(", "))}
                        <a href=format!("/pins/{pin}/builds")>"See the builds"</a>
                    </p>
                })}
                <form method="post" action=format!("/pins/{pin}/verdicts") class="stack">
                    <input type="hidden" name="csrf" value=page.csrf_token.clone()/>
                    <fieldset class="choices">
                        <legend>"Verdict"</legend>
                        {[VerdictKind::NoObjection, VerdictKind::Concerns, VerdictKind::Objection].into_iter().map(|v| view! {
                            <label class="check"><input type="radio" name="verdict" value=v.as_str() required/>{format!(" {}", v.label())}</label>
                        }).collect_view()}
                    </fieldset>
                    <label>"Summary" <textarea name="summary" rows="5" required></textarea></label>
                    <div><button type="submit" class="button primary">"Submit verdict"</button></div>
                </form>
            </section>
        }
    });
    view! {
        <PinBar pin=page.pin.clone() current="verdicts"/>
        <main class="content narrow">
            <Flash/>
            <h1>{format!("Verdicts on {}", page.pin.label)}</h1>
            {form}
            {if page.verdicts.is_empty() {
                view! { <div class="empty"><h2>"No verdict yet"</h2><p>"Reviewers give their verdict here when they are done."</p></div> }.into_any()
            } else {
                page.verdicts.into_iter().rev().map(|verdict| view! { <Verdict verdict/> }).collect_view().into_any()
            }}
        </main>
    }
}
