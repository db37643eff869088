//! One module per page.

pub mod account;
pub mod admin;
pub mod audit;
pub mod blob;
pub mod blob_results;
pub mod builds;
pub mod comments;
pub mod compare;
pub mod compiled;
pub mod coverage;
pub mod diff;
pub mod exports;
pub mod history;
pub mod home;
pub mod log;
pub mod login;
pub mod not_found;
pub mod pin_releases;
pub mod releases;
pub mod room;
pub mod sarif;
pub mod search;
pub mod traceability;
pub mod tree;
pub mod verdicts;
pub mod verify;
