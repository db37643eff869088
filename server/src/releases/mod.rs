//! Releases a supervisor authorises: the policy a repository's releases are held to
//! (`policy.rs`), the dossier frozen for each proposed release (`dossier.rs`), and a supervisor's
//! key and decisions, made offline (`keys.rs`). Formats: `docs/releases.md`.

pub mod dossier;
pub mod keys;
pub mod policy;
