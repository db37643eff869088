//! Tool results a reviewer imports: a SARIF 2.1.0 log from their own tool, for a pin. The log is
//! kept under its SHA-256 (`<data-dir>/artifacts/sarif/sha256/<hex>`); each result is placed at a
//! file of the pin the importer may read (`review::sarif::Placer`) or counted and listed with why
//! not. Reading them (`read.rs`: the list, a log's results, a file's annotations) and triaging them
//! (`triage.rs`: confirmed becomes a finding, false positive, not useful) are the pin's reviewers'
//! and staff's; every import, read and triage is recorded.

mod read;
pub use read::FileAnnotations;
mod triage;

use super::builds::upload_error;
use super::guard::{require_use, signed_in, Actor, PinPage, PinUse};
use super::ToolResults;
use crate::audit::{Action, Outcome};
use crate::builds::upload;
use crate::review::sarif::{self, Placement, Placer};
use crate::store::sarif::{self as rows, NewLog, NewResult};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;

/// The largest log imported (bytes): larger ones are refused before they are read.
pub const MAX_LOG_BYTES: u64 = 128 * 1024 * 1024;

/// Most results one log holds: its rows are written with its event, under the log's write lock,
/// which every other recorded action waits for (100,000 take a few seconds); a larger log is
/// refused, to be imported a run or a directory at a time.
pub const MAX_RESULTS: usize = 200_000;

impl ToolResults<'_> {
    /// The pin as a reviewer of its tool results uses it: its review records, for a reviewer or
    /// staff (`rules::reads_tool_results`).
    async fn readable(&self, actor: &Actor<'_>, pin: PinId) -> AppResult<PinPage> {
        let access = self.pin_use(actor, pin, PinUse::ReadReview).await?;
        match actor.identity() {
            Some(identity) if !super::guard::rules::reads_tool_results(identity.role) => {
                Err(AppError::Forbidden("imported tool results are read by the pin's reviewers and staff".into()))
            }
            _ => Ok(access),
        }
    }

    /// Imports a log: checked (who, the pin, its declared size) before a byte is read, streamed to
    /// disk under the cap, read, placed and written with its `sarif.import` event in one
    /// transaction. A log that is not SARIF 2.1.0 is refused and the refusal recorded.
    pub async fn import<S, B, E>(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        declared: Option<u64>,
        body: S,
    ) -> AppResult<SarifImported>
    where
        S: futures_util::Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
    {
        let identity = match &actor {
            Actor::Web(caller) => signed_in(caller)?.clone(),
            _ => return Err(AppError::Forbidden("tool results are imported by reviewers".into())),
        };
        require_use(&actor, PinUse::StartThread)?;
        let access = self.pin_use(&actor, pin, PinUse::StartThread).await?;
        if declared.is_some_and(|bytes| bytes > MAX_LOG_BYTES) {
            return Err(too_large());
        }
        let (files, finished, _) = self.indexed_files(pin).await?;
        if !finished {
            return Err(AppError::Unavailable(
                "the pin's files are still being indexed; import the log again in a minute".into(),
            ));
        }
        let root = self.builds.artifacts.join("sarif");
        let staged = upload::stage(&root, body, MAX_LOG_BYTES).await.map_err(|error| match error {
            upload::UploadError::TooLarge(_) => too_large(),
            upload::UploadError::Empty => AppError::Invalid("the log is empty".into()),
            other => upload_error(other),
        })?;
        let bytes = tokio::fs::read(staged.path()).await.map_err(|e| super::error::internal(&e))?;
        let parsed =
            tokio::task::spawn_blocking(move || sarif::parse(&bytes)).await.map_err(|e| super::error::internal(&e))?;
        let parsed = parsed.and_then(|parsed| match parsed.results.len() {
            n if n > MAX_RESULTS => Err(format!(
                "the log holds {n} results; a log holds at most {MAX_RESULTS}: import it a run or a directory at a time"
            )),
            _ => Ok(parsed),
        });
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(reason) => {
                let event =
                    actor.event(Action::SarifImport).outcome(Outcome::Failed).on(access.object(&RepoPath::root()));
                let details = json!({ "reason": reason, "sha256": staged.sha256, "bytes": staged.size });
                self.record(event.with(details)).await?;
                return Err(AppError::Invalid(reason));
            }
        };
        // Placed only at files the importer may read: another file is "no such file" to them.
        let scope = self.scope_filter(&access).await?;
        let placer = Placer::new(files.iter().filter(|f| scope.keep(&f.path)).map(|f| (f.path.as_str(), f.lines)));
        let results: Vec<NewResult> = parsed
            .results
            .into_iter()
            .map(|result| {
                let placement = placer.place(&result);
                let lines = result.start_line.map(|first| (first, result.end_line.unwrap_or(first)));
                let (path, outside) = match placement {
                    Placement::At(path) => (Some(path), None),
                    Placement::Outside(why) => (None, Some(why)),
                };
                NewResult {
                    cwe: crate::review::cwe::stored(&result.cwe),
                    tool: result.tool,
                    rule_id: result.rule_id,
                    rule_name: result.rule_name,
                    level: result.level,
                    message: result.message,
                    uri: result.uri,
                    path,
                    lines,
                    outside,
                }
            })
            .collect();
        let placed = results.iter().filter(|r| r.path.is_some()).count() as u64;
        let total = results.len() as u64;
        let (sha256, size) = (staged.sha256.clone(), staged.size);
        let kept = staged.keep(&root).await.map_err(upload_error)?;
        let tools = parsed.tools.join("\n");
        let now = self.clock.now_ms();
        // The rows are written first, outside the log's write lock; the recording transaction
        // copies them to the log by one statement (other recorded actions wait for that only).
        let stage = hex::encode(rand::random::<[u8; 16]>());
        let staged = self.store.stage_results(&stage, &results, now).await;
        drop(results);
        let written = match staged {
            Err(error) => Err(AppError::from(error)),
            Ok(()) => {
                self.write(async |tx| {
                    let new = NewLog {
                        pin_id: pin.get(),
                        uploader_id: identity.user_id,
                        tools: &tools,
                        sha256: &sha256,
                        bytes: size as i64,
                        results: total as i64,
                        placed: placed as i64,
                        created_at: now,
                    };
                    let id = rows::insert_log(tx.conn(), &new).await?;
                    let copied = rows::insert_staged(tx.conn(), id, &stage).await?;
                    if copied != total {
                        let short = std::io::Error::other(format!("{copied} of {total} staged results copied"));
                        return Err(super::error::internal(&short));
                    }
                    let details = json!({
                        "log_id": id, "sha256": sha256, "bytes": size, "tools": parsed.tools,
                        "results": total, "placed": placed, "outside": total - placed
                    });
                    let event = actor.event(Action::SarifImport).on(access.object(&RepoPath::root()));
                    tx.append(&event.with(details)).await?;
                    Ok(id)
                })
                .await
            }
        };
        match written {
            Ok(id) => Ok(SarifImported { id, results: total, placed, outside: total - placed }),
            Err(error) => {
                if let Err(left) = self.store.unstage_results(&stage).await {
                    tracing::warn!(error = %left, "staged tool results were left for the next import to remove");
                }
                if kept.new {
                    // No record names it: it is not kept.
                    let _ = tokio::fs::remove_file(&kept.path).await;
                }
                Err(error)
            }
        }
    }
}

fn too_large() -> AppError {
    AppError::TooLarge(format!("a SARIF log is at most {} MiB", MAX_LOG_BYTES / (1024 * 1024)))
}
