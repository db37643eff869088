//! Times: rendered in UTC on the server, turned into the viewer's time zone by the `LocalTimes`
//! island, with UTC kept on hover.

use ::time::{format_description::well_known::Rfc3339, macros::format_description, OffsetDateTime};
use leptos::prelude::*;

fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2026-11-28 14:05 UTC`
pub fn utc_text(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    from_ms(ms).format(&format).unwrap_or_default()
}

pub fn rfc3339(ms: i64) -> String {
    from_ms(ms).format(&Rfc3339).unwrap_or_default()
}

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
