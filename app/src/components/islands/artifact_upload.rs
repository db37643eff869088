//! Uploads a build artifact with a progress bar: the raw file is the body of
//! `POST /api/v1/pins/{pin}/builds`, hashed by the server as it arrives.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// Uploads a build artifact with a progress bar: the raw file is the body of
/// `POST /api/v1/pins/{pin}/builds`, hashed by the server as it arrives.
#[island]
pub fn ArtifactUpload(pin: String, csrf: String) -> impl IntoView {
    let progress = RwSignal::new(None::<(f64, f64)>);
    let status = RwSignal::new(String::new());
    let start = move |_| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let document = browser::document();
            let value = |id: &str| {
                document
                    .get_element_by_id(id)
                    .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                    .map(|i| i.value())
                    .unwrap_or_default()
            };
            let Some(file) = document
                .get_element_by_id("upload-file")
                .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                .and_then(|i| i.files())
                .and_then(|f| f.get(0))
            else {
                status.set("Choose a file to upload.".into());
                return;
            };
            let name = match value("upload-name") {
                n if n.trim().is_empty() => file.name(),
                n => n,
            };
            let query: String =
                [("name", name), ("platform", value("upload-platform")), ("builder", value("upload-builder"))]
                    .iter()
                    .map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(v))))
                    .collect::<Vec<_>>()
                    .join("&");
            let Ok(request) = web_sys::XmlHttpRequest::new() else { return };
            if request.open("POST", &format!("/api/v1/pins/{pin}/builds?{query}")).is_err() {
                return;
            }
            let _ = request.set_request_header("X-CSRF-Token", &csrf);
            let _ = request.set_request_header("Content-Type", "application/octet-stream");
            let on_progress = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(
                move |event: web_sys::ProgressEvent| progress.set(Some((event.loaded(), event.total().max(1.0)))),
            );
            if let Ok(upload) = request.upload() {
                upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
            }
            on_progress.forget();
            let answered = request.clone();
            let on_load = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
                let code = answered.status().unwrap_or(0);
                let text = answered.response_text().ok().flatten().unwrap_or_default();
                let message = js_sys::JSON::parse(&text)
                    .ok()
                    .and_then(|v| js_sys::Reflect::get(&v, &"error".into()).ok())
                    .and_then(|v| v.as_string());
                if code == 201 {
                    status.set("Recorded. Reloading …".into());
                    let _ = web_sys::window().map(|w| w.location().reload());
                } else {
                    status.set(format!("Refused ({code}): {}", message.unwrap_or_else(|| "the upload failed".into())));
                }
            });
            request.set_onload(Some(on_load.as_ref().unchecked_ref()));
            on_load.forget();
            status.set("Uploading …".into());
            let _ = request.send_with_opt_blob(Some(&file));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&pin, &csrf);
    };
    view! {
        <div class="row-form upload">
            <label>"File" <input type="file" id="upload-file"/></label>
            <label>"Artifact name" <input id="upload-name" maxlength="200" placeholder="the file's name"/></label>
            <label>"Platform" <input id="upload-platform" maxlength="100" placeholder="linux/amd64"/></label>
            <label>"Builder" <input id="upload-builder" maxlength="200" placeholder="who built it"/></label>
            <button type="button" class="button primary" id="upload-start" on:click=start>"Upload and record"</button>
            <span class="hash-progress" aria-live="polite">
                {move || progress.get().map(|(done, total)| view! { <progress max=total value=done></progress> })}
                <span id="upload-status" class="muted small">{move || status.get()}</span>
            </span>
        </div>
    }
}
