//! Times: the one module that parses and formats them, for the pages, the server's forms, its
//! command line and its audit leaves. A time is milliseconds since the Unix epoch, UTC.
//!
//! Input is RFC 3339 with a zone (`2026-11-28T10:00:00Z`, `2026-11-28T11:00:00+01:00`, fractions
//! allowed) or a browser's `datetime-local` value without one (`2026-11-28T10:00`,
//! `2026-11-28T10:00:30`), which is taken as UTC; the web form and the command line accept exactly
//! these forms.

use crate::model::InputError;
use ::time::format_description::well_known::Rfc3339;
use ::time::macros::format_description;
use ::time::{OffsetDateTime, PrimitiveDateTime};

fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn to_ms(at: OffsetDateTime) -> Result<i64, InputError> {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).map_err(|_| InputError("the time is out of range"))
}

/// Parses a time in one of the accepted forms (see the module documentation).
pub fn parse(text: &str) -> Result<i64, InputError> {
    let text = text.trim();
    let refused = InputError("a time looks like 2026-11-28T10:00:00Z (RFC 3339) or 2026-11-28T10:00 (UTC)");
    if text.is_empty() || text.len() > 40 {
        return Err(refused);
    }
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return to_ms(at);
    }
    let minutes = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let seconds = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(text, &minutes)
        .or_else(|_| PrimitiveDateTime::parse(text, &seconds))
        .map_err(|_| refused)
        .and_then(|at| to_ms(at.assume_utc()))
}

/// `2026-11-28T14:05:09.042Z`: RFC 3339 in UTC with exactly three fractional digits. The audit
/// leaf format uses this form; it sorts as text in time order.
pub fn rfc3339_millis(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    from_ms(ms).format(&format).unwrap_or_default()
}

/// `2026-11-28T14:05:09Z`: RFC 3339 in UTC to the second, for `datetime` attributes and APIs.
pub fn rfc3339(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    from_ms(ms).format(&format).unwrap_or_default()
}

/// `2026-11-28 14:05 UTC`, for people.
pub fn utc_text(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    from_ms(ms).format(&format).unwrap_or_default()
}

/// `2026-11-28T14:05`, the value of a `datetime-local` input (in UTC).
pub fn form_value(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    from_ms(ms).format(&format).unwrap_or_default()
}

/// A duration as people say it: `2 h 05 min`, `9 min`, `40 s`.
pub fn duration_text(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        s => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_with_a_zone_is_read_exactly() {
        assert_eq!(parse("1970-01-01T00:01:00Z").unwrap(), 60_000);
        assert_eq!(parse("1970-01-01T01:00:00+01:00").unwrap(), 0);
        assert_eq!(parse("1970-01-01T00:00:00.250Z").unwrap(), 250);
    }

    #[test]
    fn a_form_time_without_a_zone_is_utc() {
        assert_eq!(parse("1970-01-01T00:01").unwrap(), 60_000);
        assert_eq!(parse(" 1970-01-01T00:00:30 ").unwrap(), 30_000);
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in ["", "tomorrow", "2026-13-01T00:00Z", "2026-11-28", "1700000000", &"9".repeat(60)] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn times_format_in_utc() {
        assert_eq!(rfc3339_millis(1_700_000_000_042), "2023-11-14T22:13:20.042Z");
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_042), "2023-11-14T22:13:20Z");
        assert_eq!(utc_text(1_700_000_000_042), "2023-11-14 22:13 UTC");
        assert_eq!(form_value(1_700_000_000_042), "2023-11-14T22:13");
        assert_eq!(parse(&rfc3339_millis(1_700_000_000_042)).unwrap(), 1_700_000_000_042);
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_text(40_000), "40 s");
        assert_eq!(duration_text(9 * 60_000 + 5_000), "9 min");
        assert_eq!(duration_text(2 * 3_600_000 + 5 * 60_000), "2 h 05 min");
        assert_eq!(duration_text(-5), "0 s");
    }
}
