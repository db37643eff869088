//! The session's contents, typed: one `SessionData` value under one key, so that no string key is
//! scattered over files. What the data means and when a session ends is the domain guard's; this
//! module only stores it, and keeps the stored record's expiry at the session's next deadline.

use crate::domain::SessionData;
use tower_sessions::{Expiry, Session};

const KEY: &str = crate::store::sessions::DATA_KEY;

/// Where a refused form waits for the page it goes back to.
const KEPT_FORM_KEY: &str = "kept_form";

/// A refused form and the page (its path) it is kept for.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptFor {
    page: String,
    form: app::model::KeptForm,
}

pub struct TypedSession(pub Session);

impl TypedSession {
    pub async fn get(&self) -> Result<Option<SessionData>, tower_sessions::session::Error> {
        self.0.get(KEY).await
    }

    /// Stores the data and moves the record's expiry (and the cookie's) to its next deadline.
    pub async fn set(&self, data: &SessionData) -> Result<(), tower_sessions::session::Error> {
        let expires = time::OffsetDateTime::from_unix_timestamp_nanos(data.expires_at() as i128 * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        self.0.set_expiry(Some(Expiry::AtDateTime(expires)));
        self.0.insert(KEY, data).await
    }

    /// A new session id for the same session (at sign-in, so a planted id is worth nothing).
    pub async fn cycle_id(&self) -> Result<(), tower_sessions::session::Error> {
        self.0.cycle_id().await
    }

    /// Ends the session: its record is deleted and its cookie cleared.
    pub async fn end(&self) -> Result<(), tower_sessions::session::Error> {
        self.0.flush().await
    }

    /// Keeps a refused form for the next request of `page` (a path without query or fragment).
    pub async fn keep_form(
        &self,
        page: &str,
        form: app::model::KeptForm,
    ) -> Result<(), tower_sessions::session::Error> {
        self.0.insert(KEPT_FORM_KEY, KeptFor { page: page.to_string(), form }).await
    }

    /// The form kept for this page request, which takes it: any page request does (the redirect's
    /// is the next one), so a form is shown once and never lingers for a later visit.
    pub async fn take_form(&self, page: &str) -> Result<Option<app::model::KeptForm>, tower_sessions::session::Error> {
        // Read first: removing marks the session changed, which writes it back.
        let Some(kept) = self.0.get::<KeptFor>(KEPT_FORM_KEY).await? else { return Ok(None) };
        self.0.remove_value(KEPT_FORM_KEY).await?;
        Ok((kept.page == page).then_some(kept.form))
    }

    /// A short, non-secret fingerprint of the session id for the audit log.
    pub fn fingerprint(&self) -> Option<String> {
        use sha2::Digest as _;
        self.0.id().map(|id| hex::encode(&sha2::Sha256::digest(id.to_string().as_bytes())[..8]))
    }
}
