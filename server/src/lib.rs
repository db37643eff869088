//! Clearroom's server: the HTTP front (axum and Leptos), and the domain behind it.
//!
//! `startup` builds the whole application from a `Config`; `domain` implements the UI's `Backend`
//! and is the only place that decides who may do what. Source content is read only by `source`,
//! and only against a `Receipt` that `audit` hands out after the event is durably stored.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod builds;
pub mod cli;
pub mod clock;
pub mod config;
pub mod config_file;
pub mod demo;
pub mod demo_releases;
pub mod demo_requirements;
pub mod demo_room;
pub mod demo_sarif;
pub mod domain;
pub mod export;
pub mod fuzzing;
pub mod http;
pub mod metrics;
pub mod network;
pub mod private_files;
pub mod releases;
pub mod request_scope;
pub mod review;
pub mod serve;
pub mod source;
pub mod startup;
pub mod store;
pub mod transparency;
pub mod verify_cli;
pub mod verify_release;
pub mod witness;

/// An error and its causes, `outer: inner: innermost`, for log lines (never for users).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
