//! A comparison's page of every diff: each file's diff is fetched as it comes within a few screens
//! of the view (each fetch is a recorded diff view, as opening it on its own page is), so a long
//! list costs only what the reader scrolls to. Without a script each file links to its diff.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// Loads the diffs of `.lazy-diff[data-src]` placeholders near the view, a few at a time.
#[island]
pub fn LazyDiffs() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let load_near = move || {
            let height =
                web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()).unwrap_or(800.0);
            for holder in browser::query_all(".lazy-diff[data-src]") {
                if holder.get_bounding_client_rect().top() > height * 2.5 {
                    continue;
                }
                let Some(url) = holder.get_attribute("data-src") else { continue };
                // Taken: not asked for twice.
                let _ = holder.remove_attribute("data-src");
                let _ = holder.set_attribute("aria-busy", "true");
                holder.set_text_content(Some("Loading the diff…"));
                leptos::task::spawn_local(async move {
                    let fragment = async {
                        let window = web_sys::window()?;
                        let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(&url)).await.ok()?;
                        let response: web_sys::Response = response.dyn_into().ok()?;
                        // Sent to the sign-in page: the session ended.
                        if response.redirected() {
                            return Some((
                                false,
                                "your session has ended; reload the page to sign in again".to_string(),
                            ));
                        }
                        let ok = response.ok();
                        let text =
                            wasm_bindgen_futures::JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
                        Some((ok, text))
                    }
                    .await;
                    let _ = holder.remove_attribute("aria-busy");
                    match fragment {
                        // The server's own markup: escaped and highlighted there.
                        Some((true, html)) => holder.set_inner_html(&html),
                        Some((false, reason)) => holder.set_text_content(Some(&format!("Not shown: {reason}"))),
                        None => holder.set_text_content(Some("The diff could not be loaded; open it from its link.")),
                    }
                });
            }
        };
        Effect::new(move |_| load_near());
        let _ = window_event_listener(leptos::ev::scroll, move |_| load_near());
    }
    view! { <span hidden></span> }
}
