//! The sidebar's directories open in place: a directory's toggle lists its entries under it,
//! fetched when first opened (a `tree.view` like any listing), so the reader walks the whole tree
//! beside the code without leaving the file. Without a script the directory's link opens it.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// Makes the sidebar's directory toggles work (they are hidden until it runs).
#[island]
pub fn SidebarTree(pin: String) -> impl IntoView {
    #[cfg(not(feature = "hydrate"))]
    let _ = &pin;
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        for list in browser::query_all(".file-list.side") {
            let _ = list.class_list().add_1("tree-ready");
        }
        let pin = pin.clone();
        let _ = window_event_listener(leptos::ev::click, move |event| {
            let Some(target) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
            let Ok(Some(toggle)) = target.closest(".file-list.side .twisty") else { return };
            event.prevent_default();
            let Some(item) = toggle.parent_element() else { return };
            let open = toggle.get_attribute("aria-expanded").as_deref() == Some("true");
            let set_open = |open: bool| {
                let _ = toggle.set_attribute("aria-expanded", if open { "true" } else { "false" });
                toggle.set_text_content(Some(if open { "▾" } else { "▸" }));
            };
            if let Ok(Some(nested)) = item.query_selector(":scope > ul.nested") {
                let _ = nested.toggle_attribute_with_force("hidden", open);
                set_open(!open);
                return;
            }
            let Some(path) = toggle.get_attribute("data-path") else { return };
            set_open(true);
            let (pin, toggle) = (pin.clone(), toggle.clone());
            leptos::task::spawn_local(async move {
                let Ok(dir) = crate::model::RepoPath::parse(&path) else { return };
                let listed = crate::api::open_tree(pin.clone(), dir.url_encoded()).await;
                let Ok(view) = listed else {
                    let _ = toggle.set_attribute("aria-expanded", "false");
                    toggle.set_text_content(Some("▸"));
                    return;
                };
                let document = browser::document();
                let Ok(nested) = document.create_element("ul") else { return };
                let _ = nested.set_attribute("class", "file-list side nested tree-ready");
                nested.set_inner_html(&crate::routes::tree::nested_items_html(&pin, &dir, &view.entries));
                let _ = item.append_child(&nested);
            });
        });
    });
    view! { <span hidden></span> }
}
