//! Sessions kept in the application's own database (SQLite or PostgreSQL), so that several server
//! instances share them and revocation reaches every instance.
//!
//! Implements tower-sessions' `SessionStore` over the store's pool instead of pulling in a second
//! sqlx version through a ready-made store crate.

use super::Store;
use crate::clock::Clock;
use sqlx::Row;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

#[derive(Clone, Debug)]
pub struct DatabaseSessionStore {
    store: Store,
    /// The domain's clock: a record is gone once its expiry passed by this clock.
    clock: Clock,
}

impl DatabaseSessionStore {
    pub fn new(store: Store, clock: Clock) -> Self {
        DatabaseSessionStore { store, clock }
    }

    fn now_seconds(&self) -> i64 {
        self.clock.now_ms().div_euclid(1000)
    }
}

/// A record is kept and loaded this long past its expiry, so that the next request learns that
/// its session *ended* (the domain guard decides, and ends it) rather than finding none at all.
const ENDED_GRACE_SECONDS: i64 = 86_400;

/// A session id as stored: its SHA-256 in hex, so that a copy of the database (or a reader of the
/// table) holds nothing a browser could present as a session cookie.
pub fn stored_id(id: &Id) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(id.to_string().as_bytes()))
}

/// The key the server keeps its one session value under (`http::session_state`).
pub const DATA_KEY: &str = "clearroom";

/// The account a session belongs to, read from its value, so that an account's sessions can be
/// listed and ended.
fn user_of(record: &Record) -> Option<i64> {
    record.data.get(DATA_KEY)?.get("user_id")?.as_i64()
}

/// A session as listed for its owner: the hash of its id, its value, its record's expiry (s).
pub struct StoredSession {
    pub stored_id: String,
    pub data: serde_json::Value,
    pub expiry_seconds: i64,
}

impl Store {
    /// The live sessions of an account.
    pub async fn sessions_of(&self, user_id: i64, now_ms: i64) -> super::Result<Vec<StoredSession>> {
        let rows = sqlx::query("SELECT id, data, expiry_date FROM sessions WHERE user_id = $1 AND expiry_date > $2")
            .bind(user_id)
            .bind(now_ms.div_euclid(1000))
            .fetch_all(&self.pool)
            .await?;
        let mut sessions = Vec::new();
        for row in rows {
            let data: Vec<u8> = row.try_get(1)?;
            let mut value: serde_json::Value = serde_json::from_slice(&data).unwrap_or_default();
            sessions.push(StoredSession {
                stored_id: row.try_get(0)?,
                data: value.get_mut(DATA_KEY).map(serde_json::Value::take).unwrap_or_default(),
                expiry_seconds: row.try_get(2)?,
            });
        }
        Ok(sessions)
    }

    /// A session's value and expiry (s) by its stored id, unless it expired before `after`: read
    /// for every request that carries a session cookie.
    pub async fn session_row(&self, stored_id: &str, after: i64) -> super::Result<Option<(Vec<u8>, i64)>> {
        let row = super::hot_read!(
            self,
            sqlx::query("SELECT data, expiry_date FROM sessions WHERE id = $1 AND expiry_date > $2")
                .bind(stored_id)
                .bind(after),
            fetch_optional
        );
        let Some(row) = row else { return Ok(None) };
        Ok(Some((row.try_get(0)?, row.try_get(1)?)))
    }
}

fn backend(error: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

#[async_trait::async_trait]
impl SessionStore for DatabaseSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Try fresh ids until one is free; a collision of 128-bit random ids is a formality.
        loop {
            let data = serde_json::to_vec(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, data, expiry_date, user_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(stored_id(&record.id))
            .bind(data)
            .bind(record.expiry_date.unix_timestamp())
            .bind(user_of(record))
            .execute(&self.store.pool)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Writes back a session that exists: an UPDATE, never an insert. A session is created only by
    /// `create` (tower-sessions calls it for a new or cycled id); a request still in flight when its
    /// session was ended (signed out everywhere else, a password change, staff ending sessions)
    /// writes back to no row, so an ended session never comes back.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_vec(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        sqlx::query("UPDATE sessions SET data = $2, expiry_date = $3, user_id = $4 WHERE id = $1")
            .bind(stored_id(&record.id))
            .bind(data)
            .bind(record.expiry_date.unix_timestamp())
            .bind(user_of(record))
            .execute(&self.store.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = self.now_seconds() - ENDED_GRACE_SECONDS;
        let Some((data, expiry)) = self.store.session_row(&stored_id(id), now).await.map_err(backend)? else {
            return Ok(None);
        };
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_slice(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?,
            expiry_date: time::OffsetDateTime::from_unix_timestamp(expiry).map_err(backend)?,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(stored_id(id))
            .execute(&self.store.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for DatabaseSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let now = self.now_seconds() - ENDED_GRACE_SECONDS;
        sqlx::query("DELETE FROM sessions WHERE expiry_date <= $1")
            .bind(now)
            .execute(&self.store.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
