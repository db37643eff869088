//! The only parts of the UI that run in the browser. Each is small and optional: every page works
//! without them (server-rendered links and forms), and they add comfort when the WASM loads.

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::JsCast;

    pub fn document() -> web_sys::Document {
        web_sys::window().and_then(|w| w.document()).expect("a browser document")
    }

    pub fn query_all(selector: &str) -> Vec<web_sys::Element> {
        let mut found = Vec::new();
        if let Ok(list) = document().query_selector_all(selector) {
            for i in 0..list.length() {
                if let Some(element) = list.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                    found.push(element);
                }
            }
        }
        found
    }

    pub fn storage() -> Option<web_sys::Storage> {
        web_sys::window().and_then(|w| w.local_storage().ok().flatten())
    }

    /// Marks the rows of a line range as selected and scrolls the first into view.
    pub fn select_lines(fragment: &str, scroll: bool) {
        for row in query_all("tr.selected") {
            let _ = row.class_list().remove_1("selected");
        }
        let Ok(range) = crate::model::LineRange::parse(fragment) else {
            return;
        };
        let document = document();
        for line in range.first..=range.last.min(range.first.saturating_add(100_000)) {
            match document.get_element_by_id(&format!("L{line}")) {
                Some(row) => {
                    let _ = row.class_list().add_1("selected");
                }
                None => break,
            }
        }
        if scroll {
            if let Some(first) = document.get_element_by_id(&format!("L{}", range.first)) {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Center);
                first.scroll_into_view_with_scroll_into_view_options(&options);
            }
        }
    }

    pub fn current_hash() -> String {
        web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
    }

    pub fn set_hash(hash: &str) {
        if let Some(window) = web_sys::window() {
            if let Ok(history) = window.history() {
                let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(hash));
            }
        }
    }
}

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
            let Some(link) = target.closest("td.ln a").ok().flatten() else {
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

/// Rewrites every `<time class="local-time">` in the viewer's time zone; UTC stays in the title.
#[island]
pub fn LocalTimes() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        for element in browser::query_all("time.local-time[data-ms]") {
            let Some(ms) = element.get_attribute("data-ms").and_then(|v| v.parse::<f64>().ok()) else {
                continue;
            };
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
            let local: String = date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED).into();
            element.set_text_content(Some(&local));
        }
    });
    view! { <span hidden></span> }
}

/// Keyboard navigation: `t` or `/` focuses the file filter, `j`/`k` move the selected line,
/// `Escape` leaves a field.
#[island]
pub fn Keyboard() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let _ = window_event_listener(leptos::ev::keydown, move |event| {
            let in_field = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .map(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
                .unwrap_or(false);
            if event.key() == "Escape" {
                if let Some(active) = browser::document().active_element() {
                    if let Ok(element) = active.dyn_into::<web_sys::HtmlElement>() {
                        let _ = element.blur();
                    }
                }
                return;
            }
            if in_field || event.ctrl_key() || event.meta_key() || event.alt_key() {
                return;
            }
            match event.key().as_str() {
                "t" | "/" => {
                    if let Some(filter) = browser::document().get_element_by_id("file-filter") {
                        if let Ok(input) = filter.dyn_into::<web_sys::HtmlElement>() {
                            event.prevent_default();
                            let _ = input.focus();
                        }
                    }
                }
                "j" | "k" => {
                    let current =
                        crate::model::LineRange::parse(&browser::current_hash()).map(|r| r.first).unwrap_or(0);
                    let next = if event.key() == "j" { current + 1 } else { current.saturating_sub(1).max(1) };
                    if browser::document().get_element_by_id(&format!("L{next}")).is_some() {
                        let fragment = format!("#L{next}");
                        browser::set_hash(&fragment);
                        browser::select_lines(&fragment, true);
                    }
                }
                _ => {}
            }
        });
    }
    view! { <span hidden></span> }
}

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
