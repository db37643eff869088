//! The reviewer workflow's rules, free of storage and HTTP: Markdown rendering and sanitising,
//! coverage figures, and the coverage picture. The domain's `review` area orchestrates them over
//! the store and the log; who may set which thread state is the guard's (`domain::guard::threads`).

pub mod commitment;
pub mod coverage;
pub mod cwe;
pub mod markdown;
pub mod requirements;
pub mod sarif;
pub mod treemap;
