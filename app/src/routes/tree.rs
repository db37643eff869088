//! A directory at a pin: breadcrumbs and the listing.

use crate::api::open_tree;
use crate::components::islands::FileFilter;
use crate::components::layout::{ErrorPanel, Loading, Page, Watermark};
use crate::components::review::PinTabs;
use crate::model::{EntryKind, PinSummary, RepoPath, TreeCompiled, TreeEntry};
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
                                <crate::components::layout::PageTitle text=format!("{title} · Clearroom")/>
                                <Watermark mark=view.watermark.clone()/>
                                <PinBar pin=view.pin.clone() current="files"/>
                                <main class="content">
                                    <h1 class="visually-hidden">{format!("{} at {}", if view.path.is_root() { "/".to_string() } else { view.path.to_string() }, view.pin.label)}</h1>
                                    <Breadcrumbs pin=view.pin.clone() path=view.path.clone() leaf_is_file=false/>
                                    <FileFilter/>
                                    {view.compiled.as_ref().map(|c| view! {
                                        <p class="compiled-bar"><span class="compiled-key" aria-hidden="true"></span>{format!("Badges: compiled into {}", c.artifact.name)}</p>
                                    })}
                                    <EntryList pin=view.pin.id.to_string() dir=view.path.clone() entries=view.entries current=None class="file-list listing" compiled=view.compiled.clone()/>
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
            <a href=pin_home(&pin) class="pin-label">{pin.label.clone()}</a>
            <span class="muted">{pin.repository.clone()}</span>
            <code class="commit" title="The pinned commit: what you review is this exact revision">
                {pin.commit_id.clone()}
            </code>
            <PinTabs pin=pin.id caps=pin.caps current/>
        </nav>
        {(!pin.scope.is_empty()).then(|| {
            let patterns = pin.scope.join("  ");
            let count = crate::html::counted(pin.scope.len() as u64, "pattern", "patterns");
            view! {
                <p class="scope-bar" title=pin.scope.join("\n")>
                    "Your access covers: " <code>{patterns}</code> {format!(" ({count})")}
                </p>
            }
        })}
        {(!pin.mismatches.is_empty()).then(|| view! {
            <div class="mismatch-banner" role="alert">
                <strong>"Build mismatch: "</strong>
                {format!("builders recorded different hashes for {}. ", pin.mismatches.join(", "))}
                <a href=format!("/pins/{}/builds", pin.id)>"See the builds"</a>
            </div>
        })}
    }
}

/// Where a pin's name leads: its files, or its comments for who may read only its review records.
pub fn pin_home(pin: &PinSummary) -> String {
    if pin.caps.read_source || !pin.caps.read_review {
        format!("/pins/{}/tree", pin.id)
    } else {
        format!("/pins/{}/comments", pin.id)
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
    /// The files and directories compiled into an artifact, badged.
    #[prop(optional_no_strip)]
    compiled: Option<TreeCompiled>,
) -> impl IntoView {
    // Beside the code, a directory also opens in place (`SidebarTree`).
    let toggles = class.split_whitespace().any(|c| c == "side");
    let mut html = entry_items_html(&pin, &dir, &entries, current.as_deref(), toggles, true);
    if let Some(compiled) = &compiled {
        html = badge_compiled(html, compiled);
    }
    view! { <ul class=class inner_html=html></ul> }
}

/// Adds the compiled badges to a listing's items (found by their `data-name`).
fn badge_compiled(html: String, compiled: &TreeCompiled) -> String {
    use crate::html::escape_into;
    let mut out = html;
    let mut badge = |name: &str, text: String| {
        let mut key = String::from("data-name=\"");
        escape_into(&mut key, name);
        key.push_str("\">");
        let Some(at) = out.find(&key) else { return };
        let Some(end) = out[at..].find("<span class=\"size\">").map(|end| at + end) else { return };
        let mut mark = String::from("<span class=\"badge badge-compiled\" title=\"compiled into ");
        escape_into(&mut mark, &compiled.artifact.name);
        mark.push_str("\">");
        mark.push_str(&text);
        mark.push_str("</span>");
        out.insert_str(end, &mark);
    };
    for name in &compiled.files {
        badge(name, "compiled".into());
    }
    for (name, files) in &compiled.directories {
        badge(name, format!("{files} compiled"));
    }
    out
}

/// A directory's entries as the sidebar lists them under it when it is opened in place.
pub fn nested_items_html(pin: &str, dir: &RepoPath, entries: &[TreeEntry]) -> String {
    entry_items_html(pin, dir, entries, None, true, false)
}

/// The items of an `EntryList`, written as text: every file page shows its directory beside the
/// code, and building a view per entry cost more than the rest of a small file's page.
/// With `toggles`, each directory has a button that opens it in place; with `up`, the list starts
/// with `..`.
fn entry_items_html(
    pin: &str,
    dir: &RepoPath,
    entries: &[TreeEntry],
    current: Option<&str>,
    toggles: bool,
    up: bool,
) -> String {
    use crate::html::escape_into;
    let mut out = String::with_capacity(64 + entries.len() * 240);
    if up && !dir.is_root() {
        out.push_str("<li class=\"entry up\"><a href=\"/pins/");
        escape_into(&mut out, pin);
        out.push_str("/tree/");
        escape_into(&mut out, &dir.parent().url_encoded());
        out.push_str("\"><span class=\"icon\" aria-hidden=\"true\">↰</span>..</a></li>");
    }
    for entry in entries {
        let (route, icon, kind_class) = match entry.kind {
            EntryKind::Directory => (Some("tree"), "▸", "dir"),
            EntryKind::File => (Some("blob"), "·", "file"),
            EntryKind::Symlink => (Some("blob"), "↪", "link"),
            EntryKind::Submodule => (None, "⊡", "submodule"),
        };
        let is_current = current == Some(entry.name.as_str());
        out.push_str("<li class=\"entry ");
        out.push_str(kind_class);
        out.push_str(if is_current { " current\" data-name=\"" } else { "\" data-name=\"" });
        escape_into(&mut out, &entry.name);
        out.push_str("\">");
        if toggles && entry.kind == EntryKind::Directory {
            out.push_str(
                "<button type=\"button\" class=\"twisty\" aria-expanded=\"false\" aria-label=\"Show the entries of ",
            );
            escape_into(&mut out, &entry.name);
            out.push_str(" here\" data-path=\"");
            escape_into(&mut out, dir.join(&entry.name).as_str());
            out.push_str("\">▸</button>");
        }
        match route {
            Some(route) => {
                out.push_str("<a href=\"/pins/");
                escape_into(&mut out, pin);
                out.push('/');
                out.push_str(route);
                out.push('/');
                escape_into(&mut out, &dir.join(&entry.name).url_encoded());
                out.push_str(if is_current { "\" aria-current=\"page\">" } else { "\">" });
            }
            None => out
                .push_str("<span class=\"submodule-entry\" title=\"A submodule: its source is not part of this pin\">"),
        }
        out.push_str("<span class=\"icon\" aria-hidden=\"true\">");
        out.push_str(icon);
        out.push_str("</span><span class=\"name\">");
        escape_into(&mut out, &entry.name);
        out.push_str("</span>");
        match route {
            Some(_) => {
                out.push_str("<span class=\"size\">");
                if let Some(size) = entry.size {
                    out.push_str(&human_size(size));
                }
                out.push_str("</span></a>");
            }
            None => out.push_str("</span>"),
        }
        out.push_str("</li>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_link_to_their_pages_mark_the_open_file_and_escape_names() {
        let entries = vec![
            TreeEntry { name: "src".into(), kind: EntryKind::Directory, size: None },
            TreeEntry { name: "a <b>&\"c\".rs".into(), kind: EntryKind::File, size: Some(2048) },
            TreeEntry { name: "main.rs".into(), kind: EntryKind::File, size: Some(10) },
            TreeEntry { name: "vendored".into(), kind: EntryKind::Submodule, size: None },
        ];
        let dir = RepoPath::parse("lib").unwrap();
        let html = entry_items_html("7", &dir, &entries, Some("main.rs"), false, true);
        assert!(html.starts_with("<li class=\"entry up\"><a href=\"/pins/7/tree/\">"), "{html}");
        assert!(html.contains("<li class=\"entry dir\" data-name=\"src\"><a href=\"/pins/7/tree/lib/src\">"));
        assert!(html.contains(
            "data-name=\"a &lt;b&gt;&amp;&quot;c&quot;.rs\"><a href=\"/pins/7/blob/lib/a%20%3Cb%3E&amp;%22c%22.rs\">"
        ), "{html}");
        assert!(html.contains(
            "<span class=\"name\">a &lt;b&gt;&amp;&quot;c&quot;.rs</span><span class=\"size\">2.0 KiB</span>"
        ));
        assert!(html.contains(
            "<li class=\"entry file current\" data-name=\"main.rs\"><a href=\"/pins/7/blob/lib/main.rs\" aria-current=\"page\">"
        ));
        assert_eq!(html.matches("aria-current").count(), 1, "only the open file is current");
        assert!(html.contains("<span class=\"submodule-entry\""));
        assert!(!html.contains("/vendored\""), "a submodule has no link");
        let root = entry_items_html("7", &RepoPath::root(), &entries[..1], None, false, true);
        assert!(!root.contains("entry up"), "the root has no parent");
        assert!(!html.contains("twisty"), "the listing's directories open as pages");
        // Beside the code, a directory opens in place; opened in place, no `..`.
        let side = entry_items_html("7", &dir, &entries, None, true, true);
        assert!(side.contains(
            r#"class="twisty" aria-expanded="false" aria-label="Show the entries of src here" data-path="lib/src">"#
        ));
        assert_eq!(side.matches("twisty").count(), 1, "directories only");
        assert!(!nested_items_html("7", &dir, &entries).contains("entry up"));
    }
}
