//! Go to definition: a click on a name in the code shows where it is likely defined and used in the
//! pin (search-based, from the pin's definitions and a whole-word search), each a link to the line.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// Go to definition: a click on a name in the code shows where it is likely defined and used in the
/// pin (search-based, from the pin's definitions and a whole-word search), each a link to the line.
#[island]
pub fn SymbolLookup(pin: String) -> impl IntoView {
    let answer = RwSignal::new(None::<crate::model::SymbolView>);
    let busy = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let pin = pin.clone();
        let _ = window_event_listener(leptos::ev::click, move |event| {
            let Some(target) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
            if target.closest("table.code td.lc").ok().flatten().is_none()
                || target.closest("a, .thread").ok().flatten().is_some()
            {
                return;
            }
            let window = web_sys::window().expect("a window");
            if window.get_selection().ok().flatten().is_some_and(|s| !s.is_collapsed()) {
                return; // The reader is selecting text.
            }
            let Some(caret) =
                browser::document().caret_position_from_point(event.client_x() as f32, event.client_y() as f32)
            else {
                return;
            };
            let Some(node) = caret.offset_node() else { return };
            let text = node.text_content().unwrap_or_default();
            let offset = caret.offset() as usize;
            let chars: Vec<char> = text
                .encode_utf16()
                .collect::<Vec<u16>>()
                .iter()
                .map(|&u| char::from_u32(u as u32).unwrap_or(' '))
                .collect();
            let word = |c: &char| c.is_alphanumeric() || *c == '_';
            let mut start = offset.min(chars.len());
            while start > 0 && word(&chars[start - 1]) {
                start -= 1;
            }
            let mut end = offset.min(chars.len());
            while end < chars.len() && word(&chars[end]) {
                end += 1;
            }
            let name: String = chars[start..end].iter().collect();
            if name.is_empty() || name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                return;
            }
            let pin = pin.clone();
            busy.set(true);
            leptos::task::spawn_local(async move {
                let result = crate::api::find_symbol(pin, name).await;
                busy.set(false);
                answer.set(result.ok());
            });
        });
    }
    let pin_for_links = pin.clone();
    view! {
        <aside class="symbol-panel" aria-label="Definitions and references" hidden=move || answer.get().is_none() && !busy.get()>
            <button type="button" class="button small subtle close" on:click=move |_| answer.set(None)>"Close"</button>
            {move || busy.get().then(|| view! { <p class="muted">"Looking…"</p> })}
            {move || answer.get().map(|symbol| {
                let pin = pin_for_links.clone();
                let site = move |site: crate::model::SymbolSite| {
                    let href = format!("/pins/{pin}/blob/{}#L{}", crate::model::RepoPath::parse(&site.path).map(|p| p.url_encoded()).unwrap_or_default(), site.line);
                    view! { <li><a href=href>{format!("{}:{}", site.path, site.line)}</a><code>{site.text.trim().to_string()}</code></li> }
                };
                let site_again = site.clone();
                view! {
                    <h2><code>{symbol.name.clone()}</code></h2>
                    {symbol.indexing.then(|| view! { <p class="muted">"This pin's definitions are still being found; the list may be incomplete."</p> })}
                    <h3>{format!("Definitions ({})", symbol.definitions.len())}</h3>
                    <ul>{symbol.definitions.into_iter().map(site).collect_view()}</ul>
                    <h3>{format!("References ({})", symbol.references.len())}</h3>
                    <ul>{symbol.references.into_iter().map(site_again).collect_view()}</ul>
                }
            })}
        </aside>
    }
}
