//! What an audit event says, and its leaf encoding (format v2, `docs/audit-events.md`).
//!
//! An event names every object it concerns — each a (pin, commit, path, git object id, line range)
//! — and, for a search, the query. The leaf is the event encoded once, as compact JSON with its
//! fields in a fixed order; those exact bytes are stored, hashed into the tree and exported, and
//! never encoded again.

use super::Action;
use app::model::{Caller, LineRange, PinId, RepoPath};
use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Denied,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
}

/// One object an event concerns: a path at a pin, and what of it was shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Object {
    pub pin: i64,
    /// The pinned commit; null when the pin does not exist (a refused request names what was asked).
    pub commit: Option<String>,
    /// The path inside the pinned tree; "" is the root.
    pub path: String,
    /// The git object id of what was shown: a blob for a file, a tree for a directory; null when
    /// nothing was shown (a refusal, a path that does not exist).
    pub blob: Option<String>,
    /// The lines shown, 1-based and inclusive; null for the whole object.
    #[serde(serialize_with = "lines_as_pair")]
    pub lines: Option<LineRange>,
}

fn lines_as_pair<S: Serializer>(lines: &Option<LineRange>, serializer: S) -> Result<S::Ok, S::Error> {
    match lines {
        None => serializer.serialize_none(),
        Some(range) => {
            let mut pair = serializer.serialize_seq(Some(2))?;
            pair.serialize_element(&range.first)?;
            pair.serialize_element(&range.last)?;
            pair.end()
        }
    }
}

impl Object {
    /// A path at a pin, before anything of it is known or shown.
    pub fn at(pin: PinId, commit: Option<&str>, path: &RepoPath) -> Object {
        Object {
            pin: pin.get(),
            commit: commit.map(str::to_string),
            path: path.as_str().to_string(),
            blob: None,
            lines: None,
        }
    }

    pub fn shown(mut self, object_id: &str) -> Object {
        self.blob = Some(object_id.to_string());
        self
    }

    pub fn lines(mut self, lines: LineRange) -> Object {
        self.lines = Some(lines);
        self
    }
}

/// What a search asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Query {
    /// `text` (literal), `regex`, `symbol` (a definition lookup) or `path` (a file finder).
    pub kind: &'static str,
    pub text: String,
    /// Whether letter case must match.
    pub case: bool,
    /// A glob the matching paths must satisfy, if one was given.
    pub path: Option<String>,
}

/// What happened, by whom, to what. Becomes one leaf.
#[derive(Clone, Debug)]
pub struct Event {
    pub actor: Option<String>,
    pub role: Option<&'static str>,
    pub session: Option<String>,
    pub client: Option<String>,
    pub action: Action,
    pub outcome: Outcome,
    pub objects: Vec<Object>,
    pub query: Option<Query>,
    pub details: serde_json::Value,
}

impl Event {
    fn new(action: Action, outcome: Outcome) -> Event {
        Event {
            actor: None,
            role: None,
            session: None,
            client: None,
            action,
            outcome,
            objects: Vec::new(),
            query: None,
            details: serde_json::Value::Object(Default::default()),
        }
    }

    /// An event by the caller of a request.
    pub fn by(caller: &Caller, action: Action, outcome: Outcome) -> Event {
        Event {
            actor: caller.identity.as_ref().map(|i| i.username.clone()),
            role: caller.identity.as_ref().map(|i| i.role.as_str()),
            session: caller.session.clone(),
            client: Some(caller.client_address.clone()),
            ..Event::new(action, outcome)
        }
    }

    /// An event by an operator at the command line.
    pub fn by_operator(action: Action) -> Event {
        Event {
            actor: Some("operator".into()),
            role: Some("operator"),
            client: Some("cli".into()),
            ..Event::new(action, Outcome::Ok)
        }
    }

    /// An event by the server itself: a background job with no person behind it.
    pub fn by_system(job: &'static str, action: Action) -> Event {
        Event { actor: Some(format!("system:{job}")), role: Some("system"), ..Event::new(action, Outcome::Ok) }
    }

    pub fn outcome(mut self, outcome: Outcome) -> Event {
        self.outcome = outcome;
        self
    }

    pub fn on(mut self, object: Object) -> Event {
        self.objects.push(object);
        self
    }

    pub fn query(mut self, query: Query) -> Event {
        self.query = Some(query);
        self
    }

    pub fn with(mut self, details: serde_json::Value) -> Event {
        self.details = details;
        self
    }

    /// The first object's pin and path: the columns the log is filtered by.
    pub fn first_pin(&self) -> Option<i64> {
        self.objects.first().map(|o| o.pin)
    }

    pub fn first_path(&self) -> Option<&str> {
        self.objects.first().map(|o| o.path.as_str())
    }
}

/// The leaf format, version 2: a JSON object with exactly these fields in this order. `prev` is
/// the hex leaf hash of the entry before (empty for the first), so a verifier names the exact
/// index where a stored log was edited, reordered or cut.
#[derive(Serialize)]
struct LeafV2<'a> {
    v: u8,
    prev: &'a str,
    time: String,
    actor: &'a Option<String>,
    role: Option<&'static str>,
    session: &'a Option<String>,
    client: &'a Option<String>,
    action: Action,
    outcome: Outcome,
    objects: &'a [Object],
    query: &'a Option<Query>,
    details: &'a serde_json::Value,
}

pub const LEAF_VERSION: u8 = 2;

/// The exact bytes of an event's leaf, recorded at `time_ms` after the leaf whose hash is `prev`.
pub fn encode_leaf(event: &Event, time_ms: i64, prev: &str) -> Vec<u8> {
    let leaf = LeafV2 {
        v: LEAF_VERSION,
        prev,
        time: app::times::rfc3339_millis(time_ms),
        actor: &event.actor,
        role: event.role,
        session: &event.session,
        client: &event.client,
        action: event.action,
        outcome: event.outcome,
        objects: &event.objects,
        query: &event.query,
        details: &event.details,
    };
    serde_json::to_vec(&leaf).expect("a leaf always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::merkle::leaf_hash;

    fn pin() -> PinId {
        PinId::parse("3").unwrap()
    }

    const COMMIT: &str = "9f1c0ffee0000000000000000000000000000001";
    const BLOB: &str = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";

    #[test]
    fn an_operator_event_has_a_fixed_field_order() {
        let event =
            Event::by_operator(Action::UserCreate).with(serde_json::json!({"username": "alice", "role": "reviewer"}));
        let leaf = String::from_utf8(encode_leaf(&event, 0, "")).unwrap();
        assert_eq!(
            leaf,
            r#"{"v":2,"prev":"","time":"1970-01-01T00:00:00.000Z","actor":"operator","role":"operator","session":null,"client":"cli","action":"user.create","outcome":"ok","objects":[],"query":null,"details":{"role":"reviewer","username":"alice"}}"#,
            "details keys are sorted"
        );
        assert_eq!(
            hex::encode(leaf_hash(leaf.as_bytes())),
            "90d9073dad8be72db3f24318fa7ce608c4e9c958cc2fffc4a3bb08fe26388d12"
        );
    }

    #[test]
    fn a_view_names_the_blob_and_lines_shown() {
        let caller = Caller {
            identity: Some(app::model::Identity {
                user_id: 7,
                username: "rev".into(),
                role: app::model::Role::Reviewer,
            }),
            session: Some("0011223344556677".into()),
            client_address: "192.0.2.1".into(),
            csrf_token: None,
            token: None,
            access_ends_ms: None,
        };
        let file = RepoPath::parse("src/main.rs").unwrap();
        let event = Event::by(&caller, Action::BlobView, Outcome::Ok)
            .on(Object::at(pin(), Some(COMMIT), &file).shown(BLOB).lines(LineRange { first: 10, last: 20 }))
            .on(Object::at(pin(), Some(COMMIT), &file.parent()));
        let leaf = String::from_utf8(encode_leaf(&event, 1_700_000_000_042, "ab")).unwrap();
        assert_eq!(
            leaf,
            format!(
                r#"{{"v":2,"prev":"ab","time":"2023-11-14T22:13:20.042Z","actor":"rev","role":"reviewer","session":"0011223344556677","client":"192.0.2.1","action":"blob.view","outcome":"ok","objects":[{{"pin":3,"commit":"{COMMIT}","path":"src/main.rs","blob":"{BLOB}","lines":[10,20]}},{{"pin":3,"commit":"{COMMIT}","path":"src","blob":null,"lines":null}}],"query":null,"details":{{}}}}"#
            )
        );
    }

    #[test]
    fn a_search_carries_its_query_and_text_is_escaped_as_json() {
        let event =
            Event::by_system("index", Action::SearchRun).on(Object::at(pin(), None, &RepoPath::root())).query(Query {
                kind: "regex",
                text: "\"quoted\"\n\u{1}é".into(),
                case: true,
                path: Some("src/**".into()),
            });
        let leaf = String::from_utf8(encode_leaf(&event, 0, "")).unwrap();
        assert!(leaf.contains(r#""actor":"system:index","role":"system","session":null,"client":null"#), "{leaf}");
        assert!(
            leaf.contains(r#""query":{"kind":"regex","text":"\"quoted\"\n\u0001é","case":true,"path":"src/**"}"#),
            "{leaf}"
        );
        assert!(leaf.contains(r#""objects":[{"pin":3,"commit":null,"path":"","blob":null,"lines":null}]"#));
    }
}
