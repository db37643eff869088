//! Rewrites every `<time class="local-time">` in the viewer's time zone; UTC stays in the title.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

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
