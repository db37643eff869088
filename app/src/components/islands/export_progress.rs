//! An export's progress while it runs: asks `/api/v1/exports/{id}` every second and moves the
//! bar; when the export ends, reloads the page (which then offers the download or the error).

use leptos::prelude::*;

/// An export's progress while it runs: asks `/api/v1/exports/{id}` every second and moves the
/// bar; when the export ends, reloads the page (which then offers the download or the error).
#[island]
pub fn ExportProgress(id: i64, done: u64, total: u64) -> impl IntoView {
    let progress = RwSignal::new((done, total));
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        let busy = StoredValue::new(false);
        let poll = move || {
            if busy.get_value() {
                return;
            }
            busy.set_value(true);
            leptos::task::spawn_local(async move {
                let status = async {
                    let window = web_sys::window()?;
                    let url = format!("/api/v1/exports/{id}");
                    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(&url)).await.ok()?;
                    let response: web_sys::Response = response.dyn_into().ok()?;
                    if !response.ok() {
                        return None;
                    }
                    let value = wasm_bindgen_futures::JsFuture::from(response.json().ok()?).await.ok()?;
                    let field = |name: &str| js_sys::Reflect::get(&value, &wasm_bindgen::JsValue::from_str(name)).ok();
                    let state = field("state")?.as_string()?;
                    let done = field("done")?.as_f64()? as u64;
                    let total = field("total")?.as_f64()? as u64;
                    Some((state, done, total))
                }
                .await;
                match status {
                    Some((state, done, total)) if state == "queued" || state == "running" => {
                        progress.set((done, total));
                        busy.set_value(false);
                    }
                    Some(_) => {
                        let _ = web_sys::window().map(|w| w.location().reload());
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
        <span class="job-cell">
            <progress
                max=move || progress.get().1.max(1).to_string()
                value=move || progress.get().0.to_string()
                aria-label=format!("Progress of export {id}")
            ></progress>
            <span class="muted">
                {move || {
                    let (done, total) = progress.get();
                    if total == 0 { "waiting".to_string() } else { format!("{:.0} %", done as f64 * 100.0 / total as f64) }
                }}
            </span>
        </span>
    }
}
