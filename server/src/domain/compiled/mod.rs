//! The compiled-code map (`docs/compiled-map.md`): which lines of a pin's files produced code in
//! one of its artifacts, read from the artifact's DWARF (or a companion debug file matched by
//! build-id) by the `artifact.compiled_map` job, which reads the artifact, not the source (the
//! pinned blobs only to compare the compiler's MD5s, through a whole-pin receipt recorded first).
//! Reading a map is recorded; it needs the pin's review records (staff, regulators, reviewers with
//! a grant; tokens with `review`).

mod job;
pub mod marks;
mod upload;

pub use marks::PinMaps;
pub use upload::DebugFileRecorded;

use super::guard::scope::PathScope;
use super::guard::{require, Actor, Permission, PinPage, PinUse};
use super::Compiled;
use crate::audit::Action;
use crate::builds::dwarf;
use crate::store::compiled::{self as rows, MapRow};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::path::PathBuf;

/// Builds an artifact's map (in the builds lane: reading a large binary takes a while).
pub const COMPILED_MAP: &str = "artifact.compiled_map";

/// How long a map waits for its pin's file index (built by `pin.index` when the pin is made).
const INDEX_WAIT_MS: u64 = 10 * 60 * 1000;

pub(super) fn view(row: &MapRow, stored: Option<(Vec<CompiledFile>, Vec<ElsewhereFile>)>) -> CompiledMap {
    let [files, lines, elsewhere_files, elsewhere_lines, checksum_mismatches] = row.figures.map(|n| n.max(0) as u64);
    let (file_list, elsewhere) = stored.unwrap_or_default();
    CompiledMap {
        pin: row.pin_id,
        sha256: row.sha256.clone(),
        state: MapState::parse(&row.state).unwrap_or(MapState::Failed),
        reason: row.reason.clone(),
        debug_file_sha256: row.debug_sha256.clone(),
        build_id: row.build_id.clone(),
        source_prefix: row.source_prefix.clone(),
        files: file_list,
        elsewhere,
        totals: CompiledTotals { files, lines, elsewhere_files, elsewhere_lines, checksum_mismatches },
        map_sha256: row.map_sha256.clone(),
    }
}

/// What a person limited to paths is shown of a map: the pinned files in their paths, the files
/// from elsewhere that are the toolchain's (not the vendor's source) or in their paths, and the
/// totals counted over those alone (not how many others there are).
fn narrowed(mut map: CompiledMap, scope: &PathScope) -> CompiledMap {
    if scope.is_whole() {
        return map;
    }
    map.files.retain(|file| scope.covers_file(&file.path));
    map.elsewhere.retain(|file| file.group == "toolchain" || scope.covers_file(&file.path));
    map.totals = crate::builds::compiled::totals(&map.files, &map.elsewhere);
    map
}
impl Compiled<'_> {
    fn artifact_path(&self, sha256: &str) -> PathBuf {
        self.builds.artifacts.join("sha256").join(sha256)
    }

    /// Queues a map in a write of its own (after an upload is recorded).
    pub(in crate::domain) async fn queue(
        &self,
        actor: &Actor<'_>,
        access: &PinPage,
        sha256: &str,
        declared_prefix: Option<&str>,
    ) -> AppResult<i64> {
        self.write(async |tx| self.queue_in(tx, actor, access, sha256, declared_prefix).await).await
    }

    /// Queues a map of `sha256` at the pin in the caller's write (an upload, a room build's
    /// outputs, a debug file, or a request); the map's id.
    pub(in crate::domain) async fn queue_in(
        &self,
        tx: &mut crate::audit::LogTx,
        actor: &Actor<'_>,
        access: &PinPage,
        sha256: &str,
        declared_prefix: Option<&str>,
    ) -> AppResult<i64> {
        let now = self.clock.now_ms();
        let id = rows::queue_compiled_map(tx.conn(), access.record.id, sha256, declared_prefix, now).await?;
        let job = crate::store::files::queue_job(tx.conn(), COMPILED_MAP, id, now).await?;
        let details = json!({ "map": id, "sha256": sha256, "state": "queued", "job": job });
        tx.append(&actor.event(Action::ArtifactCompiledMap).on(access.object(&RepoPath::root())).with(details)).await?;
        Ok(id)
    }

    /// Whether a kept artifact is an object file worth a map (a tarball is not): checked when it
    /// is stored.
    pub(in crate::domain) async fn is_object_file(&self, sha256: &str) -> bool {
        let path = self.artifact_path(sha256);
        tokio::task::spawn_blocking(move || dwarf::build_id_of(&path).is_ok()).await.unwrap_or(false)
    }

    /// Builds (again) the map of an artifact recorded at the pin (staff, or a token with
    /// `build:write`).
    pub async fn request(&self, actor: Actor<'_>, pin: PinId, sha256: &Sha256Hex) -> AppResult<CompiledMap> {
        require(&actor, Permission::RunBuilds)?;
        let access = match self.store.pin(pin.get()).await? {
            Some(record) => PinPage::named(record),
            None => return Err(AppError::NotFound("there is no such pin".into())),
        };
        let recorded = self.store.builds_of_pin(pin.get()).await?.iter().any(|b| b.sha256 == sha256.as_str());
        if !recorded {
            return Err(AppError::NotFound("no build of this pin has that SHA-256".into()));
        }
        let id = self.write(async |tx| self.queue_in(tx, &actor, &access, sha256.as_str(), None).await).await?;
        let row =
            self.store.compiled_map_by_id(id).await?.ok_or_else(|| AppError::NotFound("the map is gone".into()))?;
        Ok(view(&row, None))
    }

    /// An artifact's map at a pin (recorded).
    pub async fn map(&self, actor: Actor<'_>, pin: PinId, sha256: &Sha256Hex) -> AppResult<CompiledMap> {
        let access = self.pin_use(&actor, pin, PinUse::ReadReview).await?;
        let row = self.store.compiled_map(pin.get(), sha256.as_str()).await?;
        let Some(row) = row else {
            return Err(AppError::NotFound("there is no compiled-code map of that artifact at this pin".into()));
        };
        let stored = self.stored(&row).await?;
        let details = json!({ "sha256": row.sha256, "map_sha256": row.map_sha256, "state": row.state });
        self.record(actor.event(Action::ArtifactCompiledView).on(access.object(&RepoPath::root())).with(details))
            .await?;
        Ok(narrowed(view(&row, stored), &access.scope))
    }

    /// Every map of the pin as the builds page shows it (the page's own event records the view).
    pub(in crate::domain) async fn summaries(&self, access: &PinPage) -> AppResult<Vec<ArtifactCompiled>> {
        let mut summaries = Vec::new();
        for row in self.store.compiled_maps(access.record.id).await? {
            let stored = self.stored(&row).await?;
            summaries.push(marks::summary(&narrowed(view(&row, stored), &access.scope)));
        }
        Ok(summaries)
    }

    /// A done map's files, read from the store.
    pub(super) async fn stored(&self, row: &MapRow) -> AppResult<Option<(Vec<CompiledFile>, Vec<ElsewhereFile>)>> {
        if row.state != MapState::Done.as_str() {
            return Ok(None);
        }
        let Some(bytes) = self.store.compiled_map_bytes(row.id).await? else { return Ok(None) };
        let json = zstd::bulk::decompress(&bytes, 1 << 30).map_err(|e| super::error::internal(&e))?;
        // The canonical form, as a bundle holds it.
        let stored: crate::export::compiled::MapMember =
            serde_json::from_slice(&json).map_err(|e| super::error::internal(&e))?;
        Ok(Some((stored.files, stored.elsewhere)))
    }
}
