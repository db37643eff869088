//! The public log: authorised releases (and statements registered by known issuers) appended to a
//! second Merkle tree with its own key, served to anyone as C2SP tlog-tiles and as a SCITT
//! Transparency Service. Its encodings (`cose`), its tree in memory (`tree`), and the state an
//! instance keeps of it (`PublicLog`). Formats: `docs/releases.md`.

pub mod cose;
pub mod tree;

use crate::audit::note::NoteSigner;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use tree::MemoryTree;

/// Content types a Signed Statement may carry (the registration policy's list).
pub const CONTENT_TYPES: [&str; 5] = [
    "application/vnd.in-toto+json",
    "application/vnd.dsse.envelope.v1+json",
    "application/vnd.cyclonedx+json",
    "application/sarif+json",
    "application/openvex+json",
];

/// The content type of an authorised release's statement: its DSSE envelope.
pub const RELEASE_CONTENT_TYPE: &str = "application/vnd.dsse.envelope.v1+json";

/// The largest Signed Statement the log takes: an entry bundle gives each entry a 16-bit length.
pub const MAX_STATEMENT: usize = 60_000;

/// Full entry bundles kept in memory (they never change).
const KEPT_BUNDLES: usize = 256;

/// An entry of the public log, as `/bt/lookup` gives it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PublicEntryView {
    /// Its leaf index in the public log.
    pub index: u64,
    /// SHA-256 of the Signed Statement, hex: its SCRAPI entry id (`/entries/{entry_id}`).
    pub entry_id: String,
    pub issuer: String,
    pub subject: String,
    pub content_type: String,
    pub appended_at_ms: i64,
    /// The statement's payload when it is JSON (an authorised release's DSSE envelope).
    #[schema(value_type = Object)]
    pub payload: Option<serde_json::Value>,
}

/// What the public log holds for an artifact's SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PublicLookup {
    pub sha256: String,
    pub entries: Vec<PublicEntryView>,
}

/// What one instance keeps of the public log: its key, its tree as far as it has read the
/// database, and the full entry bundles it served.
pub struct PublicLog {
    pub(crate) signer: Arc<NoteSigner>,
    pub(crate) tree: RwLock<MemoryTree>,
    /// Held while reading new leaves, so two readers do not push the same ones.
    pub(crate) syncing: tokio::sync::Mutex<()>,
    bundles: Mutex<HashMap<u64, Arc<Vec<u8>>>>,
}

impl PublicLog {
    pub fn new(signer: Arc<NoteSigner>) -> PublicLog {
        PublicLog {
            signer,
            tree: RwLock::new(MemoryTree::default()),
            syncing: tokio::sync::Mutex::new(()),
            bundles: Mutex::new(HashMap::new()),
        }
    }

    /// The log's origin (its key's name).
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    pub fn size(&self) -> u64 {
        self.tree.read().expect("the tree's lock").size()
    }

    pub(crate) fn bundle(&self, index: u64) -> Option<Arc<Vec<u8>>> {
        self.bundles.lock().expect("the bundles' lock").get(&index).cloned()
    }

    pub(crate) fn keep_bundle(&self, index: u64, bundle: Arc<Vec<u8>>) {
        let mut bundles = self.bundles.lock().expect("the bundles' lock");
        if bundles.len() >= KEPT_BUNDLES {
            bundles.clear();
        }
        bundles.insert(index, bundle);
    }
}
