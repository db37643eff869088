//! The diff layout switch: two links (they work without JavaScript); with it, the choice is also
//! remembered for the next diff (a `diff_layout` cookie the server reads).

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// The diff layout switch: two links (they work without JavaScript); with it, the choice is also
/// remembered for the next diff (a `diff_layout` cookie the server reads).
#[island]
pub fn LayoutChoice(current: String) -> impl IntoView {
    let remember = move |choice: &'static str| {
        move |_| {
            #[cfg(feature = "hydrate")]
            {
                use wasm_bindgen::JsCast;
                if let Ok(document) = browser::document().dyn_into::<web_sys::HtmlDocument>() {
                    let _ = document
                        .set_cookie(&format!("diff_layout={choice}; path=/; max-age=31536000; SameSite=Strict"));
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = choice;
        }
    };
    view! {
        <span class="layout-choice" role="group" aria-label="Layout">
            <a class="button small" class:primary=current == "unified" href="?view=unified" on:click=remember("unified")>"Unified"</a>
            <a class="button small" class:primary=current == "split" href="?view=split" on:click=remember("split")>"Side by side"</a>
        </span>
    }
}
