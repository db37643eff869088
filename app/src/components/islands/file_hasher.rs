//! Hashes a chosen file in the browser (WebCrypto for files up to 64 MiB, a streaming SHA-256 in
//! WASM above, with progress) and submits the verify form with the hash; the file is not sent.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// Hashes a chosen file in the browser (WebCrypto for files up to 64 MiB, a streaming SHA-256 in
/// WASM above, with progress) and submits the verify form with the hash; the file is not sent.
#[island]
pub fn FileHasher() -> impl IntoView {
    let progress = RwSignal::new(None::<(f64, f64)>);
    let status = RwSignal::new(String::new());
    let on_change = move |_event: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = _event.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
                return;
            };
            let Some(file) = input.files().and_then(|files| files.get(0)) else {
                return;
            };
            leptos::task::spawn_local(async move {
                let started = js_sys::Date::now();
                status.set(format!("Hashing {} …", file.name()));
                match hashing::sha256_of(&file, progress).await {
                    Ok(hex) => {
                        let seconds = ((js_sys::Date::now() - started) / 1000.0).max(0.001);
                        let rate = file.size() / 1_048_576.0 / seconds;
                        status.set(format!("SHA-256 computed in {seconds:.1} s ({rate:.0} MB/s)."));
                        let document = browser::document();
                        if let Some(field) = document
                            .get_element_by_id("verify-sha256")
                            .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                        {
                            field.set_value(&hex);
                        }
                        if let Some(form) = document
                            .get_element_by_id("verify-form")
                            .and_then(|e| e.dyn_into::<web_sys::HtmlFormElement>().ok())
                        {
                            let _ = form.submit();
                        }
                    }
                    Err(message) => status.set(message),
                }
            });
        }
    };
    view! {
        <label>"File" <input type="file" id="verify-file" on:change=on_change/></label>
        <span class="hash-progress" aria-live="polite">
            {move || progress.get().map(|(done, total)| view! { <progress max=total value=done></progress> })}
            <span id="hash-status" class="muted small">{move || status.get()}</span>
        </span>
    }
}

#[cfg(feature = "hydrate")]
mod hashing {
    use leptos::prelude::*;
    use sha2::Digest as _;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    /// Files up to this size are hashed by WebCrypto in one call; larger ones in slices.
    const WEBCRYPTO_MAX: f64 = 64.0 * 1024.0 * 1024.0;
    const SLICE: f64 = 8.0 * 1024.0 * 1024.0;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    async fn slice_bytes(file: &web_sys::File, start: f64, end: f64) -> Result<js_sys::ArrayBuffer, String> {
        let blob = file.slice_with_f64_and_f64(start, end).map_err(|_| "could not read the file".to_string())?;
        let buffer = JsFuture::from(blob.array_buffer()).await.map_err(|_| "could not read the file".to_string())?;
        buffer.dyn_into::<js_sys::ArrayBuffer>().map_err(|_| "could not read the file".to_string())
    }

    pub async fn sha256_of(file: &web_sys::File, progress: RwSignal<Option<(f64, f64)>>) -> Result<String, String> {
        let total = file.size();
        progress.set(Some((0.0, total.max(1.0))));
        if total <= WEBCRYPTO_MAX {
            let subtle = web_sys::window().and_then(|w| w.crypto().ok()).map(|c| c.subtle());
            if let Some(subtle) = subtle {
                let buffer = slice_bytes(file, 0.0, total).await?;
                if let Ok(promise) = subtle.digest_with_str_and_buffer_source("SHA-256", &buffer) {
                    if let Ok(digest) = JsFuture::from(promise).await {
                        progress.set(Some((total, total.max(1.0))));
                        return Ok(hex(&js_sys::Uint8Array::new(&digest).to_vec()));
                    }
                }
            }
        }
        // Large files (or no WebCrypto, as on plain HTTP away from localhost): stream in slices.
        let mut hasher = sha2::Sha256::new();
        let mut start = 0.0;
        while start < total {
            let end = (start + SLICE).min(total);
            let buffer = slice_bytes(file, start, end).await?;
            hasher.update(js_sys::Uint8Array::new(&buffer).to_vec());
            start = end;
            progress.set(Some((start, total)));
        }
        Ok(hex(&hasher.finalize()))
    }
}
