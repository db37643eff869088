//! Every action an audit event can record, by its wire name (`docs/audit-events.md`), and the one
//! rule for what an event *showed* a person: in-app coverage (`store::log::shown_objects`) and the
//! export bundle's coverage (`export::LeafSummary::shown_files`) both derive from `Action::shows`,
//! so the app and a regulator's bundle cannot count a reviewer's coverage differently.
//!
//! The wire names never change: leaves already in a log name them, and verifiers match on them.

use serde::{Serialize, Serializer};

/// Which objects of a successful event by a person count as shown (for coverage).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shows {
    /// None: the event showed no file's content (a listing, a search, a change of records).
    Nothing,
    /// The event's first object, when it names a blob: a file view, a window of lines, a download.
    FirstObject,
    /// Every object that names a blob and a path: each side's line ranges of a file diff.
    EveryObject,
}

macro_rules! actions {
    ($($variant:ident = $name:literal => $shows:ident,)*) => {
        /// An audited action; `as_str` is the name written into leaves.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            /// Every action, in the order the documentation lists them.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The wire name, as leaves and the log's `action` column hold it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// The action a wire name stands for (`None` for a name this server never writes).
            pub fn parse(name: &str) -> Option<Action> {
                match name {
                    $($name => Some(Action::$variant),)*
                    _ => None,
                }
            }

            /// Which of the event's objects were shown to its actor (see `Shows`).
            pub const fn shows(self) -> Shows {
                match self {
                    $(Action::$variant => Shows::$shows,)*
                }
            }
        }
    };
}

actions! {
    AccessDenied = "access.denied" => Nothing,
    ArtifactCompiledMap = "artifact.compiled_map" => Nothing,
    ArtifactCompiledView = "artifact.compiled_view" => Nothing,
    ArtifactLookup = "artifact.lookup" => Nothing,
    AttestationDownload = "attestation.download" => Nothing,
    AttestationIssue = "attestation.issue" => Nothing,
    AttestationLookup = "attestation.lookup" => Nothing,
    AuthAccountLocked = "auth.account_locked" => Nothing,
    AuthLogin = "auth.login" => Nothing,
    AuthLoginFailed = "auth.login_failed" => Nothing,
    AuthLogout = "auth.logout" => Nothing,
    // A download sends the whole file to the person: it is shown, as a view is.
    BlobDownload = "blob.download" => FirstObject,
    BlobLines = "blob.lines" => FirstObject,
    BlobView = "blob.view" => FirstObject,
    // Blame shows the whole file beside the commits that last changed each line.
    BlameOpen = "blame.open" => Nothing,
    BlameView = "blame.view" => FirstObject,
    BuildDiff = "build.diff" => Nothing,
    BuildDiffDownload = "build.diff_download" => Nothing,
    BuildDiffView = "build.diff_view" => Nothing,
    BuildDebugFile = "build.debug_file" => Nothing,
    BuildFailed = "build.failed" => Nothing,
    BuildFinish = "build.finish" => Nothing,
    BuildLogView = "build.log_view" => Nothing,
    BuildRecipeSet = "build.recipe_set" => Nothing,
    BuildRecord = "build.record" => Nothing,
    BuildRequest = "build.request" => Nothing,
    BuildSourceExport = "build.source_export" => Nothing,
    BuildStart = "build.start" => Nothing,
    BuildsView = "builds.view" => Nothing,
    CommentCreate = "comment.create" => Nothing,
    CommentDenied = "comment.denied" => Nothing,
    CommentEdit = "comment.edit" => Nothing,
    CommentState = "comment.state" => Nothing,
    CommentsList = "comments.list" => Nothing,
    CompareList = "compare.list" => Nothing,
    CompareOpen = "compare.open" => Nothing,
    CoverageView = "coverage.view" => Nothing,
    DiffOpen = "diff.open" => Nothing,
    DiffView = "diff.view" => EveryObject,
    EntryRegister = "entry.register" => Nothing,
    ExportComplete = "export.complete" => Nothing,
    ExportDownload = "export.download" => Nothing,
    ExportRequest = "export.request" => Nothing,
    FilesFind = "files.find" => Nothing,
    GrantCreate = "grant.create" => Nothing,
    GrantExtend = "grant.extend" => Nothing,
    GrantRevoke = "grant.revoke" => Nothing,
    // A commit's diffs show blobs of commits between pins, no pin's file: not coverage.
    HistoryCommit = "history.commit" => Nothing,
    HistoryList = "history.list" => Nothing,
    HistoryOpen = "history.open" => Nothing,
    JobCancel = "job.cancel" => Nothing,
    LogRead = "log.read" => Nothing,
    LogSelfCheckFailed = "log.self_check_failed" => Nothing,
    NoteCreate = "note.create" => Nothing,
    NoteEdit = "note.edit" => Nothing,
    NoteState = "note.state" => Nothing,
    PinCompare = "pin.compare" => Nothing,
    PinCreate = "pin.create" => Nothing,
    PinIndex = "pin.index" => Nothing,
    PinPolicy = "pin.policy" => Nothing,
    PinPrehighlight = "pin.prehighlight" => Nothing,
    PinSymbols = "pin.symbols" => Nothing,
    PinWithdraw = "pin.withdraw" => Nothing,
    ReleaseAuthorise = "release.authorise" => Nothing,
    ReleaseDossier = "release.dossier" => Nothing,
    ReleaseList = "release.list" => Nothing,
    ReleaseObject = "release.object" => Nothing,
    ReleasePolicySet = "release.policy_set" => Nothing,
    ReleasePropose = "release.propose" => Nothing,
    ReleaseSign = "release.sign" => Nothing,
    RepoFetch = "repo.fetch" => Nothing,
    RepoImport = "repo.import" => Nothing,
    RepoImportComplete = "repo.import_complete" => Nothing,
    RepoImportFailed = "repo.import_failed" => Nothing,
    // A requirement list is the vendor's, not source; the view names what it counted.
    RequirementsImport = "requirements.import" => Nothing,
    ReviewMark = "review.mark" => Nothing,
    ReviewUnmark = "review.unmark" => Nothing,
    // Imported tool results name files and lines, never their content.
    SarifImport = "sarif.import" => Nothing,
    SarifList = "sarif.list" => Nothing,
    SarifTriage = "sarif.triage" => Nothing,
    SarifView = "sarif.view" => Nothing,
    SearchResults = "search.results" => Nothing,
    SearchRun = "search.run" => Nothing,
    SessionEndAll = "session.end_all" => Nothing,
    SessionEndOne = "session.end_one" => Nothing,
    SessionEndOthers = "session.end_others" => Nothing,
    SupervisorKeyRegister = "supervisor.key_register" => Nothing,
    SymbolLookup = "symbol.lookup" => Nothing,
    SymbolResults = "symbol.results" => Nothing,
    TokenCreate = "token.create" => Nothing,
    TraceabilityView = "traceability.view" => Nothing,
    TokenRevoke = "token.revoke" => Nothing,
    TreeView = "tree.view" => Nothing,
    UserCreate = "user.create" => Nothing,
    UserDisable = "user.disable" => Nothing,
    UserEnable = "user.enable" => Nothing,
    UserPasswordChange = "user.password_change" => Nothing,
    UserSecondFactor = "user.second_factor" => Nothing,
    VerdictSubmit = "verdict.submit" => Nothing,
}

impl Action {
    /// The actions whose objects count as shown in the given way.
    pub fn showing(how: Shows) -> impl Iterator<Item = Action> {
        Action::ALL.iter().copied().filter(move |action| action.shows() == how)
    }

    /// Whether an object at `position` in an event of the action named `name`, with `path` and an
    /// object id (`has_blob`), was shown to the event's actor. The outcome and actor are the
    /// caller's to check (only a successful event by a person shows anything).
    pub fn object_was_shown(name: &str, position: usize, path: &str, has_blob: bool) -> bool {
        if !has_blob || path.is_empty() {
            return false;
        }
        match Action::parse(name).map(Action::shows) {
            Some(Shows::FirstObject) => position == 0,
            Some(Shows::EveryObject) => true,
            Some(Shows::Nothing) | None => false,
        }
    }
}

/// The rule as the store reads it (`store::log::shown_objects`).
pub fn shown_rule() -> crate::store::log::ShownRule<'static> {
    static NAMES: std::sync::LazyLock<[Vec<&'static str>; 2]> = std::sync::LazyLock::new(|| {
        [Shows::FirstObject, Shows::EveryObject].map(|how| Action::showing(how).map(Action::as_str).collect())
    });
    crate::store::log::ShownRule { first_object: &NAMES[0], every_object: &NAMES[1] }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wire_name_parses_back_to_its_action_and_is_unique() {
        let mut names = std::collections::HashSet::new();
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(*action));
            assert!(names.insert(action.as_str()), "{action} twice");
        }
        assert_eq!(Action::parse("blob.peek"), None);
    }

    #[test]
    fn every_action_is_documented_for_verifiers() {
        let docs = include_str!("../../../docs/audit-events.md");
        for action in Action::ALL {
            assert!(docs.contains(&format!("`{}`", action.as_str())), "{action} is not in docs/audit-events.md");
        }
    }

    #[test]
    fn views_windows_and_downloads_show_their_file_and_diffs_show_every_side() {
        assert!(Action::object_was_shown("blob.view", 0, "src/a.rs", true));
        assert!(Action::object_was_shown("blob.lines", 0, "src/a.rs", true));
        assert!(Action::object_was_shown("blob.download", 0, "src/a.rs", true));
        assert!(!Action::object_was_shown("blob.view", 1, "src", true), "the directory beside the file");
        assert!(Action::object_was_shown("diff.view", 3, "src/a.rs", true));
        assert!(!Action::object_was_shown("diff.view", 0, "src/a.rs", false), "a side with no line shown");
        assert!(!Action::object_was_shown("diff.view", 0, "", true), "the pin's root");
        for never in ["search.results", "tree.view", "review.mark", "comment.create", "made.up"] {
            assert!(!Action::object_was_shown(never, 0, "src/a.rs", true), "{never}");
        }
    }
}
