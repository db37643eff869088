//! Copies a file's path, or the page's permalink (its address with the selected lines), to the
//! clipboard. A script's button: hidden until the page's script runs, since it does nothing
//! without one.

use leptos::prelude::*;

/// Copies `text`, or the page's address when there is none, and says so for a moment.
#[island]
pub fn CopyButton(label: String, #[prop(optional)] text: Option<String>) -> impl IntoView {
    #[cfg(not(feature = "hydrate"))]
    let _ = &text;
    let ready = RwSignal::new(false);
    let said = RwSignal::new(String::new());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| ready.set(true));
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let value = text
                .clone()
                .unwrap_or_else(|| web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default());
            // The Clipboard API through the window object (no further web-sys features).
            let copied = (|| {
                let window = web_sys::window()?;
                let navigator = js_sys::Reflect::get(&window, &"navigator".into()).ok()?;
                let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).ok()?;
                let write =
                    js_sys::Reflect::get(&clipboard, &"writeText".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
                write.call1(&clipboard, &value.into()).ok()
            })();
            said.set(if copied.is_some() { "Copied".into() } else { "Copying is not allowed here".into() });
            set_timeout(move || said.set(String::new()), std::time::Duration::from_millis(2000));
        }
    };
    view! {
        <button type="button" class="button small subtle copy-button" hidden=move || !ready.get() on:click=copy>
            {label}
        </button>
        <span class="copy-said muted" role="status" aria-live="polite">{move || said.get()}</span>
    }
}
