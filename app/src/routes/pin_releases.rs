//! A pin's releases (staff, regulators, supervisors): the repository's release policy in words,
//! each release newest first with its artifacts, every rule met or unmet with its reason, and the
//! supervisors' decisions; the form staff propose a release with (the artifacts recorded for the
//! pin offered), and the form a supervisor records the file they signed offline with.

use crate::api::pin_releases;
use crate::components::layout::{kept_form, ErrorPanel, Flash, FormOutcome, Loading, Page};
use crate::components::time::Time;
use crate::model::{PinReleasesPage, RecordedArtifact, ReleasePolicyView, ReleaseState, ReleaseView};
use crate::routes::tree::PinBar;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn PinReleasesRoute() -> impl IntoView {
    let params = use_params_map();
    let page = Resource::new(move || params.read().get("pin").unwrap_or_default(), pin_releases);
    view! {
        <Page title="Releases">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <ReleasesBody page/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn ReleasesBody(page: PinReleasesPage) -> impl IntoView {
    let pin = page.pin.id;
    let propose = page.can_propose.then(|| {
        let needed = page.policy.as_ref().map_or(1, |p| p.policy.reproduced_by.max(1));
        view! { <ProposeForm pin=pin.get() recorded=page.recorded.clone() needed has_policy=page.policy.is_some() csrf=page.csrf_token.clone()/> }
    });
    let releases = if page.releases.is_empty() {
        view! { <div class="empty"><h2>"No release proposed yet"</h2><p>"Staff propose a release of this pin when its artifacts are built and reviewed."</p></div> }.into_any()
    } else {
        let (supervisor, csrf) = (page.supervisor.clone(), page.csrf_token.clone());
        page.releases
            .into_iter()
            .map(|release| view! { <Release release supervisor=supervisor.clone() csrf=csrf.clone()/> })
            .collect_view()
            .into_any()
    };
    view! {
        <PinBar pin=page.pin.clone() current="releases"/>
        <main class="content narrow">
            <Flash/>
            <h1>{format!("Releases of {}", page.pin.label)}</h1>
            <p class="muted">
                "A release is authorised when its dossier meets the repository's policy and the supervisors it names sign it, offline, with their own keys. "
                "Authorised releases go to the " <a href="/releases">"public log"</a> ", where anyone can check a file against them."
            </p>
            <Policy policy=page.policy/>
            {propose}
            {releases}
        </main>
    }
}

/// The repository's policy, rule by rule in words.
#[component]
fn Policy(policy: Option<ReleasePolicyView>) -> impl IntoView {
    let Some(view) = policy else {
        return view! {
            <section class="panel" aria-labelledby="policy-heading">
                <h2 id="policy-heading">"Release policy"</h2>
                <p>"This repository has no release policy, so no release of it can be proposed. Staff set one with "
                   <code>"server release policy set --repo REPO --file policy.toml"</code> " (see docs/releases.md)."</p>
            </section>
        }
        .into_any();
    };
    let p = &view.policy;
    let mut rules = vec![match (p.reproduced_by, p.reproduced_in_room) {
        (0, false) => "no reproduction asked".to_string(),
        (n, room) => format!(
            "each artifact built with the same SHA-256 by {n} distinct builder account(s){}",
            if room { ", one of them the room" } else { "" }
        ),
    }];
    if let Some(n) = p.verdicts_no_objection {
        rules.push(format!("at least {n} \"no objection\" verdict(s), and no objection"));
    }
    if let Some(severity) = p.max_open_findings_at {
        rules.push(format!("no open finding of severity {} or above", severity.as_str()));
    }
    if let Some(percent) = p.compiled_reviewed_percent {
        rules.push(format!("at least {percent}% of each artifact's compiled lines reviewed"));
    }
    rules.push(format!("{} of the supervisors {} sign", p.supervisors.quorum, p.supervisors.names.join(", ")));
    view! {
        <section class="panel" aria-labelledby="policy-heading" id="policy">
            <h2 id="policy-heading">"Release policy"</h2>
            <ul class="policy-rules">{rules.into_iter().map(|rule| view! { <li>{rule}</li> }).collect_view()}</ul>
            <p class="muted">
                {format!("Reviewer names {} in the public log. Set ", if p.reviewer_names_public { "appear" } else { "do not appear" })}
                {view.set_by.clone().map(|by| format!("by {by} "))}
                <Time ms=view.set_at_ms/>
                "; digest " <code class="hash" title=view.sha256.clone()>{view.sha256.chars().take(16).collect::<String>()}</code>
            </p>
        </section>
    }
    .into_any()
}

#[component]
fn ProposeForm(
    pin: i64,
    recorded: Vec<RecordedArtifact>,
    needed: u32,
    has_policy: bool,
    csrf: String,
) -> impl IntoView {
    let kept = kept_form("propose");
    let refused = kept.as_ref().filter(|k| k.refused).cloned();
    let offered = if recorded.is_empty() {
        view! { <p class="muted">"No build is recorded for this pin yet: type each artifact below."</p> }.into_any()
    } else {
        recorded
            .into_iter()
            .map(|r| {
                let spec = r.artifact.spec();
                // Offered ticked when it meets the policy's reproduction rule.
                let reproduced = r.agreed && r.builders.len() as u32 >= needed;
                let ticked = match &refused {
                    Some(form) => form.has("artifact", &spec),
                    None => reproduced,
                };
                let why = if !r.agreed {
                    " — builders disagree on this artifact".to_string()
                } else if !reproduced {
                    format!(" — {} of the {needed} builders the policy asks", r.builders.len())
                } else {
                    String::new()
                };
                let who = format!(
                    "{} · built by {}{why}",
                    if r.artifact.platform.is_empty() { "no platform" } else { r.artifact.platform.as_str() },
                    r.builders.join(", "),
                );
                view! {
                    <label class="check artifact-choice">
                        <input type="checkbox" name="artifact" value=spec checked=ticked/>
                        " " <strong>{r.artifact.name.clone()}</strong> " " <span class="muted">{who}</span>
                        <code class="hash">{r.artifact.sha256.clone()}</code>
                    </label>
                }
            })
            .collect_view()
            .into_any()
    };
    let field = |name: &str| refused.as_ref().map(|k| k.field(name).to_string()).unwrap_or_default();
    view! {
        <section class="panel" id="propose" aria-labelledby="propose-heading">
            <h2 id="propose-heading">"Propose a release"</h2>
            <p class="muted">
                "The dossier is frozen now: each rule's evidence as it stands, signed by the vendor's attestation key. "
                "Proposing a version again replaces its earlier dossier, by reference, until one is authorised."
            </p>
            <FormOutcome id="propose-outcome" kept=kept.clone()/>
            <form method="post" action=format!("/pins/{pin}/releases") class="stack">
                <input type="hidden" name="csrf" value=csrf/>
                <label>"Version" <input name="version" required maxlength="128" placeholder="1.0.0" value=field("version")
                    aria-describedby=refused.is_some().then_some("propose-outcome") autofocus=refused.is_some()/></label>
                <fieldset class="choices">
                    <legend>"Artifacts recorded for this pin"</legend>
                    {offered}
                </fieldset>
                <label>"More artifacts, one NAME:PLATFORM:SHA256 per line"
                    <textarea name="more" rows="2" class="mono" placeholder="clearroom-agent:linux-x86_64:3a7bd3e2…">{field("more")}</textarea>
                </label>
                <div><button type="submit" class="button primary" disabled=!has_policy>"Propose release"</button></div>
            </form>
        </section>
    }
}

#[component]
fn Release(release: ReleaseView, supervisor: Option<String>, csrf: String) -> impl IntoView {
    let id = release.id;
    let place = format!("release-{id}");
    let state = release.state;
    let decided = supervisor.as_ref().is_some_and(|me| release.decisions.iter().any(|d| &d.supervisor == me));
    let decide = (supervisor.is_some() && state == ReleaseState::Proposed && release.ready_for_supervisors && !decided)
        .then(|| view! { <DecisionForm pin=release.pin_id id csrf/> });
    let waiting = (state == ReleaseState::Proposed && !release.ready_for_supervisors)
        .then(|| view! { <p class="muted">"Supervisors sign once every other rule is met: propose this version again when the evidence has changed."</p> });
    view! {
        <article class="panel release-detail" id=place.clone()>
            <header class="thread-header">
                <h2>{format!("{} {}", release.repository, release.version)}</h2>
                <span class=format!("badge release-state state-{}", state.as_str())>{state.as_str()}</span>
                <span class="muted">{format!("release {id} · proposed by {} ", release.proposed_by.clone().unwrap_or_else(|| "the operator".into()))}<Time ms=release.proposed_at_ms/></span>
            </header>
            // A decision's outcome, here: once decided, the form is gone.
            <FormOutcome id="decision-outcome" kept=kept_form(&place)/>
            <table class="grid release-artifacts">
                <thead><tr><th scope="col">"Artifact"</th><th scope="col">"Platform"</th><th scope="col">"SHA-256"</th></tr></thead>
                <tbody>
                    {release.artifacts.iter().map(|a| view! {
                        <tr><td>{a.name.clone()}</td><td>{a.platform.clone()}</td><td><code class="hash">{a.sha256.clone()}</code></td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Rules"</h3>
            <ul class="rule-list">
                {release.rules.iter().map(|rule| view! {
                    <li class:met=rule.met class:unmet=!rule.met>
                        <span class="rule-mark" aria-hidden="true">{if rule.met { "✓" } else { "✗" }}</span>
                        <strong>{rule.rule.clone()}</strong>
                        <span class="visually-hidden">{if rule.met { " met" } else { " not met" }}</span>
                        ": " {rule.reason.clone()}
                    </li>
                }).collect_view()}
            </ul>
            {(!release.decisions.is_empty()).then(|| view! {
                <h3>"Supervisors' decisions"</h3>
                <ul class="decision-list">
                    {release.decisions.iter().map(|d| view! {
                        <li>
                            <strong>{d.supervisor.clone()}</strong>
                            {if d.signed { " signed " } else { " objected " }}<Time ms=d.decided_at_ms/>
                            {d.reason.clone().map(|reason| view! { <blockquote class="objection">{reason}</blockquote> })}
                            <span class="muted">{format!(" key {}", d.keyid.chars().take(16).collect::<String>())}</span>
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <dl class="facts">
                <dt>"Dossier"</dt>
                <dd>
                    <code class="hash">{release.dossier_sha256.clone()}</code> " · "
                    <a href=format!("/api/v1/releases/{id}/dossier") download=format!("dossier-{id}.json")>"download the envelope"</a>
                </dd>
                <dt>"Policy"</dt><dd><code class="hash">{release.policy_sha256.clone()}</code></dd>
                {release.replaces.map(|earlier| view! { <dt>"Replaces"</dt><dd><a href=format!("#release-{earlier}")>{format!("release {earlier}")}</a></dd> })}
                {release.replaced_by.map(|later| view! { <dt>"Replaced by"</dt><dd><a href=format!("#release-{later}")>{format!("release {later}")}</a></dd> })}
                {release.authorised_at_ms.map(|at| view! {
                    <dt>"Authorised"</dt>
                    <dd><Time ms=at/> " · " <a href=format!("/releases?sha256={}", release.artifacts.first().map(|a| a.sha256.as_str()).unwrap_or_default())>"in the public log"</a></dd>
                })}
            </dl>
            {waiting}
            {decide}
        </article>
    }
}

/// The supervisor's form: the file signed (or the objection made) offline, pasted.
#[component]
fn DecisionForm(pin: i64, id: i64, csrf: String) -> impl IntoView {
    let kept = kept_form(&format!("release-{id}"));
    let refused = kept.as_ref().filter(|k| k.refused).map(|k| k.field("decision").to_string());
    let field = format!("decision-{id}");
    view! {
        <section class="decision" aria-label="Your decision">
            <h3>"Your decision"</h3>
            <p class="muted">"Download the envelope above and sign it (or object to it) on your own machine; your key never comes here:"</p>
            <pre class="key-line"><code>{format!(
                "server supervisor sign dossier-{id}.json --key YOUR.key --out decision.sig\nserver supervisor object dossier-{id}.json --key YOUR.key --reason \"…\" --out decision.sig"
            )}</code></pre>
            <form method="post" action=format!("/pins/{pin}/releases/{id}/decision") class="stack">
                <input type="hidden" name="csrf" value=csrf/>
                <label>"The file decision.sig holds"
                    <textarea name="decision" rows="4" class="mono" required id=field
                        aria-describedby=refused.is_some().then_some("decision-outcome") autofocus=refused.is_some()>{refused.clone().unwrap_or_default()}</textarea>
                </label>
                <div><button type="submit" class="button primary">"Record my decision"</button></div>
            </form>
        </section>
    }
}
