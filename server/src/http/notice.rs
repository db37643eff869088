//! A form's outcome, carried back to its page in the URL (`?done=` or `?error=`) and shown there
//! only when the server wrote it. The redirect adds `n=<seconds>.<tag>`: an HMAC over the kind,
//! the page's path, the time and the message under a key derived from the log's signing key (so
//! every instance sharing the log shares it). A page shows a message whose tag verifies and whose
//! time is less than `VALID_SECONDS` old, and nothing else: a link someone crafted with
//! `?error=Call+this+number` shows no alert.

use super::AppState;
use app::model::{PageNotice, PageNoticeKind};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use hmac::Mac as _;
use sha2::Sha256;

/// How long a redirect's message is shown (a reload soon after the post shows it again).
pub const VALID_SECONDS: i64 = 15 * 60;

/// How far ahead of this instance's clock another instance's seal may be.
const CLOCK_SKEW_SECONDS: i64 = 60;

/// The key that tags page notices.
#[derive(Clone)]
pub struct NoticeKey([u8; 32]);

impl std::fmt::Debug for NoticeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoticeKey(<redacted>)")
    }
}

impl NoticeKey {
    pub fn new(key: [u8; 32]) -> NoticeKey {
        NoticeKey(key)
    }

    /// The HMAC over the parts, each preceded by its length.
    fn mac(&self, kind: PageNoticeKind, path: &str, at_seconds: i64, message: &str) -> hmac::Hmac<Sha256> {
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        for part in [kind.key(), path, &at_seconds.to_string(), message] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    fn tag(&self, kind: PageNoticeKind, path: &str, at_seconds: i64, message: &str) -> String {
        hex::encode(&self.mac(kind, path, at_seconds, message).finalize().into_bytes()[..16])
    }

    /// The query parameter (`n=…`'s value) that lets `path` show `message` as `kind`.
    pub fn seal(&self, kind: PageNoticeKind, path: &str, at_seconds: i64, message: &str) -> String {
        format!("{at_seconds}.{}", self.tag(kind, path, at_seconds, message))
    }

    /// The notice a page request's query carries, if the server wrote it for this path and it is
    /// recent; `None` for no message, a forged or moved one, or an old one.
    pub fn open(&self, path: &str, query: &str, now_seconds: i64) -> Option<PageNotice> {
        let mut message = None;
        let mut seal = None;
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "error" => message = Some((PageNoticeKind::Error, value.into_owned())),
                "done" if message.is_none() => message = Some((PageNoticeKind::Done, value.into_owned())),
                "n" => seal = Some(value.into_owned()),
                _ => {}
            }
        }
        let (kind, message) = message?;
        let (at, tag) = seal?.split_once('.').map(|(a, t)| (a.to_string(), t.to_string()))?;
        let at: i64 = at.parse().ok()?;
        // A minute's grace the other way: instances sharing the log may differ a little in time.
        if !(-CLOCK_SKEW_SECONDS..=VALID_SECONDS).contains(&(now_seconds - at)) {
            return None;
        }
        let tag = hex::decode(tag).ok().filter(|tag| tag.len() == 16)?;
        // Compared in constant time by the hmac crate.
        self.mac(kind, path, at, &message).verify_truncated_left(&tag).ok()?;
        Some(PageNotice { kind, message })
    }
}

/// A redirect's message waiting for its seal: `forms::back_to` leaves it on the response, and
/// `seal_and_open` adds the seal to the `Location` (the key is the application's).
#[derive(Clone, Debug)]
pub struct Unsealed {
    pub kind: PageNoticeKind,
    pub message: String,
    /// The page's path, without its query.
    pub path: String,
    /// The location up to its fragment (the message's parameter included).
    pub before_fragment: String,
    /// `#…`, or empty.
    pub fragment: String,
}

/// Seals the message of a form's redirect, and opens the message of a page request: a page whose
/// query carries a sealed, recent message for its own path gets the `PageNotice` in its request
/// (the layout's `Flash` shows it); any other `done`/`error` text is ignored.
pub async fn seal_and_open(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let now_seconds = state.domain.now_ms().div_euclid(1000);
    if request.method() == Method::GET {
        if let Some(query) = request.uri().query() {
            if let Some(notice) = state.notices.open(request.uri().path(), query, now_seconds) {
                request.extensions_mut().insert(notice);
            }
        }
    }
    let mut response = next.run(request).await;
    if let Some(unsealed) = response.extensions_mut().remove::<Unsealed>() {
        let seal = state.notices.seal(unsealed.kind, &unsealed.path, now_seconds, &unsealed.message);
        let location = format!("{}&n={seal}{}", unsealed.before_fragment, unsealed.fragment);
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> NoticeKey {
        NoticeKey::new([7; 32])
    }

    fn query(kind: &str, message: &str, seal: &str) -> String {
        form_urlencoded::Serializer::new(String::new()).append_pair(kind, message).append_pair("n", seal).finish()
    }

    #[test]
    fn a_sealed_message_opens_on_its_page_while_it_is_recent() {
        let seal = key().seal(PageNoticeKind::Error, "/account", 1_000, "the current password is not right");
        let q = query("error", "the current password is not right", &seal);
        let notice = key().open("/account", &q, 1_010).expect("opens");
        assert_eq!(notice.kind, PageNoticeKind::Error);
        assert_eq!(notice.message, "the current password is not right");
        assert!(key().open("/account", &q, 1_000 + VALID_SECONDS + 1).is_none(), "too old");
        assert!(key().open("/account", &q, 990).is_some(), "a clock a little behind");
        assert!(key().open("/account", &q, 900).is_none(), "from the future");
        assert!(key().open("/pins/1/comments", &q, 1_010).is_none(), "moved to another page");
    }

    #[test]
    fn a_message_the_server_did_not_seal_shows_nothing() {
        let seal = key().seal(PageNoticeKind::Done, "/account", 1_000, "password changed");
        assert!(key().open("/account", "error=Call+this+number", 1_010).is_none(), "no seal");
        assert!(key().open("/account", &query("done", "Call this number", &seal), 1_010).is_none(), "other text");
        assert!(key().open("/account", &query("error", "password changed", &seal), 1_010).is_none(), "other kind");
        assert!(NoticeKey::new([8; 32]).open("/account", &query("done", "password changed", &seal), 1_010).is_none());
        assert!(key().open("/account", &query("done", "password changed", "1000.zz"), 1_010).is_none());
        assert!(key().open("/account", &query("done", "password changed", "x"), 1_010).is_none());
    }
}
