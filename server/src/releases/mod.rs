//! Releases a supervisor authorises: the policy a repository's releases are held to
//! (`policy.rs`). Formats: `docs/releases.md`.

pub mod policy;
