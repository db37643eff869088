//! Applying a grant's path scope (`scope.rs`) to what an operation reads: whether a path is in
//! scope at a pin (a directory is when it holds a file that is), and the refusal of one that is
//! not, answered exactly as a path that does not exist and recorded as `access.denied` naming it.

use super::scope::ScopedPaths;
use super::{Actor, PinPage};
use crate::audit::{Action, Outcome};
use crate::domain::Core;
use app::error::{AppError, AppResult};
use app::model::RepoPath;
use std::sync::Arc;

impl Core {
    /// The paths in scope at the page's pin, worked out from its tree once per pin and scope
    /// (`None`: the whole tree is).
    pub(crate) async fn scoped_paths(&self, page: &PinPage) -> AppResult<Option<Arc<ScopedPaths>>> {
        if page.scope.is_whole() {
            return Ok(None);
        }
        let key = (page.record.tree_id.clone(), page.scope.key());
        if let Some(kept) = self.caches.scoped_paths.lock().ok().and_then(|mut kept| kept.get(&key).cloned()) {
            return Ok(Some(kept));
        }
        let files = self.source.entry_paths(&page.location()).await?;
        let paths = Arc::new(ScopedPaths::new(&page.scope, &files));
        if let Ok(mut kept) = self.caches.scoped_paths.lock() {
            kept.put(key, Arc::clone(&paths));
        }
        Ok(Some(paths))
    }

    /// Whether `path` (a file or a directory) is in the page's scope.
    pub(crate) async fn in_scope(&self, page: &PinPage, path: &RepoPath) -> AppResult<bool> {
        Ok(self.scoped_paths(page).await?.is_none_or(|paths| paths.contains(path.as_str())))
    }

    /// A filter of paths for the page's scope: `keep(path)` is whether it is in scope.
    pub(crate) async fn scope_filter(&self, page: &PinPage) -> AppResult<ScopeFilter> {
        Ok(ScopeFilter(self.scoped_paths(page).await?))
    }

    /// Refuses a file named at a pin (one side of a diff, a blamed, commented or marked file) when
    /// the page's patterns do not cover it, whether or not the pin has it: records `access.denied`
    /// naming it and gives back `absent`, the error the operation answers for a file that does not
    /// exist, so that the answer does not tell the two apart. (A read that first finds what the
    /// path is asks `in_scope`, which knows directories, and `refuse_outside`.)
    pub(crate) async fn require_file_in_scope(
        &self,
        actor: &Actor<'_>,
        page: &PinPage,
        path: &RepoPath,
        absent: impl FnOnce() -> AppError,
    ) -> AppResult<()> {
        if page.scope.covers_file(path.as_str()) {
            return Ok(());
        }
        Err(self.refuse_outside(actor, page, path, absent).await?)
    }

    /// Records a path refused for being outside the page's scope (`access.denied` naming it) and
    /// gives back the error to answer with.
    pub(crate) async fn refuse_outside(
        &self,
        actor: &Actor<'_>,
        page: &PinPage,
        path: &RepoPath,
        absent: impl FnOnce() -> AppError,
    ) -> AppResult<AppError> {
        let reason = serde_json::json!({ "reason": "outside the paths of the grant" });
        self.record(actor.event(Action::AccessDenied).outcome(Outcome::Denied).on(page.object(path)).with(reason))
            .await?;
        Ok(absent())
    }

    /// Refuses a reader limited to paths `what` a build of the whole tree made, which may quote
    /// any file and cannot be narrowed (a room build's log, a diffoscope report); the refusal is
    /// recorded (`access.denied`, with the reason).
    pub(crate) async fn require_whole_tree(&self, actor: &Actor<'_>, page: &PinPage, what: &str) -> AppResult<()> {
        if page.scope.is_whole() {
            return Ok(());
        }
        let reason = serde_json::json!({ "reason": format!("{what}: the grant covers some paths only") });
        let event = actor.event(Action::AccessDenied).outcome(Outcome::Denied).on(page.object(&RepoPath::root()));
        self.record(event.with(reason)).await?;
        Err(AppError::Forbidden(format!(
            "{what} may quote any file of the pin, and your access covers some of its paths only"
        )))
    }
}

/// Which paths of a pin are in a person's scope, decided once for a request (`None` inside: every
/// path, for staff and unscoped grants); made only by `Core::scope_filter`.
#[derive(Clone)]
pub struct ScopeFilter(Option<Arc<ScopedPaths>>);

impl ScopeFilter {
    pub fn is_whole(&self) -> bool {
        self.0.is_none()
    }

    /// Whether a path (a file or a directory, `""` the root) is in scope.
    pub fn keep(&self, path: &str) -> bool {
        self.0.as_ref().is_none_or(|paths| paths.contains(path))
    }

    /// The filter a search applies to the files it reads (`None`: every file).
    pub fn search_filter(&self) -> Option<crate::source::PathFilter> {
        let paths = Arc::clone(self.0.as_ref()?);
        Some(Arc::new(move |path: &str| paths.contains(path)))
    }
}
