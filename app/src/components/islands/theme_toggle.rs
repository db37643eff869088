//! Switches between the light and the dark theme and remembers the choice in this browser.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// Switches between the light and the dark theme and remembers the choice in this browser.
#[island]
pub fn ThemeToggle() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(theme) = browser::storage().and_then(|s| s.get_item("theme").ok().flatten()) {
            if let Some(root) = browser::document().document_element() {
                let _ = root.set_attribute("data-theme", &theme);
            }
        }
    });
    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let Some(root) = browser::document().document_element() else {
                return;
            };
            let dark_now = match root.get_attribute("data-theme").as_deref() {
                Some("dark") => true,
                Some(_) => false,
                None => web_sys::window()
                    .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
                    .map(|m| m.matches())
                    .unwrap_or(false),
            };
            let next = if dark_now { "light" } else { "dark" };
            let _ = root.set_attribute("data-theme", next);
            if let Some(storage) = browser::storage() {
                let _ = storage.set_item("theme", next);
            }
        }
    };
    view! {
        <button type="button" class="button subtle theme-toggle" title="Switch light or dark theme" on:click=toggle>
            "◐"
        </button>
    }
}
