//! A directory at a pin: breadcrumbs and the listing.

use crate::api::open_tree;
use crate::components::islands::FileFilter;
use crate::components::layout::{ErrorPanel, Loading, Page, Watermark};
use crate::components::review::PinTabs;
use crate::model::{EntryKind, PinSummary, RepoPath, TreeEntry};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn TreePage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let params = params.read();
        (params.get("pin").unwrap_or_default(), params.get("path").unwrap_or_default())
    };
    let tree = Resource::new(key, |(pin, path)| open_tree(pin, path));
    view! {
        <Page title="Tree">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match tree.await {
                        Ok(view) => {
                            let title = if view.path.is_root() {
                                view.pin.label.clone()
                            } else {
                                view.path.to_string()
                            };
                            view! {
                                <leptos_meta::Title text=format!("{title} · Clearroom")/>
                                <Watermark mark=view.watermark.clone()/>
                                <PinBar pin=view.pin.clone() current="files"/>
                                <main class="content">
                                    <h1 class="visually-hidden">{format!("{} at {}", if view.path.is_root() { "/".to_string() } else { view.path.to_string() }, view.pin.label)}</h1>
                                    <Breadcrumbs pin=view.pin.clone() path=view.path.clone() leaf_is_file=false/>
                                    <FileFilter/>
                                    <EntryList pin=view.pin.id.to_string() dir=view.path.clone() entries=view.entries current=None class="file-list listing"/>
                                </main>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

/// The strip above a pin's pages naming the pin and its commit, with the pin's tabs.
#[component]
pub fn PinBar(pin: PinSummary, current: &'static str) -> impl IntoView {
    view! {
        <nav class="pinbar" aria-label="Pin">
            <a href=format!("/pins/{}/tree", pin.id) class="pin-label">{pin.label.clone()}</a>
            <span class="muted">{pin.repository.clone()}</span>
            <code class="commit" title="The pinned commit: what you review is this exact revision">
                {pin.commit_id.clone()}
            </code>
            <PinTabs pin=pin.id current/>
        </nav>
        {(!pin.mismatches.is_empty()).then(|| view! {
            <div class="mismatch-banner" role="alert">
                <strong>"Build mismatch: "</strong>
                {format!("builders recorded different hashes for {}. ", pin.mismatches.join(", "))}
                <a href=format!("/pins/{}/builds", pin.id)>"See the builds"</a>
            </div>
        })}
    }
}

#[component]
pub fn Breadcrumbs(pin: PinSummary, path: RepoPath, leaf_is_file: bool) -> impl IntoView {
    let segments: Vec<String> = path.segments().map(str::to_string).collect();
    let count = segments.len();
    let mut so_far = RepoPath::root();
    let crumbs = segments
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            so_far = so_far.join(&name);
            let last = i + 1 == count;
            let kind = if last && leaf_is_file { "blob" } else { "tree" };
            let href = format!("/pins/{}/{}/{}", pin.id, kind, so_far.url_encoded());
            view! {
                <span class="sep">"/"</span>
                {if last {
                    view! { <span class="crumb current" aria-current="page">{name}</span> }.into_any()
                } else {
                    view! { <a class="crumb" href=href>{name}</a> }.into_any()
                }}
            }
        })
        .collect_view();
    view! {
        <nav class="breadcrumbs" aria-label="Path">
            <a class="crumb root" href=format!("/pins/{}/tree", pin.id)>{pin.repository.clone()}</a>
            {crumbs}
        </nav>
    }
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub fn size_text(bytes: u64) -> String {
    human_size(bytes)
}

/// A directory's entries, directories first; `current` marks the open file.
#[component]
pub fn EntryList(
    pin: String,
    dir: RepoPath,
    entries: Vec<TreeEntry>,
    current: Option<String>,
    #[prop(into)] class: String,
) -> impl IntoView {
    let parent = (!dir.is_root()).then(|| {
        let href = format!("/pins/{pin}/tree/{}", dir.parent().url_encoded());
        view! {
            <li class="entry up">
                <a href=href>
                    <span class="icon" aria-hidden="true">"↰"</span>
                    ".."
                </a>
            </li>
        }
    });
    let items = entries
        .into_iter()
        .map(|entry| {
            let path = dir.join(&entry.name).url_encoded();
            let (href, icon, kind_class) = match entry.kind {
                EntryKind::Directory => (Some(format!("/pins/{pin}/tree/{path}")), "▸", "dir"),
                EntryKind::File => (Some(format!("/pins/{pin}/blob/{path}")), "·", "file"),
                EntryKind::Symlink => (Some(format!("/pins/{pin}/blob/{path}")), "↪", "link"),
                EntryKind::Submodule => (None, "⊡", "submodule"),
            };
            let is_current = current.as_deref() == Some(entry.name.as_str());
            let size = entry.size.map(human_size);
            let name = entry.name.clone();
            view! {
                <li class=format!("entry {kind_class}") class:current=is_current data-name=entry.name.clone()>
                    {match href {
                        Some(href) => view! {
                            <a href=href aria-current=is_current.then_some("page")>
                                <span class="icon" aria-hidden="true">{icon}</span>
                                <span class="name">{name}</span>
                                <span class="size">{size}</span>
                            </a>
                        }.into_any(),
                        None => view! {
                            <span class="submodule-entry" title="A submodule: its source is not part of this pin">
                                <span class="icon" aria-hidden="true">{icon}</span>
                                <span class="name">{name}</span>
                            </span>
                        }.into_any(),
                    }}
                </li>
            }
        })
        .collect_view();
    view! { <ul class=class>{parent}{items}</ul> }
}
