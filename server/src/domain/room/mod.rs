//! The room: a pin built by the centre itself. Staff set a pin's recipe and start builds; the
//! `build.run` job (`run`) exports the pinned tree and runs the recipe in the sandbox, recording
//! each output as a build by the `room` account with its own provenance; when two accounts'
//! artifacts differ and both are kept, the `build.diff` job (`diff`) explains how with diffoscope.

mod diff;
mod run;

pub use diff::DIFF_BUILDS;
pub use run::RUN_BUILD;

use super::guard::{require, Actor, Permission, PinPage, PinUse};
use super::Room;
use crate::audit::Action;
use crate::builds::recipe::Recipe;
use crate::builds::sandbox::{missing_tool, Toolchain};
use crate::store::room::{self as rows, RecipeRow, RoomBuildRow};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;

/// The most of a log one request answers with.
const LOG_ANSWER: usize = 512 * 1024;

pub(super) fn recipe_view(row: RecipeRow, toolchain_digest: String) -> RecipeView {
    RecipeView {
        pin: row.pin_id,
        recipe: row.recipe,
        digest: row.digest,
        toolchain_digest,
        set_by: row.set_by.unwrap_or_else(|| "operator".into()),
        set_at_ms: row.set_at,
    }
}

pub(super) fn build_view(row: RoomBuildRow) -> RoomBuildView {
    let recipe = Recipe::from_json(row.recipe.as_bytes()).ok();
    RoomBuildView {
        id: row.id,
        pin: row.pin_id,
        state: row.state,
        reason: row.reason,
        recipe_digest: row.recipe_digest,
        recipe_name: recipe.as_ref().map(|r| r.name.clone()).unwrap_or_default(),
        toolchain_digest: row.toolchain_digest,
        requested_by: row.requested_by.unwrap_or_else(|| "operator".into()),
        created_at_ms: row.created_at,
        started_at_ms: row.started_at,
        finished_at_ms: row.finished_at,
        wall_seconds: recipe.map(|r| r.limits.wall_seconds).unwrap_or_default(),
        attempts: row.attempts,
        log_sha256: row.log_sha256,
        log_bytes: row.log_bytes.map(|b| b as u64),
        outputs: row.outputs.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default(),
    }
}

/// Recipes as TOML, for the form that edits one.
fn recipe_toml(canonical: &str) -> String {
    Recipe::from_json(canonical.as_bytes()).map(|recipe| recipe.to_toml()).unwrap_or_default()
}

impl Room<'_> {
    /// Refuses, before a recipe is read, whoever may not set one for the pin.
    pub async fn may_set_recipe(&self, actor: Actor<'_>, pin: PinId) -> AppResult<()> {
        self.pin_to_build(&actor, pin).await.map(|_| ())
    }

    /// The pin a recipe is set or a build started for: staff (or a staff token with `build:write`),
    /// a pin not withdrawn.
    async fn pin_to_build(&self, actor: &Actor<'_>, pin: PinId) -> AppResult<PinPage> {
        require(actor, Permission::RunBuilds)?;
        match self.store.pin(pin.get()).await? {
            Some(record) if record.withdrawn_at.is_none() => Ok(PinPage::named(record)),
            Some(_) => Err(AppError::Conflict("this pin is withdrawn; the room does not build it".into())),
            None => Err(AppError::NotFound("there is no such pin".into())),
        }
    }

    /// The toolchain a recipe names, and its digest (a root directory's computed once and kept).
    pub(super) async fn toolchain(&self, recipe: &Recipe) -> AppResult<(Toolchain, String)> {
        if recipe.toolchain == "host" {
            return Ok((Toolchain::Host, crate::builds::toolchain::digest_host()));
        }
        let invalid = |problem: &str| AppError::Invalid(format!("recipe: toolchain: {problem}"));
        let root = self.builds.toolchain_root.as_ref().ok_or_else(|| {
            invalid("this server has no toolchain root (--toolchain-root); use `host` or configure one")
        })?;
        let dir = root.join(&recipe.toolchain);
        if !dir.is_dir() {
            return Err(invalid(&format!("there is no directory `{}` under the toolchain root", recipe.toolchain)));
        }
        if let Some(digest) = self.store.toolchain_digest(&recipe.toolchain).await? {
            return Ok((Toolchain::Root(dir), digest));
        }
        let walked = dir.clone();
        let digest = tokio::task::spawn_blocking(move || crate::builds::toolchain::digest_dir(&walked))
            .await
            .map_err(|e| super::error::internal(&e))?
            .map_err(|e| super::error::internal(&e))?;
        let kept = self.store.keep_toolchain_digest(&recipe.toolchain, &digest, self.clock.now_ms()).await?;
        Ok((Toolchain::Root(dir), kept))
    }

    /// Sets a pin's recipe (staff); recorded with the recipe itself and its digest.
    pub async fn set_recipe(&self, actor: Actor<'_>, pin: PinId, recipe: &Recipe) -> AppResult<RecipeView> {
        let access = self.pin_to_build(&actor, pin).await?;
        let (_, toolchain_digest) = self.toolchain(recipe).await?;
        let (canonical, digest) = (recipe.canonical_json(), recipe.digest());
        let now = self.clock.now_ms();
        let object = access.object(&RepoPath::root());
        let recipe_value: serde_json::Value =
            serde_json::from_str(&canonical).map_err(|e| super::error::internal(&e))?;
        self.write(async |tx| {
            rows::set_recipe(tx.conn(), pin.get(), &canonical, &digest, actor.user_id(), now).await?;
            let details =
                json!({ "recipe_sha256": digest, "recipe": recipe_value, "toolchain_digest": toolchain_digest });
            tx.append(&actor.event(Action::BuildRecipeSet).on(object.clone()).with(details)).await?;
            Ok(())
        })
        .await?;
        let row = self.store.recipe(pin.get()).await?.ok_or_else(|| AppError::NotFound("no recipe".into()))?;
        Ok(recipe_view(row, toolchain_digest))
    }

    /// Asks the room to build a pin with its recipe (staff): a `build.run` job any instance runs.
    pub async fn start(&self, actor: Actor<'_>, pin: PinId) -> AppResult<RoomBuildView> {
        let access = self.pin_to_build(&actor, pin).await?;
        let Some(recipe) = self.store.recipe(pin.get()).await? else {
            return Err(AppError::Conflict("this pin has no build recipe yet".into()));
        };

        let now = self.clock.now_ms();
        let object = access.object(&RepoPath::root());
        let id = self
            .write(async |tx| {
                // One room build of a pin at a time (checked under the log's write lock, which
                // every request holds in turn): a second request while one waits or runs is refused.
                if let Some(busy) = rows::unfinished_room_build(tx.conn(), pin.get()).await? {
                    return Err(AppError::Conflict(format!("room build #{busy} of this pin has not ended yet")));
                }
                let id =
                    rows::insert_room_build(tx.conn(), pin.get(), &recipe.recipe, &recipe.digest, actor.user_id(), now)
                        .await?;
                let job = crate::store::files::queue_job(tx.conn(), RUN_BUILD, id, now).await?;
                let details = json!({ "room_build": id, "job": job, "recipe_sha256": recipe.digest });
                tx.append(&actor.event(Action::BuildRequest).on(object.clone()).with(details)).await?;
                Ok(id)
            })
            .await?;
        let row = self.store.room_build(id).await?.ok_or_else(|| AppError::NotFound("no such room build".into()))?;
        Ok(build_view(row))
    }

    /// A pin's recipe, if it has one (whoever may read the pin's review records).
    pub async fn recipe(&self, actor: Actor<'_>, pin: PinId) -> AppResult<Option<RecipeView>> {
        self.pin_use(&actor, pin, PinUse::ReadReview).await?;
        let Some(row) = self.store.recipe(pin.get()).await? else { return Ok(None) };
        let recipe = Recipe::from_json(row.recipe.as_bytes()).map_err(|e| super::error::internal(&e))?;
        let digest = match recipe.toolchain.as_str() {
            "host" => crate::builds::toolchain::digest_host(),
            name => self.store.toolchain_digest(name).await?.unwrap_or_default(),
        };
        Ok(Some(recipe_view(row, digest)))
    }

    /// A pin's room builds, newest first; the view is recorded as the builds page's is.
    pub async fn builds_of(&self, actor: Actor<'_>, pin: PinId) -> AppResult<Vec<RoomBuildView>> {
        let access = self.pin_use(&actor, pin, PinUse::ReadReview).await?;
        let builds = self.store.room_builds_of_pin(pin.get()).await?.into_iter().map(build_view).collect();
        self.record(actor.event(Action::BuildsView).on(access.object(&RepoPath::root()))).await?;
        Ok(builds)
    }

    /// The room's part of a pin's builds page (whose view is recorded by the page itself).
    pub async fn section(&self, actor: Actor<'_>, pin: PinId) -> AppResult<RoomSection> {
        self.pin_use(&actor, pin, PinUse::ReadReview).await?;
        let recipe = self.recipe(actor, pin).await?;
        let builds = self.store.room_builds_of_pin(pin.get()).await?.into_iter().take(20).map(build_view).collect();
        let recipe_toml = recipe.as_ref().map(|r| recipe_toml(&r.recipe)).unwrap_or_default();
        let unavailable = ["bwrap", "prlimit"].iter().find_map(|tool| missing_tool(tool));
        let mismatches = self.mismatches(actor, pin, false).await?.into_iter().map(|(m, _)| m).collect();
        Ok(RoomSection {
            recipe,
            recipe_toml,
            builds,
            can_run: require(&actor, Permission::RunBuilds).is_ok(),
            unavailable,
            mismatches,
        })
    }

    /// A room build's page: the build and the first part of its log (recorded as any part is).
    pub async fn build_page(&self, actor: Actor<'_>, pin: PinId, id: i64) -> AppResult<RoomBuildPage> {
        let build = self.build(actor, id).await?;
        if build.pin != pin.get() {
            return Err(AppError::NotFound("there is no such room build of this pin".into()));
        }
        let access = self.pin_use(&actor, pin, PinUse::ReadReview).await?;
        // A reader limited to paths sees the build, not its log (which may quote any file).
        let log = match access.scope.is_whole() {
            true => self.log(actor, id, 0).await?,
            false => BuildLogPart {
                state: build.state.clone(),
                reason: build.reason.clone(),
                from: 0,
                next: 0,
                text: "The log is not shown: a compiler's messages may quote any file of the pin, and your access \
                       covers some of its paths only."
                    .into(),
                elapsed_seconds: None,
            },
        };
        Ok(RoomBuildPage { pin: self.pin_summary(&access).await?, build, log })
    }

    /// One room build of a pin the viewer may read the review records of.
    pub async fn build(&self, actor: Actor<'_>, id: i64) -> AppResult<RoomBuildView> {
        let row = self.store.room_build(id).await?.ok_or_else(|| AppError::NotFound("no such room build".into()))?;
        self.pin_use(&actor, PinId::from_stored(row.pin_id), PinUse::ReadReview).await?;
        Ok(build_view(row))
    }

    /// A room build's log from byte `from` (a compiler's messages may quote source: each part
    /// sent is recorded, with its byte range).
    pub async fn log(&self, actor: Actor<'_>, id: i64, from: u64) -> AppResult<BuildLogPart> {
        let row = self.store.room_build(id).await?.ok_or_else(|| AppError::NotFound("no such room build".into()))?;
        let access = self.pin_use(&actor, PinId::from_stored(row.pin_id), PinUse::ReadReview).await?;
        self.require_whole_tree(&actor, &access, "A room build's log").await?;
        let (mut next, mut bytes) = self.store.room_log(id, from, LOG_ANSWER).await?;
        // A running build's last character may still be coming: the next part starts with it.
        if let Err(error) = std::str::from_utf8(&bytes) {
            if error.error_len().is_none() && matches!(row.state.as_str(), "queued" | "running") {
                next -= (bytes.len() - error.valid_up_to()) as u64;
                bytes.truncate(error.valid_up_to());
            }
        }
        if !bytes.is_empty() {
            let details = json!({ "room_build": id, "from": from, "to": next });
            self.record(actor.event(Action::BuildLogView).on(access.object(&RepoPath::root())).with(details)).await?;
        }
        let now = self.clock.now_ms();
        let elapsed = row.started_at.map(|start| (row.finished_at.unwrap_or(now).saturating_sub(start) / 1000) as u64);
        Ok(BuildLogPart {
            state: row.state,
            reason: row.reason,
            from,
            next,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            elapsed_seconds: elapsed,
        })
    }
}

impl Room<'_> {
    /// Waits until room build `id` ends, running it here when no instance holds it (the command
    /// line's `--wait`); the build as it ended.
    pub async fn wait_for(&self, id: i64) -> AppResult<RoomBuildView> {
        loop {
            let row =
                self.store.room_build(id).await?.ok_or_else(|| AppError::NotFound("no such room build".into()))?;
            if matches!(row.state.as_str(), "done" | "failed") {
                return Ok(build_view(row));
            }
            let job = self.store.job_for(RUN_BUILD, id).await?;
            if job.as_ref().is_some_and(|job| matches!(job.state.as_str(), "failed" | "cancelled")) {
                let row =
                    self.store.room_build(id).await?.ok_or_else(|| AppError::NotFound("no such room build".into()))?;
                return Ok(build_view(row));
            }
            let ran = match job {
                Some(job) => self.jobs().run_job(job.id).await?,
                None => false,
            };
            if !ran {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

impl super::Core {
    /// Where room builds get their directories (for operators' tools and tests).
    pub fn room_dir(&self) -> &std::path::Path {
        &self.builds.room_dir
    }
}
