//! A companion debug file (`objcopy --only-keep-debug`) uploaded for an artifact of the pin: kept
//! with the artifacts under its SHA-256, recorded, and the artifact's map built again from it.

use crate::audit::{Action, Outcome};
use crate::builds::dwarf;
use crate::builds::upload;
use crate::domain::builds::upload_error;
use crate::domain::guard::Actor;
use crate::domain::Compiled;
use crate::store::compiled::{self as rows, DebugFileRow};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;

/// What uploading a debug file recorded.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DebugFileRecorded {
    /// The artifact it is the debug information of.
    pub of: String,
    pub sha256: String,
    pub size: u64,
    pub build_id: Option<String>,
    /// The compiled-code map queued again from it.
    pub map: CompiledMap,
}

impl Compiled<'_> {
    /// Records a debug file for the artifact `of` (a build of the pin), streamed as an upload is.
    /// Refused, and not kept, unless it is an object file with line tables whose build-id (when
    /// both have one) is the artifact's.
    pub async fn record_debug_file<S, B, E>(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        of: &Sha256Hex,
        expected: Option<&Sha256Hex>,
        body: S,
    ) -> AppResult<DebugFileRecorded>
    where
        S: futures_util::Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
    {
        let access = self.builds().pin_for_build(&actor, pin).await?;
        if !self.store.builds_of_pin(pin.get()).await?.iter().any(|b| b.sha256 == of.as_str()) {
            return Err(AppError::NotFound("no build of this pin has the SHA-256 given as `of`".into()));
        }
        let limit = self.source.limits().upload_max_bytes;
        let staged = upload::stage(&self.builds.artifacts, body, limit).await.map_err(upload_error)?;
        let refuse = async |reason: String| -> AppResult<DebugFileRecorded> {
            let event =
                actor.event(Action::BuildDebugFile).outcome(Outcome::Failed).on(access.object(&RepoPath::root()));
            let details = json!({ "reason": reason, "of": of.as_str(), "sha256": staged.sha256, "size": staged.size });
            self.record(event.with(details)).await?;
            Err(AppError::Invalid(reason))
        };
        if let Some(expected) = expected.filter(|expected| expected.as_str() != staged.sha256) {
            return refuse(format!("the uploaded file's SHA-256 is {}, not the {} given", staged.sha256, expected))
                .await;
        }
        let read = {
            let path = staged.path().to_path_buf();
            tokio::task::spawn_blocking(move || dwarf::read(&path, dwarf::Limits::default()))
                .await
                .map_err(|e| crate::domain::error::internal(&e))?
        };
        let lines = match read {
            Ok(lines) if lines.has_lines => lines,
            Ok(_) => return refuse("the debug file has no line tables (.debug_line)".into()).await,
            Err(error) => return refuse(error.to_string()).await,
        };
        let artifact = self.artifact_path(of.as_str());
        let artifact_id = tokio::task::spawn_blocking(move || dwarf::build_id_of(&artifact).ok().flatten())
            .await
            .map_err(|e| crate::domain::error::internal(&e))?;
        if let (Some(ours), Some(theirs)) = (&artifact_id, &lines.build_id) {
            if ours != theirs {
                return refuse(format!("the debug file's build-id is {theirs}; the artifact's is {ours}")).await;
            }
        }
        let (sha256, size) = (staged.sha256.clone(), staged.size);
        let kept = staged.keep(&self.builds.artifacts).await.map_err(upload_error)?;
        let row = DebugFileRow {
            id: 0,
            pin_id: pin.get(),
            of_sha256: of.as_str().to_string(),
            sha256: sha256.clone(),
            size: size as i64,
            build_id: lines.build_id.clone(),
        };
        let now = self.clock.now_ms();
        let object = access.object(&RepoPath::root());
        let written = self
            .write(async |tx| {
                let new = rows::insert_debug_file(tx.conn(), &row, actor.user_id(), now).await?;
                let details = json!({
                    "of": of.as_str(), "sha256": sha256, "size": size, "build_id": row.build_id, "new": new,
                });
                tx.append(&actor.event(Action::BuildDebugFile).on(object.clone()).with(details)).await?;
                self.queue_in(tx, &actor, &access, of.as_str(), None).await
            })
            .await;
        let map = match written {
            Ok(map) => map,
            Err(error) => {
                if kept.new {
                    let _ = tokio::fs::remove_file(&kept.path).await;
                }
                return Err(error);
            }
        };
        let map =
            self.store.compiled_map_by_id(map).await?.ok_or_else(|| AppError::NotFound("the map is gone".into()))?;
        Ok(DebugFileRecorded {
            of: row.of_sha256,
            sha256: row.sha256,
            size,
            build_id: row.build_id,
            map: super::view(&map, None),
        })
    }
}
