//! A reviewer's remaining time in the header, counting down; ten minutes before the end, a warning.

use leptos::prelude::*;

/// A reviewer's remaining time in the header, counting down; ten minutes before the end, a warning.
#[island]
pub fn SessionClock(ends_ms: i64, now_ms: i64) -> impl IntoView {
    let remaining = RwSignal::new(ends_ms - now_ms);
    #[cfg(feature = "hydrate")]
    {
        let tick = move || remaining.set(ends_ms - js_sys::Date::now() as i64);
        tick();
        let handle = leptos::prelude::set_interval_with_handle(tick, std::time::Duration::from_secs(15));
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    }
    view! {
        <span class="session-clock" class:ending=move || remaining.get() < 10 * 60_000 title="When your access ends">
            {move || format!("{} left", crate::times::duration_text(remaining.get()))}
        </span>
        <Show when=move || { remaining.get() < 10 * 60_000 }>
            <div class="ending-banner" role="alert">
                {move || format!("Your access ends in {}. Save what you are writing.", crate::times::duration_text(remaining.get()))}
            </div>
        </Show>
    }
}
