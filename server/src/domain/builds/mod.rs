//! Builds and attestations: recording a build (by hash, or by uploading the artifact), whether
//! independent builders agree, the envelopes issued for each record and for a pin's review, and
//! what a file with a given hash was built from. Every record, issue and lookup is an event.

use super::guard::{require, Actor, Permission, PinPage, PinUse};
use super::Builds;
use crate::audit::Object;
use crate::audit::{Action, Outcome};
use crate::builds::statement::{self, Provenance};
use crate::builds::upload::{self, UploadError};
use crate::builds::{sha256_hex, AttestationKey};
use crate::store::builds::{self as rows, BuildRow, NewBuild};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

mod reproducibility;

pub use reproducibility::{group, reproducibility};

/// Where builds are kept and what signs their attestations.
pub struct BuildSettings {
    pub key: Arc<AttestationKey>,
    /// `<data-dir>/artifacts`: uploads by SHA-256.
    pub artifacts: PathBuf,
    /// Where room builds get their directories (`--room-dir`; the sandbox's user must be able to
    /// pass through it).
    pub room_dir: PathBuf,
    /// Where a recipe's named toolchains are (`--toolchain-root`); none: only `host`.
    pub toolchain_root: Option<PathBuf>,
    /// The room's builder id in provenance: the server's public URL, or its log origin.
    pub builder_id: String,
}

/// A build as its recorder describes it (the hash and size come from the upload or the caller).
#[derive(Clone, Debug, Default)]
pub struct BuildInput {
    pub name: String,
    pub platform: String,
    /// How the record describes its builder (a CI runner's URL, a lab): a note. The builder that
    /// counts is the account that records.
    pub builder: Option<String>,
    pub command: String,
    pub toolchain: String,
    pub notes: String,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    /// Where the build tree was (`/home/ci/src`), so that the compiled-code map names pinned
    /// paths without guessing; an upload's only.
    pub source_prefix: Option<String>,
}

/// What recording a build produced.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Recorded {
    pub id: i64,
    pub sha256: String,
    pub size: Option<u64>,
    pub attestation_sha256: String,
}

fn field(name: &str, text: &str, max: usize, required: bool) -> AppResult<String> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(AppError::Invalid(format!("{name} is required")));
    }
    if text.chars().count() > max || text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(AppError::Invalid(format!("{name} is at most {max} characters, without control characters")));
    }
    if max <= 200 && text.contains('\n') {
        return Err(AppError::Invalid(format!("{name} is one line")));
    }
    Ok(text.to_string())
}

/// A build's description checked and trimmed, the builder named (a builder account names itself).
fn check_input(input: &BuildInput) -> AppResult<BuildInput> {
    // The builder is the account that records (`insert_build`); a label the request gives (a CI
    // runner's URL, a lab's name) is kept as a note and counts for nothing.
    let builder = match &input.builder {
        Some(given) => Some(field("builder", given, 200, false)?).filter(|label| !label.is_empty()),
        None => None,
    };
    if let (Some(started), Some(finished)) = (input.started_at_ms, input.finished_at_ms) {
        if finished < started {
            return Err(AppError::Invalid("a build cannot finish before it starts".into()));
        }
    }
    Ok(BuildInput {
        name: field("name", &input.name, 200, true)?,
        platform: field("platform", &input.platform, 100, false)?,
        builder,
        command: field("command", &input.command, 10_000, false)?,
        toolchain: field("toolchain", &input.toolchain, 10_000, false)?,
        notes: field("notes", &input.notes, 10_000, false)?,
        started_at_ms: input.started_at_ms,
        finished_at_ms: input.finished_at_ms,
        source_prefix: match &input.source_prefix {
            Some(prefix) => Some(field("source_prefix", prefix, 1000, false)?).filter(|p| !p.is_empty()),
            None => None,
        },
    })
}

/// An upload's failure as the uploader is told it.
pub(super) fn upload_error(error: UploadError) -> AppError {
    match error {
        UploadError::TooLarge(limit) => {
            AppError::TooLarge(format!("the artifact is larger than the limit of {limit} bytes"))
        }
        UploadError::Empty => AppError::Invalid("the artifact is empty".into()),
        UploadError::Interrupted => AppError::Invalid("the upload was cut off".into()),
        UploadError::Io(error) => super::error::internal(&error),
    }
}

pub(crate) fn view(row: BuildRow, attestations: &BTreeMap<i64, String>) -> BuildView {
    BuildView {
        attestation_sha256: attestations.get(&row.id).cloned(),
        id: row.id,
        pin: row.pin_id,
        name: row.name,
        platform: row.platform,
        sha256: row.sha256,
        size: row.size.map(|s| s as u64),
        builder: row.builder,
        recorded_by: row.recorded_by.unwrap_or_else(|| "operator".into()),
        command: row.command,
        toolchain: row.toolchain,
        notes: row.notes,
        started_at_ms: row.started_at,
        finished_at_ms: row.finished_at,
        recorded_at_ms: row.recorded_at,
        uploaded: row.uploaded,
    }
}

impl Builds<'_> {
    /// The pin a build may be recorded for (any pin that exists and is not withdrawn).
    pub(super) async fn pin_for_build(&self, actor: &Actor<'_>, pin: PinId) -> AppResult<PinPage> {
        require(actor, Permission::RecordBuild)?;
        match self.store.pin(pin.get()).await? {
            Some(record) if record.withdrawn_at.is_none() => Ok(PinPage::named(record)),
            Some(_) => Err(AppError::Conflict("this pin is withdrawn; builds are not recorded for it".into())),
            None => Err(AppError::NotFound("there is no such pin".into())),
        }
    }

    /// Records a build by its hash (the artifact stays with the builder).
    pub async fn record_build(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        input: &BuildInput,
        sha256: &Sha256Hex,
        size: Option<u64>,
    ) -> AppResult<Recorded> {
        let access = self.pin_for_build(&actor, pin).await?;
        let input = check_input(input)?;
        self.insert_build(&actor, &access, &input, sha256.as_str(), size, false).await
    }

    /// Records a build by uploading the artifact: hashed while it streams to a file kept under its
    /// hash. Authorisation and the pin are checked before a byte is read; `expected`, when given,
    /// must equal the hash of what arrived.
    pub async fn record_upload<S, B, E>(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        input: &BuildInput,
        expected: Option<&Sha256Hex>,
        body: S,
    ) -> AppResult<Recorded>
    where
        S: futures_util::Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
    {
        let access = self.pin_for_build(&actor, pin).await?;
        let input = check_input(input)?;
        let limit = self.source.limits().upload_max_bytes;
        let staged = upload::stage(&self.builds.artifacts, body, limit).await.map_err(upload_error)?;
        if let Some(expected) = expected.filter(|expected| expected.as_str() != staged.sha256) {
            // Refused before it is kept: the staged file goes with `staged`, and the refusal is
            // recorded (a builder cannot fill the disk, or try hashes, without a trace).
            let reason = format!("the uploaded file's SHA-256 is {}, not the {} given", staged.sha256, expected);
            let event = actor.event(Action::BuildRecord).outcome(Outcome::Failed).on(access.object(&RepoPath::root()));
            let details = json!({ "reason": reason, "sha256": staged.sha256, "expected": expected.as_str(), "size": staged.size });
            self.record(event.with(details)).await?;
            return Err(AppError::Invalid(reason));
        }
        let (sha256, size) = (staged.sha256.clone(), staged.size);
        let kept = staged.keep(&self.builds.artifacts).await.map_err(upload_error)?;
        let recorded = self.insert_build(&actor, &access, &input, &sha256, Some(size), true).await;
        if recorded.is_err() && kept.new {
            // No record names it: it is not kept.
            let _ = tokio::fs::remove_file(&kept.path).await;
        }
        if recorded.is_ok() && self.compiled().is_object_file(&sha256).await {
            // An object file gets its compiled-code map (one without DWARF says so).
            let queued = self.compiled().queue(&actor, &access, &sha256, input.source_prefix.as_deref()).await;
            if let Err(error) = queued {
                tracing::warn!(%error, %pin, "a compiled-code map could not be queued");
            }
        }
        if recorded.is_ok() {
            // A kept artifact that differs from another account's is explained by a report (the
            // record stands even when the report cannot be asked for now; the next record asks).
            if let Err(error) = self.room().queue_diffs(pin).await {
                tracing::warn!(%error, %pin, "a report on differing builds could not be queued");
            }
        }
        recorded
    }

    /// Records a file of this machine as an uploaded artifact (the demo's own server binary),
    /// kept by `upload::link_or_keep` (copied only up to `copy_max` bytes); an object file gets
    /// its compiled-code map.
    pub async fn record_local_file(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        input: &BuildInput,
        file: &std::path::Path,
        copy_max: u64,
    ) -> AppResult<Recorded> {
        let access = self.pin_for_build(&actor, pin).await?;
        let input = check_input(input)?;
        let kept = upload::link_or_keep(&self.builds.artifacts, file, copy_max).await;
        let (sha256, size, kept) = kept.map_err(upload_error)?;
        let recorded = self.insert_build(&actor, &access, &input, &sha256, Some(size), true).await;
        match &recorded {
            Err(_) if kept.new => {
                let _ = tokio::fs::remove_file(&kept.path).await;
            }
            Ok(_) if self.compiled().is_object_file(&sha256).await => {
                self.compiled().queue(&actor, &access, &sha256, input.source_prefix.as_deref()).await?;
            }
            _ => {}
        }
        recorded
    }

    /// Writes the record (its description already checked), its provenance envelope and both
    /// events in one transaction.
    async fn insert_build(
        &self,
        actor: &Actor<'_>,
        access: &PinPage,
        input: &BuildInput,
        sha256: &str,
        size: Option<u64>,
        uploaded: bool,
    ) -> AppResult<Recorded> {
        let builder = input.builder.clone().unwrap_or_default();
        let account = actor.identity().map(|identity| identity.username.clone());
        let record = &access.record;
        let source = self.repository_source(record).await?;
        let now = self.clock.now_ms();
        let object = access.object(&RepoPath::root());
        self.write(async |tx| {
            let new = NewBuild {
                pin_id: record.id,
                name: &input.name,
                platform: &input.platform,
                sha256,
                size: size.map(|s| s as i64),
                builder: &builder,
                recorded_by: actor.user_id(),
                command: &input.command,
                toolchain: &input.toolchain,
                notes: &input.notes,
                started_at: input.started_at_ms,
                finished_at: input.finished_at_ms,
                recorded_at: now,
                uploaded,
            };
            let id = rows::insert_build(tx.conn(), &new).await?;
            tx.append(&actor.event(Action::BuildRecord).on(object.clone()).with(json!({
                "build_id": id, "name": input.name, "platform": input.platform, "sha256": sha256,
                "size": size, "builder": builder, "uploaded": uploaded,
            })))
            .await?;
            let payload = statement::provenance(&Provenance {
                record_id: id,
                name: &input.name,
                platform: &input.platform,
                sha256,
                repository: &record.repository,
                repository_source: &source,
                commit: &record.commit_id,
                pin_id: record.id,
                pin_label: &record.label,
                account: account.as_deref(),
                builder_label: &builder,
                command: &input.command,
                toolchain: &input.toolchain,
                notes: &input.notes,
                started_at: input.started_at_ms,
                finished_at: input.finished_at_ms,
                recorded_at: now,
            });
            let subjects = [sha256.to_string()];
            let issue = Issue {
                object: &object,
                pin_id: record.id,
                build_id: Some(id),
                kind: "provenance",
                payload: &payload,
                subjects: &subjects,
                now,
            };
            let envelope_sha256 = self.issue(tx, actor, issue).await?;
            Ok(Recorded { id, sha256: sha256.to_string(), size, attestation_sha256: envelope_sha256 })
        })
        .await
    }

    /// Signs a statement into an envelope, stores it and records its hash in the log.
    pub(crate) async fn issue(
        &self,
        tx: &mut crate::audit::LogTx,
        actor: &Actor<'_>,
        issue: Issue<'_>,
    ) -> AppResult<String> {
        let payload = serde_json::to_vec(issue.payload).map_err(|e| super::error::internal(&e))?;
        let envelope =
            serde_json::to_string(&self.builds.key.sign(&payload)).map_err(|e| super::error::internal(&e))?;
        let envelope_sha256 = sha256_hex(envelope.as_bytes());
        let new = rows::NewAttestation {
            pin_id: issue.pin_id,
            build_id: issue.build_id,
            kind: issue.kind,
            envelope: &envelope,
            envelope_sha256: &envelope_sha256,
            subjects: issue.subjects,
            issued_at: issue.now,
        };
        let id = rows::insert_attestation(tx.conn(), &new).await?;
        tx.append(&actor.event(Action::AttestationIssue).on(issue.object.clone()).with(json!({
            "attestation_id": id, "kind": issue.kind, "build_id": issue.build_id,
            "envelope_sha256": envelope_sha256, "subjects": issue.subjects, "keyid": self.builds.key.keyid(),
        })))
        .await?;
        Ok(envelope_sha256)
    }

    /// A pin's builds by artifact, with whether builders agree. Viewing them is recorded.
    pub async fn pin_builds(&self, actor: Actor<'_>, pin: PinId) -> AppResult<BuildsPage> {
        let access = self.pin_use(&actor, pin, PinUse::ReadReview).await?;
        let attestations = self.store.attestations_of_pin(pin.get()).await?;
        let provenance: BTreeMap<i64, String> =
            attestations.iter().filter_map(|a| a.build_id.map(|b| (b, a.envelope_sha256.clone()))).collect();
        let builds = self.store.builds_of_pin(pin.get()).await?.into_iter().map(|b| view(b, &provenance)).collect();
        let review_statements = attestations
            .iter()
            .rev()
            .filter(|a| a.kind == "review")
            .map(|a| (a.issued_at, a.envelope_sha256.clone()))
            .collect();
        self.record(actor.event(Action::BuildsView).on(access.object(&RepoPath::root()))).await?;
        let can_record = require(&actor, Permission::Administer).is_ok();
        Ok(BuildsPage {
            pin: self.pin_summary(&access).await?,
            artifacts: group(builds),
            can_record,
            review_statements,
            room: self.room().section(actor, pin).await?,
            csrf_token: String::new(),
            compiled: self.compiled().summaries(&access).await?,
        })
    }
}

/// A statement to issue: what it is about and what it says.
pub(crate) struct Issue<'a> {
    pub object: &'a Object,
    pub pin_id: i64,
    pub build_id: Option<i64>,
    pub kind: &'static str,
    pub payload: &'a serde_json::Value,
    pub subjects: &'a [String],
    pub now: i64,
}

pub(super) fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
