//! Appending to the public log: an authorised release, as the vendor's Signed Statement whose
//! payload is the release's DSSE envelope (in the authorisation's own write); and a Signed
//! Statement a registered issuer sends (`POST /entries`), held to the registration policy. Each
//! append is made under the audit log's write lock, after its event, so appends are serialised.

use super::super::guard::Actor;
use super::Transparency;
use crate::audit::merkle::leaf_hash;
use crate::audit::{Action, LogTx};
use crate::builds::statement::account_uri;
use crate::store::public_log::{self as rows, NewPublicEntry};
use crate::store::releases::ReleaseRow;
use crate::transparency::{cose, CONTENT_TYPES, MAX_STATEMENT, RELEASE_CONTENT_TYPE};
use app::error::{AppError, AppResult};
use app::model::Role;
use serde_json::json;

/// Why a statement was not registered: the registration policy's rule, what was wrong, and the
/// HTTP status (RFC 9290 problem details carry them).
#[derive(Debug, PartialEq, Eq)]
pub struct Registration {
    pub status: u16,
    pub rule: &'static str,
    pub detail: String,
}

fn refuse(status: u16, rule: &'static str, detail: impl Into<String>) -> Registration {
    Registration { status, rule, detail: detail.into() }
}

/// The SHA-256s of the artifacts an in-toto statement (or a DSSE envelope of one) names.
fn subjects_of(payload: &[u8]) -> Vec<String> {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(payload) else { return Vec::new() };
    if let Some(inner) = value["payload"].as_str() {
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD.decode(inner).ok();
        match decoded.and_then(|bytes| serde_json::from_slice(&bytes).ok()) {
            Some(statement) => value = statement,
            None => return Vec::new(),
        }
    }
    value["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["digest"]["sha256"].as_str())
        .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
        .collect()
}

impl Transparency<'_> {
    /// The vendor's Signed Statement of an authorised release, appended in the caller's write
    /// (after its `release.authorise` event). Returns the entry's index.
    pub(crate) async fn append_release(
        &self,
        tx: &mut LogTx,
        release: &ReleaseRow,
        repository: &str,
        envelope: &str,
        now: i64,
    ) -> AppResult<u64> {
        let key = &self.builds.key;
        let statement = cose::Statement {
            issuer: self.builds.builder_id.clone(),
            subject: format!("{repository}@{}", release.version),
            content_type: RELEASE_CONTENT_TYPE.into(),
            kid: cose::thumbprint(&key.verifying_key()),
            payload: envelope.as_bytes().to_vec(),
        };
        let bytes = cose::sign_statement(&statement, |tbs| key.sign_bytes(tbs));
        if bytes.len() > MAX_STATEMENT {
            return Err(AppError::Invalid(format!(
                "the release's statement is {} bytes, past the public log's {MAX_STATEMENT}: propose fewer artifacts",
                bytes.len()
            )));
        }
        let entry_id = crate::builds::sha256_hex(&bytes);
        let subjects = subjects_of(envelope.as_bytes());
        let new = NewPublicEntry {
            entry_id: &entry_id,
            statement: &bytes,
            leaf_hash: &leaf_hash(&bytes),
            release_id: Some(release.id),
            issuer: &statement.issuer,
            subject: &statement.subject,
            content_type: &statement.content_type,
            registered_by: None,
            subjects: &subjects,
            now,
        };
        Ok(rows::append(tx.conn(), &new).await?)
    }

    /// Registers a Signed Statement sent by a registered issuer (a supervisor, builder or lab
    /// with a registered key), held to the registration policy. Returns the entry id, its receipt,
    /// and whether it was new (a statement registered before answers with its entry).
    pub async fn register(&self, actor: Actor<'_>, bytes: &[u8]) -> Result<(String, Vec<u8>, bool), Registration> {
        let identity = match &actor {
            Actor::Web(caller) => {
                caller.identity.clone().ok_or_else(|| refuse(401, "issuer", "sign in with an API token"))?
            }
            _ => return Err(refuse(401, "issuer", "only a registered issuer's account registers statements")),
        };
        if !matches!(identity.role, Role::Supervisor | Role::Builder | Role::Reviewer) {
            return Err(refuse(403, "issuer", "only supervisors, builders and labs register statements"));
        }
        if bytes.len() > MAX_STATEMENT {
            return Err(refuse(413, "size", format!("a statement is at most {MAX_STATEMENT} bytes")));
        }
        let (sign1, statement) = cose::read_statement(bytes).map_err(|e| refuse(400, "encoding", e.to_string()))?;
        if !CONTENT_TYPES.contains(&statement.content_type.as_str()) {
            let detail = format!("{} is not one of {}", statement.content_type, CONTENT_TYPES.join(", "));
            return Err(refuse(400, "content_type", detail));
        }
        let expected = account_uri(Some(&identity.username));
        if statement.issuer != expected {
            return Err(refuse(
                403,
                "issuer",
                format!("the statement's issuer must be {expected}, the account sending it"),
            ));
        }
        // A database failure is logged with its cause (`AppError::from`) and answered without it.
        let internal = |error: crate::store::StoreError| {
            let _ = AppError::from(error);
            refuse(500, "service", "the statement could not be registered")
        };
        let keys = self.store.account_keys(identity.user_id).await.map_err(internal)?;
        let key = keys
            .iter()
            .filter_map(|k| crate::releases::keys::parse_public(&k.vkey))
            .map(|(verifier, _)| verifier.public_key())
            .find(|key| cose::thumbprint(key) == statement.kid)
            .ok_or_else(|| {
                refuse(403, "issuer", format!("the kid is not a key registered to {}", identity.username))
            })?;
        cose::verify_statement(&sign1, &key).map_err(|e| refuse(400, "signature", e.to_string()))?;
        let entry_id = crate::builds::sha256_hex(bytes);
        let known = self.store.public_entry_by_id(&entry_id).await.map_err(internal)?;
        let created = known.is_none();
        if created {
            let now = self.clock.now_ms();
            let subjects = subjects_of(&statement.payload);
            let new = NewPublicEntry {
                entry_id: &entry_id,
                statement: bytes,
                leaf_hash: &leaf_hash(bytes),
                release_id: None,
                issuer: &statement.issuer,
                subject: &statement.subject,
                content_type: &statement.content_type,
                registered_by: Some(identity.user_id),
                subjects: &subjects,
                now,
            };
            let details = json!({
                "entry_id": entry_id, "issuer": statement.issuer, "subject": statement.subject,
                "content_type": statement.content_type, "bytes": bytes.len(), "subjects": subjects,
            });
            let written = self
                .write(async |tx| {
                    tx.append(&actor.event(Action::EntryRegister).with(details.clone())).await?;
                    rows::append(tx.conn(), &new).await?;
                    Ok(())
                })
                .await;
            written.map_err(|_| refuse(500, "service", "the statement could not be registered"))?;
        }
        self.publish().await.map_err(|_| refuse(500, "service", "the checkpoint could not be signed"))?;
        let receipt = self.receipt(&entry_id).await.map_err(|_| refuse(500, "service", "no receipt"))?;
        let receipt = receipt.ok_or_else(|| refuse(500, "service", "no receipt"))?;
        Ok((entry_id, receipt, created))
    }
}
