//! The `<time>` element: in UTC, as every time on the pages and in the forms is; the `LocalTimes`
//! island adds the viewer's own time on hover. Formatting itself lives in `crate::times`.

use crate::times::{rfc3339, utc_text};
use leptos::prelude::*;

/// A `<time>` element in UTC; the island puts the viewer's own time in its title.
#[component]
pub fn Time(ms: i64) -> impl IntoView {
    let utc = utc_text(ms);
    view! {
        <time datetime=rfc3339(ms) title=utc.clone() data-ms=ms.to_string() class="local-time">
            {utc.clone()}
        </time>
    }
}
