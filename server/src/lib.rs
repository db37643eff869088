//! Clearroom's server: the HTTP front (axum and Leptos), and the domain behind it.
//!
//! `startup` builds the whole application from a `Config`; `domain` implements the UI's `Backend`
//! and is the only place that decides who may do what. Source content is read only by `source`,
//! and only against a `Receipt` that `audit` hands out after the event is durably stored.

pub mod audit;
pub mod auth;
pub mod builds;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod http;
pub mod source;
pub mod startup;
pub mod store;
pub mod verify_cli;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    (nanos / 1_000_000) as i64
}
