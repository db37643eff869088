//! Receipts: the proof that a read of source was recorded before it happens.
//!
//! A `Receipt` covers a *scope* — exact paths of one or more pins, a search within a pin, or a
//! system job over a whole pin — and only this module can make one, only from an event that names
//! that scope, and only after the event's commit returned. `source` asks the receipt whether it
//! covers each object before reading it.

use super::event::Event;
use app::model::{PinId, RepoPath};

/// What a recorded event allows to be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Exactly these paths at these pins (a listing, a file and its directory, a diff of two pins).
    Paths(Vec<(PinId, RepoPath)>),
    /// Any path of the pin, for a search whose query the event records.
    Search(PinId),
    /// Any path of the pin, for a job of the server's own (pre-highlighting, indexing).
    WholePin(PinId),
    /// Any path of two pins, to find what changed between them (the event names both).
    Compare(PinId, PinId),
    /// The commits from one pin to another of its repository, their messages, changed files and
    /// diffs (the event names both; the history policy decided what is read).
    History(PinId, PinId),
}

impl Scope {
    /// One path at one pin.
    pub fn path(pin: PinId, path: &RepoPath) -> Scope {
        Scope::Paths(vec![(pin, path.clone())])
    }

    /// Whether `event` names this scope, so that recording it records what the receipt allows.
    pub fn is_named_by(&self, event: &Event) -> bool {
        let names = |pin: PinId, path: &str| event.objects.iter().any(|o| o.pin == pin.get() && o.path == path);
        match self {
            Scope::Paths(paths) => !paths.is_empty() && paths.iter().all(|(pin, path)| names(*pin, path.as_str())),
            Scope::Search(pin) => event.query.is_some() && event.objects.iter().any(|o| o.pin == pin.get()),
            Scope::WholePin(pin) => event.role == Some("system") && names(*pin, ""),
            Scope::Compare(a, b) | Scope::History(a, b) => names(*a, "") && names(*b, ""),
        }
    }
}

/// Proof that an event naming `scope` was durably recorded at `index`.
#[derive(Debug)]
pub struct Receipt {
    index: u64,
    scope: Scope,
}

impl Receipt {
    /// Only the log makes receipts, after the commit of the event at `index`.
    /// A receipt for a unit test of a read, with no log behind it.
    #[cfg(test)]
    pub(crate) fn for_tests(scope: Scope) -> Receipt {
        Receipt::after_commit(1, scope)
    }

    pub(super) fn after_commit(index: u64, scope: Scope) -> Receipt {
        Receipt { index, scope }
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    /// Whether this receipt covers every path of `pin` (a search or a job of the server's own).
    pub fn covers_whole(&self, pin: PinId) -> bool {
        match &self.scope {
            Scope::Search(p) | Scope::WholePin(p) => *p == pin,
            Scope::Compare(a, b) => *a == pin || *b == pin,
            Scope::Paths(_) | Scope::History(..) => false,
        }
    }

    /// Whether this receipt covers reading the commits from pin `a` to pin `b`.
    pub fn covers_history(&self, a: PinId, b: PinId) -> bool {
        self.scope == Scope::History(a, b)
    }

    /// Whether this receipt covers reading `path` at `pin`.
    pub fn covers(&self, pin: PinId, path: &RepoPath) -> bool {
        match &self.scope {
            Scope::Paths(paths) => paths.iter().any(|(p, q)| *p == pin && q == path),
            Scope::Search(p) | Scope::WholePin(p) => *p == pin,
            Scope::Compare(a, b) => *a == pin || *b == pin,
            Scope::History(..) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::event::{Object, Outcome, Query};
    use crate::audit::Action;

    fn pin(n: &str) -> PinId {
        PinId::parse(n).unwrap()
    }

    fn path(p: &str) -> RepoPath {
        RepoPath::parse(p).unwrap()
    }

    #[test]
    fn a_path_receipt_covers_exactly_its_paths() {
        let receipt =
            Receipt::after_commit(1, Scope::Paths(vec![(pin("1"), path("src/a.rs")), (pin("1"), path("src"))]));
        assert!(receipt.covers(pin("1"), &path("src/a.rs")));
        assert!(receipt.covers(pin("1"), &path("src")));
        assert!(!receipt.covers(pin("1"), &path("src/b.rs")));
        assert!(!receipt.covers(pin("2"), &path("src/a.rs")));
    }

    #[test]
    fn a_pin_wide_receipt_covers_only_its_pin() {
        for scope in [Scope::Search(pin("4")), Scope::WholePin(pin("4"))] {
            let receipt = Receipt::after_commit(1, scope);
            assert!(receipt.covers(pin("4"), &path("any/where.c")));
            assert!(!receipt.covers(pin("5"), &path("any/where.c")));
        }
    }

    #[test]
    fn a_scope_must_be_named_by_its_event() {
        let caller = app::model::Caller {
            identity: None,
            session: None,
            client_address: "x".into(),
            csrf_token: None,
            token: None,
            access_ends_ms: None,
        };
        let view = Event::by(&caller, Action::BlobView, Outcome::Ok).on(Object::at(pin("1"), None, &path("a")));
        assert!(Scope::path(pin("1"), &path("a")).is_named_by(&view));
        assert!(!Scope::path(pin("1"), &path("b")).is_named_by(&view));
        assert!(!Scope::Paths(Vec::new()).is_named_by(&view));
        assert!(!Scope::Search(pin("1")).is_named_by(&view), "a search names its query");
        assert!(!Scope::WholePin(pin("1")).is_named_by(&view), "only the server's own jobs read whole pins");
        let search = view.clone().query(Query { kind: "text", text: "x".into(), case: false, path: None });
        assert!(Scope::Search(pin("1")).is_named_by(&search));
        let job =
            Event::by_system("highlight", Action::PinPrehighlight).on(Object::at(pin("1"), None, &RepoPath::root()));
        assert!(Scope::WholePin(pin("1")).is_named_by(&job));
    }
}
