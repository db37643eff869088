//! `server grant`: access to pins for a time window, limited to paths if asked.

use crate::domain::{Actor, Domain};
use app::model::PinId;

/// Grants `username` the pins from `from` until `until` (RFC 3339, or `2026-11-28T10:00` as UTC),
/// limited to the path patterns given (none: the whole tree); prints the grant ids.
pub(super) async fn grant(
    domain: &Domain,
    username: &str,
    pins: &[String],
    (from, until): (&str, &str),
    paths: &[String],
) -> anyhow::Result<()> {
    let pins = pins
        .iter()
        .map(|p| PinId::parse(p).map_err(|e| anyhow::anyhow!("pin {p:?}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let time = |t: &str| app::times::parse(t).map_err(|e| anyhow::anyhow!("{t:?}: {e}"));
    let ids = domain
        .access()
        .grant_paths(Actor::Operator, username, &pins, (time(from)?, time(until)?), paths)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let limited = if paths.is_empty() { String::new() } else { format!(", limited to {}", paths.join(" ")) };
    let count = app::html::counted(pins.len() as u64, "pin", "pins");
    println!("granted {username} {count}{limited}; grant ids {ids:?}");
    Ok(())
}
