//! A running room build's log, followed: asks `/api/v1/room-builds/{id}/log?from=N` every second,
//! appends what came to the page's `#build-log`, and shows the time against the build's limit;
//! when the build ends, reloads the page (which then shows its outputs or why it failed).

use leptos::prelude::*;

fn clock(seconds: u64) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

#[island]
pub fn BuildLog(id: i64, next: u64, wall_seconds: u64, elapsed: u64) -> impl IntoView {
    let shown = RwSignal::new(elapsed);
    let _ = next; // where the script asks from (only in the browser)
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        let offset = StoredValue::new(next);
        let busy = StoredValue::new(false);
        let poll = move || {
            if busy.get_value() {
                return;
            }
            busy.set_value(true);
            leptos::task::spawn_local(async move {
                let part = async {
                    let window = web_sys::window()?;
                    let url = format!("/api/v1/room-builds/{id}/log?from={}", offset.get_value());
                    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(&url)).await.ok()?;
                    let response: web_sys::Response = response.dyn_into().ok()?;
                    if !response.ok() {
                        return None;
                    }
                    let value = wasm_bindgen_futures::JsFuture::from(response.json().ok()?).await.ok()?;
                    let field = |name: &str| js_sys::Reflect::get(&value, &wasm_bindgen::JsValue::from_str(name)).ok();
                    let state = field("state")?.as_string()?;
                    let next = field("next")?.as_f64()? as u64;
                    let text = field("text")?.as_string().unwrap_or_default();
                    let elapsed = field("elapsed_seconds").and_then(|v| v.as_f64()).map(|v| v as u64);
                    Some((state, next, text, elapsed))
                }
                .await;
                match part {
                    Some((state, next, text, elapsed)) => {
                        if !text.is_empty() {
                            if let Some(log) = web_sys::window()
                                .and_then(|w| w.document())
                                .and_then(|d| d.get_element_by_id("build-log"))
                            {
                                let _ = log.insert_adjacent_text("beforeend", &text);
                                log.set_scroll_top(log.scroll_height());
                            }
                        }
                        offset.set_value(next);
                        if let Some(elapsed) = elapsed {
                            shown.set(elapsed);
                        }
                        if state == "queued" || state == "running" {
                            busy.set_value(false);
                        } else {
                            let _ = web_sys::window().map(|w| w.location().reload());
                        }
                    }
                    None => {} // Stop asking; the page still works when reloaded.
                }
            });
        };
        let handle = leptos::prelude::set_interval_with_handle(poll, std::time::Duration::from_secs(1));
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    }
    view! {
        <p class="build-progress">
            <progress max=wall_seconds.max(1).to_string() value=move || shown.get().to_string() aria-label=format!("Time used by room build {id}")></progress>
            <span class="muted">{move || format!("running · {} of the {} limit", clock(shown.get()), clock(wall_seconds))}</span>
        </p>
    }
}
