//! Highlights the line range named in the URL fragment (`#L10-L20`) and lets a click on a line
//! number, or shift-click, select a line or a range, keeping the permalink in the address bar.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// Highlights the line range named in the URL fragment (`#L10-L20`) and lets a click on a line
/// number, or shift-click, select a line or a range, keeping the permalink in the address bar.
#[island]
pub fn LineSelection() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        Effect::new(move |_| browser::select_lines(&browser::current_hash(), true));
        let anchor = StoredValue::new(None::<u32>);
        let _ = window_event_listener(leptos::ev::hashchange, move |_| {
            browser::select_lines(&browser::current_hash(), false)
        });
        let _ = window_event_listener(leptos::ev::click, move |event| {
            let Some(target) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
                return;
            };
            let Some(link) = target.closest("table.code td.ln").ok().flatten() else {
                return;
            };
            let Some(line) = link.text_content().and_then(|t| t.trim().parse::<u32>().ok()) else {
                return;
            };
            event.prevent_default();
            let fragment = match anchor.get_value() {
                Some(start) if event.shift_key() && start != line => {
                    format!("#L{}-L{}", start.min(line), start.max(line))
                }
                _ => {
                    anchor.set_value(Some(line));
                    format!("#L{line}")
                }
            };
            browser::set_hash(&fragment);
            browser::select_lines(&fragment, false);
        });
    }
    view! { <span hidden></span> }
}
