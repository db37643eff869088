//! A file at a pin: the tree beside it, the highlighted code with line numbers and permalinks.

use crate::api::open_blob;
use crate::components::islands::{FileFilter, LineSelection};
use crate::components::layout::{ErrorPanel, Loading, Page, Watermark};
use crate::model::{BlobContent, BlobView};
use crate::routes::tree::{size_text, Breadcrumbs, EntryList, PinBar};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn BlobPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let params = params.read();
        (params.get("pin").unwrap_or_default(), params.get("path").unwrap_or_default())
    };
    let blob = Resource::new(key, |(pin, path)| open_blob(pin, path));
    view! {
        <Page title="File">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match blob.await {
                        Ok(view) => view! { <BlobBody view/> }.into_any(),
                        Err(error) => view! { <main class="content"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn BlobBody(view: BlobView) -> impl IntoView {
    let pin_id = view.pin.id.to_string();
    let name = view.path.file_name().to_string();
    let dir = view.path.parent();
    let meta = format!("{} · blob {}", size_text(view.size), &view.blob_id[..view.blob_id.len().min(12)]);
    view! {
        <leptos_meta::Title text=format!("{} · {} · Clearroom", view.path, view.pin.label)/>
        <Watermark mark=view.watermark.clone()/>
        <PinBar pin=view.pin.clone()/>
        <div class="browse">
            <aside class="sidebar" aria-label="Files in this directory">
                <FileFilter/>
                <EntryList pin=pin_id.clone() dir=dir entries=view.siblings.clone() current=Some(name) class="file-list side"/>
            </aside>
            <main class="content code-pane">
                <Breadcrumbs pin=view.pin.clone() path=view.path.clone() leaf_is_file=true/>
                <div class="file-header">
                    <span class="file-name">{view.path.file_name().to_string()}</span>
                    <span class="muted">{meta}</span>
                    {match &view.content {
                        BlobContent::Text { language: Some(language), .. } => Some(view! { <span class="badge">{language.clone()}</span> }),
                        _ => None,
                    }}
                </div>
                <FileContent content=view.content/>
            </main>
        </div>
        <LineSelection/>
    }
}

#[component]
fn FileContent(content: BlobContent) -> impl IntoView {
    match content {
        BlobContent::Text { lines, notice, .. } => {
            let count = lines.len();
            let mut rows = String::with_capacity(lines.iter().map(|l| l.len() + 80).sum());
            for (i, line) in lines.iter().enumerate() {
                let n = i + 1;
                rows.push_str("<tr id=\"L");
                rows.push_str(&n.to_string());
                rows.push_str("\"><td class=\"ln\"><a href=\"#L");
                rows.push_str(&n.to_string());
                rows.push_str("\">");
                rows.push_str(&n.to_string());
                rows.push_str("</a></td><td class=\"lc\">");
                rows.push_str(line);
                rows.push_str("</td></tr>");
            }
            view! {
                {notice.map(|text| view! { <div class="notice notice-info" role="status">{text}</div> })}
                {if count == 0 {
                    view! { <div class="empty"><p>"This file is empty."</p></div> }.into_any()
                } else {
                    view! {
                        <div class="code-scroll">
                            <table class="code" data-lines=count.to_string()>
                                <tbody inner_html=rows></tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            }
            .into_any()
        }
        BlobContent::Binary { mime, hex_preview } => view! {
            <div class="notice notice-info" role="status">
                "Binary file (" {mime} "). It is not shown as text; the first bytes follow."
            </div>
            <pre class="hexdump">{hex_preview.join("\n")}</pre>
        }
        .into_any(),
    }
}
