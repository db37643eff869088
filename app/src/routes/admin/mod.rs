//! The staff console: users, repositories, pins and grants. Every form posts to a plain server
//! route (so it works without JavaScript) carrying the session's anti-forgery token.

use crate::api::{admin_console, whoami};
use crate::components::layout::{ErrorPanel, Flash, Loading, Page};
use crate::components::time::Time;
use crate::html::counted;
use crate::model::{AdminOverview, GrantSummary, JobStatus, Role};
use leptos::prelude::*;
use parts::{disable_consequence, Confirm, GrantForm, TokensPanel};

mod parts;

#[component]
pub fn AdminPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| async move { (admin_console().await, whoami().await) });
    view! {
        <Page title="Administration">
            <main class="content">
                <h1>"Administration"</h1>
                <Flash/>
                <Suspense fallback=Loading>
                    {move || Suspend::new(async move {
                        match data.await {
                            (Ok(overview), Ok(Some(me))) if me.role == Role::Staff => {
                                view! { <Console overview csrf=me.csrf_token now_ms=me.now_ms/> }.into_any()
                            }
                            (Err(error), _) | (_, Err(error)) => view! { <ErrorPanel error/> }.into_any(),
                            _ => view! { <ErrorPanel error=crate::error::AppError::Forbidden("only staff may administer the centre".into())/> }.into_any(),
                        }
                    })}
                </Suspense>
            </main>
        </Page>
    }
}

#[component]
fn Console(overview: AdminOverview, csrf: String, now_ms: i64) -> impl IntoView {
    let token = csrf.clone();
    let csrf_field = move || view! { <input type="hidden" name="csrf" value=token.clone()/> };
    // Live sessions by account, for what revoking a grant or withdrawing a pin reaches.
    let sessions_of =
        |username: &str| overview.users.iter().find(|u| u.username == username).map_or(0, |u| u.live_sessions);
    let user_rows = overview
        .users
        .iter()
        .map(|u| {
            let name = u.username.clone();
            let state = match u.disabled_at_ms {
                Some(ms) => view! {
                    <span class="badge badge-revoked">"disabled "<Time ms/></span>
                    " "
                    <Confirm
                        label="Enable…"
                        confirm=format!("Enable {name}")
                        consequence=format!("{name} may sign in again. Sessions and API tokens that disabling ended stay ended; grants still in their window give access again.")
                        action=format!("/admin/users/{name}/enable")
                        csrf=csrf.clone()
                        reason=true
                    />
                }
                .into_any(),
                None => view! {
                    <form method="post" action=format!("/admin/users/{name}/end-sessions") class="inline">
                        {csrf_field()}
                        <button type="submit" class="button small" title="Sign this account out everywhere" disabled=u.live_sessions == 0>
                            {format!("End sessions ({})", u.live_sessions)}
                        </button>
                    </form>
                    " "
                    {u.second_factor.then(|| view! {
                        <Confirm
                            label="Reset 2FA…"
                            confirm=format!("Remove {name}'s second factor")
                            consequence=format!("{name} signs in with the password alone until they set up a new authenticator (for a lost device).")
                            action=format!("/admin/users/{name}/reset-second-factor")
                            csrf=csrf.clone()
                        />
                    })}
                    " "
                    <Confirm
                        label="Disable…"
                        confirm=format!("Disable {name}")
                        consequence=disable_consequence(&name, u.live_sessions, u.live_tokens)
                        action=format!("/admin/users/{name}/disable")
                        csrf=csrf.clone()
                        reason=true
                        danger=true
                    />
                }
                .into_any(),
            };
            let factor = if u.second_factor { "on" } else { "off" };
            view! { <tr data-user=name.clone()><td>{name.clone()}</td><td>{u.role.as_str()}</td><td>{factor}</td><td><Time ms=u.created_at_ms/></td><td class="actions">{state}</td></tr> }
        })
        .collect_view();
    let repo_rows = overview
        .repositories
        .iter()
        .map(|r| {
            view! {
                <tr>
                    <td>{r.name.clone()}</td>
                    <td class="path">{r.source.clone()}</td>
                    <td><Time ms=r.imported_at_ms/></td>
                    <td>
                        {match r.importing {
                            Some((done, total)) => {
                                let label = if total == 0 { "importing…".to_string() } else { format!("importing: {done} of {total} objects") };
                                view! {
                                    <span class="job-progress" role="status">
                                        <progress max=total.max(1).to_string() value=done.to_string()></progress>
                                        " "{label}" "<a href="/admin">"(reload)"</a>
                                    </span>
                                }.into_any()
                            }
                            None => view! {
                                <form method="post" action=format!("/admin/repositories/{}/fetch", r.name) class="inline">
                                    {csrf_field()}
                                    <button type="submit" class="button small" title="Fetch new commits from where it was imported">"Fetch new commits"</button>
                                </form>
                            }.into_any(),
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let pin_rows = overview
        .pins
        .iter()
        .map(|p| {
            let job = overview.highlighting.iter().find(|j| j.pin == p.id).cloned();
            // Who reads it now, by an active grant: what withdrawing it takes away.
            let mut readers: Vec<&str> = overview
                .grants
                .iter()
                .filter(|g| g.pin == p.id && g.revoked_at_ms.is_none() && g.starts_at_ms <= now_ms && now_ms < g.ends_at_ms)
                .map(|g| g.reviewer.as_str())
                .collect();
            readers.sort_unstable();
            readers.dedup();
            let withdraw_consequence = format!(
                "Only staff will read {} from now on: {} with an active grant lose access at their next request. Its comments, verdicts and log entries stay.",
                p.label,
                counted(readers.len() as u64, "reviewer", "reviewers"),
            );
            view! {
                <tr>
                    <td class="num">{p.id.get()}</td>
                    <td><a href=format!("/pins/{}/tree", p.id)>{p.label.clone()}</a></td>
                    <td>{p.repository.clone()}</td>
                    <td><code>{p.commit_id.chars().take(12).collect::<String>()}</code></td>
                    <td><Time ms=p.pinned_at_ms/></td>
                    <td>{job.map(|job| highlight_cell(job, &csrf_field))}</td>
                    <td>
                        <form method="post" action=format!("/admin/pins/{}/policy", p.id) class="inline policy-form">
                            {csrf_field()}
                            <label class="check" title="Reviewers and regulators may not download raw files"><input type="checkbox" name="no_download" checked=p.no_download/>" No downloads"</label>
                            <label class="check" title="Selecting and copying source is discouraged (the watermark stays)"><input type="checkbox" name="no_copy" checked=p.no_copy/>" No copying"</label>
                            <label title="What reviewers and regulators see of the commits behind this pin">" History "
                                <select name="history">
                                    {crate::model::HistoryPolicy::ALL.into_iter().map(|h| view! {
                                        <option value=h.as_str() selected=p.history == h>{history_label(h)}</option>
                                    }).collect_view()}
                                </select>
                            </label>
                            <button type="submit" class="button small">"Save"</button>
                        </form>
                        " "
                        {if p.withdrawn {
                            view! { <span class="muted">"withdrawn"</span> }.into_any()
                        } else {
                            view! {
                                <Confirm
                                    label="Withdraw…"
                                    confirm=format!("Withdraw {}", p.label)
                                    consequence=withdraw_consequence
                                    action=format!("/admin/pins/{}/withdraw", p.id)
                                    csrf=csrf.clone()
                                    reason=true
                                    danger=true
                                />
                            }.into_any()
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let grant_section = |title: &'static str, grants: Vec<&GrantSummary>, live: bool| {
        let rows = grants
            .into_iter()
            .map(|g| {
                let actions = match (g.revoked_at_ms, live) {
                    (Some(ms), _) => view! { <span class="badge badge-revoked">"revoked "<Time ms/></span> }.into_any(),
                    (None, false) => view! { <span class="muted">"ended"</span> }.into_any(),
                    (None, true) => view! {
                        <form method="post" action=format!("/admin/grants/{}/extend", g.id) class="inline grant-action">
                            {csrf_field()}
                            <label class="inline-label">"New end (UTC)"
                                <input name="until" type="datetime-local" required value=crate::times::form_value(g.ends_at_ms)/>
                            </label>
                            <button type="submit" class="button small">"Extend"</button>
                        </form>
                        <Confirm
                            label="Revoke…"
                            confirm=format!("Revoke {}'s grant", g.reviewer)
                            consequence=format!(
                                "{} loses access to {} at their next request ({} now); other grants stay. The grant stays on record.",
                                g.reviewer,
                                g.pin_label,
                                counted(sessions_of(&g.reviewer), "live session", "live sessions"),
                            )
                            action=format!("/admin/grants/{}/revoke", g.id)
                            csrf=csrf.clone()
                            reason=true
                            danger=true
                        />
                    }
                    .into_any(),
                };
                view! {
                    <tr data-grant=g.id.to_string()>
                        <td>{g.reviewer.clone()}</td>
                        <td>
                            {g.pin_label.clone()} " (#" {g.pin.get()} ")"
                            {(!g.paths.is_empty()).then(|| view! {
                                <div class="muted grant-paths">"Only " <code>{g.paths.join(" ")}</code></div>
                            })}
                        </td>
                        <td><Time ms=g.starts_at_ms/></td>
                        <td><Time ms=g.ends_at_ms/></td>
                        <td>{g.granted_by.clone().unwrap_or_else(|| "operator (command line)".into())}</td>
                        <td>{actions}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h3>{title}</h3>
            <table class="grid">
                <thead><tr><th scope="col">"Reviewer"</th><th scope="col">"Pin"</th><th scope="col">"From"</th><th scope="col">"Until"</th><th scope="col">"Granted by"</th><th scope="col">"Actions"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    };
    let active: Vec<&GrantSummary> = overview
        .grants
        .iter()
        .filter(|g| g.revoked_at_ms.is_none() && g.starts_at_ms <= now_ms && now_ms < g.ends_at_ms)
        .collect();
    let upcoming: Vec<&GrantSummary> =
        overview.grants.iter().filter(|g| g.revoked_at_ms.is_none() && g.starts_at_ms > now_ms).collect();
    let ended: Vec<&GrantSummary> =
        overview.grants.iter().filter(|g| g.revoked_at_ms.is_some() || g.ends_at_ms <= now_ms).collect();
    let grant_tables = view! {
        {grant_section("Active now", active, true)}
        {grant_section("Upcoming", upcoming, true)}
        {grant_section("Expired or revoked", ended, false)}
    };
    let repo_options = overview
        .repositories
        .iter()
        .map(|r| view! { <option value=r.name.clone()>{r.name.clone()}</option> })
        .collect_view();
    view! {
        <section class="panel" id="grants">
            <h2>"Grants"</h2>
            <GrantForm overview=overview.clone() csrf=csrf.clone()/>
            {grant_tables}
        </section>
        <section class="panel">
            <h2>"Pins"</h2>
            <form method="post" action="/admin/pins" class="row-form">
                {csrf_field()}
                <label>"Repository" <select name="repository" required>{repo_options}</select></label>
                <label>"Commit" <input name="commit" required placeholder="commit id, or HEAD" size="20"/></label>
                <label>"Label" <input name="label" required placeholder="v1.2.0 release"/></label>
                <button type="submit" class="button primary">"Pin commit"</button>
            </form>
            <table class="grid">
                <thead><tr><th scope="col">"#"</th><th scope="col">"Label"</th><th scope="col">"Repository"</th><th scope="col">"Commit"</th><th scope="col">"Pinned"</th><th scope="col">"Pre-highlighting"</th><th scope="col">"Access"</th></tr></thead>
                <tbody>{pin_rows}</tbody>
            </table>
        </section>
        <section class="panel">
            <h2>"Repositories"</h2>
            <form method="post" action="/admin/repositories" class="row-form">
                {csrf_field()}
                <label>"Name" <input name="name" required pattern="[A-Za-z0-9._-]+" placeholder="product-firmware"/></label>
                <label>"Import from (path on the server)" <input name="source" required size="40"/></label>
                <button type="submit" class="button primary">"Import"</button>
            </form>
            <table class="grid">
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Imported from"</th><th scope="col">"Imported"</th><th scope="col">"Actions"</th></tr></thead>
                <tbody>{repo_rows}</tbody>
            </table>
        </section>
        <section class="panel" id="users">
            <h2>"Users"</h2>
            <form method="post" action="/admin/users" class="row-form">
                {csrf_field()}
                // Escaped for the `v` flag browsers check a pattern with (a bare `-` is refused).
                <label>"Username" <input name="username" required pattern="[a-z0-9._\\-]{2,64}" title="2 to 64 of a–z, 0–9, dot, underscore, hyphen"/></label>
                <label>"Role"
                    <select name="role">
                        <option value="reviewer">"reviewer"</option>
                        <option value="staff">"staff"</option>
                        <option value="regulator">"regulator"</option>
                        <option value="supervisor">"supervisor"</option>
                        <option value="builder">"builder (API token only)"</option>
                    </select>
                </label>
                <label>"Password (blank: generate)" <input name="password" type="password" autocomplete="new-password"/></label>
                <button type="submit" class="button primary">"Create user"</button>
            </form>
            <table class="grid">
                <thead><tr><th scope="col">"Username"</th><th scope="col">"Role"</th><th scope="col">"2FA"</th><th scope="col">"Created"</th><th scope="col">"Account"</th></tr></thead>
                <tbody>{user_rows}</tbody>
            </table>
        </section>
        <TokensPanel overview=overview.clone() csrf=csrf.clone()/>
    }
}

/// A pin's pre-highlighting: a progress bar while it runs (with Cancel), else how it ended.
fn highlight_cell<F: IntoView>(job: JobStatus, csrf_field: &impl Fn() -> F) -> impl IntoView {
    let live = job.state == "queued" || job.state == "running";
    let label = match job.state.as_str() {
        "queued" => "waiting".to_string(),
        "running" if job.total == 0 => "listing files".to_string(),
        "running" => format!("{} of {} files", job.done, job.total),
        "done" => format!("done ({} files)", job.total),
        other => format!("{other} at {} of {}", job.done, job.total),
    };
    view! {
        <span class="job-cell">
            {live.then(|| view! {
                <progress max=job.total.max(1).to_string() value=job.done.to_string() aria-label="Pre-highlighting progress"></progress>
            })}
            <span class="muted">{label}</span>
            {live.then(|| view! {
                <form method="post" action=format!("/admin/jobs/{}/cancel", job.id) class="inline">
                    {csrf_field()}
                    <button type="submit" class="button small">"Cancel"</button>
                </form>
            })}
        </span>
    }
}

/// A history policy as the console's choice names it.
fn history_label(policy: crate::model::HistoryPolicy) -> &'static str {
    match policy {
        crate::model::HistoryPolicy::Off => "off",
        crate::model::HistoryPolicy::Messages => "commit messages and blame",
        crate::model::HistoryPolicy::Full => "messages and diffs",
    }
}
