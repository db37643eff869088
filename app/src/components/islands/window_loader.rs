//! For a file shown a window of lines at a time: loads the next window's rows as the reader scrolls
//! near the end of the table (each load is a recorded read of those lines), and a link to a line
//! outside the loaded lines (`#L120000`) opens the window that holds it.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// For a file shown a window of lines at a time: loads the next window's rows as the reader scrolls
/// near the end of the table (each load is a recorded read of those lines), and a link to a line
/// outside the loaded lines (`#L120000`) opens the window that holds it.
#[island]
pub fn WindowLoader(lines_url: String, page_url: String, first: u32, last: u32, total: u32) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let loaded_last = StoredValue::new(last);
        let busy = StoredValue::new(false);
        let jump = {
            let page_url = page_url.clone();
            move || {
                let hash = browser::current_hash();
                let Ok(range) = crate::model::LineRange::parse(&hash) else { return };
                if range.first < first || range.first > loaded_last.get_value() {
                    let from = crate::model::LineWindow::around(range.first.min(total.max(1)));
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().replace(&format!("{page_url}?from={from}{hash}"));
                    }
                }
            }
        };
        Effect::new({
            let jump = jump.clone();
            move |_| {
                // The go-to-line field's `?line=N`: the server sent the window that holds it.
                let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
                let asked = web_sys::UrlSearchParams::new_with_str(&search).ok().and_then(|q| q.get("line"));
                if let Some(line) =
                    asked.and_then(|l| l.parse::<u32>().ok()).filter(|_| browser::current_hash().is_empty())
                {
                    if (first..=loaded_last.get_value()).contains(&line) {
                        let fragment = format!("#L{line}");
                        browser::set_hash(&fragment);
                        browser::select_lines(&fragment, true);
                    }
                }
                jump()
            }
        });
        let _ = window_event_listener(leptos::ev::hashchange, move |_| jump());
        let _ = window_event_listener(leptos::ev::scroll, move |_| {
            if busy.get_value() || loaded_last.get_value() >= total {
                return;
            }
            let document = browser::document();
            let Some(body) = document.query_selector("table.code tbody").ok().flatten() else { return };
            let height =
                web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()).unwrap_or(800.0);
            if body.get_bounding_client_rect().bottom() > height * 3.0 {
                return;
            }
            busy.set_value(true);
            let join = if lines_url.contains('?') { '&' } else { '?' };
            let url = format!("{lines_url}{join}from={}", loaded_last.get_value() + 1);
            leptos::task::spawn_local(async move {
                let rows = async {
                    let window = web_sys::window()?;
                    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(&url)).await.ok()?;
                    let response: web_sys::Response = response.dyn_into().ok()?;
                    if !response.ok() {
                        return None;
                    }
                    let range = response.headers().get("x-lines").ok().flatten()?;
                    let last: u32 = range.split(['-', '/']).nth(1)?.parse().ok()?;
                    let text = wasm_bindgen_futures::JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
                    Some((last, text))
                }
                .await;
                if let Some((last, text)) = rows {
                    let _ = body.insert_adjacent_html("beforeend", &text);
                    loaded_last.set_value(last);
                    if let Some(label) = browser::document().query_selector(".window-range").ok().flatten() {
                        label.set_text_content(Some(&format!(
                            "Lines {}–{} of {}",
                            crate::html::thousands(first),
                            crate::html::thousands(last),
                            crate::html::thousands(total)
                        )));
                    }
                    if last >= total {
                        if let Some(next) = browser::document().query_selector(".window-next").ok().flatten() {
                            next.remove();
                        }
                    }
                    busy.set_value(false);
                }
                // A failed load stays failed until the page is reloaded: no retry storm.
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (&lines_url, &page_url, first, last, total);
    view! { <span hidden></span> }
}
