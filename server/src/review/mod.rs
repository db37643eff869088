//! The reviewer workflow's rules, free of storage and HTTP: Markdown rendering and sanitising,
//! which thread states who may set, coverage figures, and the coverage picture. The domain's
//! `review` area orchestrates them over the store and the log.

pub mod coverage;
pub mod markdown;
pub mod states;
pub mod treemap;
