//! Keyboard navigation: `t` finds a file (or focuses the file filter), `/` searches the pin,
//! `j`/`k` move the selected line, `n`/`p`
//! open the next or previous file beside the code, `c` comments on the selected lines, `r` marks the
//! file reviewed, `?` shows the keys, `Escape` leaves a field or closes the help.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// Keyboard navigation: `t` finds a file (or focuses the file filter), `/` searches the pin,
/// `j`/`k` move the selected line, `n`/`p`
/// open the next or previous file beside the code, `c` comments on the selected lines, `r` marks the
/// file reviewed, `?` shows the keys, `Escape` leaves a field or closes the help.
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
                if let Some(help) = browser::document().get_element_by_id("keys-help") {
                    let _ = help.set_attribute("hidden", "");
                }
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
            let click = |id: &str| {
                browser::document()
                    .get_element_by_id(id)
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                    .map(|e| e.click())
                    .is_some()
            };
            match event.key().as_str() {
                "t" if click("finder-open") => event.prevent_default(),
                "/" => {
                    if let Some(search) = browser::document().get_element_by_id("search-box") {
                        if let Ok(input) = search.dyn_into::<web_sys::HtmlElement>() {
                            event.prevent_default();
                            let _ = input.focus();
                        }
                    } else if click("search-tab") {
                        event.prevent_default();
                    }
                }
                "t" => {
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
                "n" | "p" => {
                    // On a diff: the comparison's next or previous changed file.
                    let step = if event.key() == "n" { ".file-steps a[rel=next]" } else { ".file-steps a[rel=prev]" };
                    if let Some(link) = browser::query_all(step)
                        .into_iter()
                        .next()
                        .and_then(|l| l.dyn_into::<web_sys::HtmlElement>().ok())
                    {
                        link.click();
                        return;
                    }
                    let files = browser::query_all(".file-list.side li.entry.file a");
                    let current = browser::query_all(".file-list.side li.entry.current a").into_iter().next();
                    let at = current.and_then(|c| files.iter().position(|f| f.is_same_node(Some(&c))));
                    let target = match (at, event.key().as_str()) {
                        (Some(i), "n") => files.get(i + 1),
                        (Some(i), _) => i.checked_sub(1).and_then(|i| files.get(i)),
                        (None, _) => files.first(),
                    };
                    if let Some(link) = target.and_then(|t| t.clone().dyn_into::<web_sys::HtmlElement>().ok()) {
                        link.click();
                    }
                }
                "c" if click("composer-open") => event.prevent_default(),
                "r" => {
                    if let Some(form) = browser::document().get_element_by_id("reviewed-form") {
                        if let Ok(form) = form.dyn_into::<web_sys::HtmlFormElement>() {
                            let _ = form.request_submit();
                        }
                    }
                }
                "?" => {
                    if let Some(help) = browser::document().get_element_by_id("keys-help") {
                        let _ = help.toggle_attribute("hidden");
                    }
                }
                _ => {}
            }
        });
    }
    view! { <span hidden></span> }
}
