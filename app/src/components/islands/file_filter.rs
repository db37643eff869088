//! Filters the file list beside the code as the user types.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// Filters the file list beside the code as the user types.
#[island]
pub fn FileFilter() -> impl IntoView {
    let on_input = move |_event: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = _event.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
                return;
            };
            let needle = input.value().to_lowercase();
            for item in browser::query_all(".file-list li[data-name]") {
                let name = item.get_attribute("data-name").unwrap_or_default().to_lowercase();
                let hide = !needle.is_empty() && !name.contains(&needle);
                let _ = item.toggle_attribute_with_force("hidden", hide);
            }
        }
    };
    view! {
        <input
            id="file-filter"
            class="file-filter"
            type="search"
            placeholder="Filter files (t)"
            aria-label="Filter files"
            on:input=on_input
        />
    }
}
