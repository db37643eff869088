//! The room: on a pin's builds page, its recipe, its room builds and the reports on mismatches;
//! a room build's own page with its log (followed live while it runs); and a diffoscope report
//! as a tree of files and sections, each with its unified diff.

use crate::api::{load_build_diff, load_room_build};
use crate::components::islands::BuildLog;
use crate::components::layout::{ErrorPanel, Loading, Page};
use crate::components::time::Time;
use crate::model::{DiffNode, DiffPage, Mismatch, PinId, RoomBuildPage, RoomBuildView, RoomSection};
use crate::routes::tree::PinBar;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

fn state_badge(state: &str) -> impl IntoView {
    let class = match state {
        "done" => "badge badge-ok",
        "failed" => "badge badge-mismatch",
        _ => "badge",
    };
    view! { <span class=class>{state.to_string()}</span> }
}

fn duration_text(seconds: u64) -> String {
    match seconds {
        s if s >= 3600 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min {:02} s", s / 60, s % 60),
        s => format!("{s} s"),
    }
}

fn took(build: &RoomBuildView) -> Option<String> {
    let (start, end) = (build.started_at_ms?, build.finished_at_ms?);
    Some(duration_text((end.saturating_sub(start) / 1000) as u64))
}

/// The room's part of the builds page.
#[component]
pub fn RoomPanel(pin: PinId, section: RoomSection, csrf: String) -> impl IntoView {
    let builds = section.builds.clone();
    let recipe = section.recipe.clone();
    let can_run = section.can_run;
    let staff = can_run.then(|| {
        let csrf = csrf.clone();
        let placeholder = "name = \"hello\"\ncommand = [\"make\", \"hello\"]\ntoolchain = \"host\"\n[[outputs]]\npath = \"hello\"\nartifact = \"hello\"\nplatform = \"linux-x86_64\"\n[limits]\nwall_seconds = 120";
        view! {
            <details class="room-recipe" open=recipe.is_none()>
                <summary>{if recipe.is_some() { "Change the recipe" } else { "Set the recipe" }}</summary>
                <form method="post" action=format!("/pins/{pin}/recipe")>
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <label for="recipe-toml">"Recipe (TOML: name, command, toolchain, outputs, env, limits)"</label>
                    <textarea id="recipe-toml" name="recipe" rows="12" class="mono" spellcheck="false" placeholder=placeholder>{section.recipe_toml.clone()}</textarea>
                    <button type="submit" class="button">"Save the recipe"</button>
                </form>
            </details>
            <form method="post" action=format!("/pins/{pin}/room-builds") class="inline">
                <input type="hidden" name="csrf" value=csrf/>
                <button type="submit" class="button button-primary" disabled=recipe.is_none() || section.unavailable.is_some()>"Build in the room"</button>
                <span class="muted small">" Exports this commit, runs the recipe in a sandbox with no network, and records each output as built by the room."</span>
            </form>
        }
    });
    view! {
        <section class="panel" id="room" aria-label="The room">
            <h2>"Built in the room"</h2>
            <p class="muted">"The centre builds this commit itself from the reviewed tree: no network, the toolchain read-only, every output hashed and signed by the server. Its records count as the builder \u{201c}room\u{201d}."</p>
            {section.unavailable.clone().map(|why| view! { <p class="notice notice-error">{why}</p> })}
            {match recipe.clone() {
                Some(recipe) => view! {
                    <dl class="facts">
                        <dt>"Recipe"</dt><dd><code class="hash">{recipe.digest.clone()}</code></dd>
                        <dt>"Toolchain"</dt><dd><code class="hash">{recipe.toolchain_digest.clone()}</code></dd>
                        <dt>"Set by"</dt><dd>{recipe.set_by.clone()}" · "<Time ms=recipe.set_at_ms/></dd>
                    </dl>
                }.into_any(),
                None => view! { <p>"No recipe is set for this pin, so the room has not built it."</p> }.into_any(),
            }}
            {(!builds.is_empty()).then(|| view! {
                <table class="grid">
                    <thead><tr><th>"Build"</th><th>"State"</th><th>"Asked by"</th><th>"When"</th><th>"Outputs"</th></tr></thead>
                    <tbody>
                        {builds.into_iter().map(|build| {
                            let href = format!("/pins/{pin}/room/{}", build.id);
                            let took = took(&build);
                            view! {
                                <tr>
                                    <td><a href=href>{format!("#{} {}", build.id, build.recipe_name)}</a></td>
                                    <td>{state_badge(&build.state)}{build.reason.clone().map(|r| view! { <div class="small muted">{r}</div> })}</td>
                                    <td>{build.requested_by.clone()}</td>
                                    <td class="small"><Time ms=build.created_at_ms/>{took.map(|t| view! { <div class="muted">{format!("took {t}")}</div> })}</td>
                                    <td class="small">{build.outputs.iter().map(|o| view! { <div><span>{o.artifact.clone()}</span>" "<code class="hash">{o.sha256.chars().take(16).collect::<String>()}</code></div> }).collect_view()}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {staff}
        </section>
    }
}

/// What a mismatch's report says of itself, with a link when there is one.
#[component]
pub fn MismatchReport(pin: PinId, mismatch: Mismatch) -> impl IntoView {
    let diff = mismatch.diff;
    let link = diff.id.map(|id| format!("/pins/{pin}/build-diffs/{id}"));
    let text = match diff.state.as_str() {
        "done" => "diffoscope's report explains the difference".to_string(),
        "queued" | "running" => "diffoscope is comparing the two artifacts".to_string(),
        "failed" => format!("diffoscope could not compare them: {}", diff.reason.clone().unwrap_or_default()),
        _ => diff.reason.clone().unwrap_or_else(|| "upload the other side to compare them".into()),
    };
    view! {
        <p class="mismatch-report">
            {match link {
                Some(href) => view! { <a href=href class="button">"Investigate the difference"</a> }.into_any(),
                None => view! { <span class="badge">"no report"</span> }.into_any(),
            }}
            " " <span class="muted">{text}</span>
        </p>
    }
}

#[component]
pub fn RoomBuildRoute() -> impl IntoView {
    let params = use_params_map();
    let key = move || (params.read().get("pin").unwrap_or_default(), params.read().get("id").unwrap_or_default());
    let page = Resource::new(key, |(pin, id)| load_room_build(pin, id));
    view! {
        <Page title="Room build">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <RoomBuildBody page/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn RoomBuildBody(page: RoomBuildPage) -> impl IntoView {
    let build = page.build;
    let pin = page.pin.id;
    let running = matches!(build.state.as_str(), "queued" | "running");
    let took = took(&build);
    view! {
        <PinBar pin=page.pin.clone() current="builds"/>
        <main class="content narrow">
            <header class="page-header">
                <p><a href=format!("/pins/{pin}/builds#room")>"← Builds"</a></p>
                <h1>{format!("Room build #{} · {}", build.id, build.recipe_name)}" "{state_badge(&build.state)}</h1>
                {build.reason.clone().map(|reason| view! { <p class="notice notice-error" role="alert">{format!("Failed: {reason}")}</p> })}
            </header>
            <dl class="facts">
                <dt>"Recipe"</dt><dd><code class="hash">{build.recipe_digest.clone()}</code></dd>
                <dt>"Toolchain"</dt><dd><code class="hash">{build.toolchain_digest.clone().unwrap_or_else(|| "—".into())}</code></dd>
                <dt>"Asked by"</dt><dd>{build.requested_by.clone()}" · "<Time ms=build.created_at_ms/></dd>
                <dt>"Attempts"</dt><dd>{build.attempts}</dd>
                {took.map(|t| view! { <dt>"Took"</dt><dd>{t}</dd> })}
                {build.log_sha256.clone().map(|sha| view! { <dt>"Log SHA-256"</dt><dd><code class="hash">{sha}</code></dd> })}
            </dl>
            {(!build.outputs.is_empty()).then(|| view! {
                <table class="grid">
                    <thead><tr><th>"Artifact"</th><th>"Path"</th><th>"SHA-256"</th><th>"Size"</th></tr></thead>
                    <tbody>
                        {build.outputs.iter().map(|o| view! {
                            <tr>
                                <td>{o.artifact.clone()}<div class="small muted">{o.platform.clone()}</div></td>
                                <td><code>{o.path.clone()}</code></td>
                                <td><code class="hash">{o.sha256.clone()}</code></td>
                                <td>{format!("{} bytes", o.size)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            <section class="panel" aria-label="Build log">
                <h2>"Log"</h2>
                {running.then(|| view! { <BuildLog id=build.id next=page.log.next wall_seconds=build.wall_seconds elapsed=page.log.elapsed_seconds.unwrap_or(0)/> })}
                <pre id="build-log" class="build-log" tabindex="0" aria-live="polite">{page.log.text.clone()}</pre>
            </section>
        </main>
    }
}

#[component]
pub fn BuildDiffRoute() -> impl IntoView {
    let params = use_params_map();
    let key = move || (params.read().get("pin").unwrap_or_default(), params.read().get("id").unwrap_or_default());
    let page = Resource::new(key, |(pin, id)| load_build_diff(pin, id));
    view! {
        <Page title="Why two builds differ">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <DiffBody page/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

/// One unified diff, its lines marked added, removed or a hunk header.
fn unified(text: &str) -> impl IntoView {
    let rows: Vec<(&'static str, String)> = text
        .lines()
        .map(|line| {
            let class = match line.as_bytes().first() {
                Some(b'+') => "dl-add",
                Some(b'-') => "dl-del",
                Some(b'@') => "dl-hunk",
                _ => "dl-same",
            };
            (class, line.to_string())
        })
        .collect();
    view! {
        <pre class="report-diff">{rows.into_iter().map(|(class, line)| view! { <span class=class>{line}"\n"</span> }).collect_view()}</pre>
    }
}

fn node_view(node: DiffNode, depth: usize) -> AnyView {
    let title = if node.source1 == node.source2 || node.source2.is_empty() {
        node.source1.clone()
    } else {
        format!("{} ↔ {}", node.source1, node.source2)
    };
    view! {
        <details class="report-node" open=depth < 2>
            <summary><code>{title}</code></summary>
            {(!node.comments.is_empty()).then(|| view! { <ul class="report-comments">{node.comments.iter().map(|c| view! { <li>{c.clone()}</li> }).collect_view()}</ul> })}
            {node.unified_diff.as_deref().map(unified)}
            {node.details.into_iter().map(|child| node_view(child, depth + 1)).collect_view()}
        </details>
    }
    .into_any()
}

#[component]
fn DiffBody(page: DiffPage) -> impl IntoView {
    let pin = page.pin.id;
    let title = if page.platform.is_empty() { page.name.clone() } else { format!("{} ({})", page.name, page.platform) };
    let side = |label: &'static str, sha: String, accounts: Vec<String>| {
        view! { <dt>{label}</dt><dd><code class="hash">{sha}</code><div class="small muted">{format!("recorded by {}", accounts.join(", "))}</div></dd> }
    };
    view! {
        <PinBar pin=page.pin.clone() current="builds"/>
        <main class="content">
            <header class="page-header">
                <p><a href=format!("/pins/{pin}/builds")>"← Builds"</a></p>
                <h1>{format!("Why two builds of {title} differ")}</h1>
            </header>
            <dl class="facts">
                {side("a", page.sha256_a.clone(), page.accounts_a.clone())}
                {side("b", page.sha256_b.clone(), page.accounts_b.clone())}
                {page.report_sha256.clone().map(|sha| view! { <dt>"Report SHA-256"</dt><dd><code class="hash">{sha}</code></dd> })}
            </dl>
            {page.cut.then(|| view! { <p class="notice" role="note">"This report was cut by a limit (diffoscope's report size or diff length, or what this page shows): it does not show every difference. Download the HTML report for what diffoscope kept."</p> })}
            {match page.state.as_str() {
                "done" => view! {
                    <p>
                        {page.has_html.then(|| view! { <a class="button" href=format!("/api/v1/build-diffs/{}/html", page.id) download="">"Download diffoscope's HTML report (.zip)"</a> })}
                    </p>
                    {page.tree.clone().map(|tree| view! { <section class="panel report" aria-label="diffoscope's report">{node_view(tree, 0)}</section> })}
                }.into_any(),
                "failed" => view! { <p class="notice notice-error" role="alert">{format!("diffoscope could not compare them: {}", page.reason.clone().unwrap_or_default())}</p> }.into_any(),
                _ => view! { <p class="notice">"diffoscope is comparing the two artifacts; reload in a moment."</p> }.into_any(),
            }}
        </main>
    }
}
