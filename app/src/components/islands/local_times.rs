//! Adds the viewer's own time to every `<time class="local-time">`, on hover: the page shows
//! times in UTC, one format everywhere and the zone the forms take, so nothing changes as the
//! script runs.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// Adds the viewer's own time to every `<time class="local-time">`, on hover (its title).
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
            let _ = element.set_attribute("title", &format!("{local} (your time)"));
        }
    });
    view! { <span hidden></span> }
}
