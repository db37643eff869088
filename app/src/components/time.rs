//! The `<time>` element: rendered in UTC on the server, turned into the viewer's time zone by the
//! `LocalTimes` island, with UTC kept on hover. Formatting itself lives in `crate::times`.

use crate::times::{rfc3339, utc_text};
use leptos::prelude::*;

/// A `<time>` element; the island rewrites its text in local time.
#[component]
pub fn Time(ms: i64) -> impl IntoView {
    let utc = utc_text(ms);
    view! {
        <time datetime=rfc3339(ms) title=utc.clone() data-ms=ms.to_string() class="local-time">
            {utc.clone()}
        </time>
    }
}
