//! SQLite only: a few connections kept for the reads every page view makes (the session, the
//! account with its grants, the pin with the caller's grants, the reviewed mark).
//!
//! sqlx's pool tests each connection when it is given back (`ping`), and a SQLite connection runs
//! on a thread of its own, so every query through the pool is two hand-overs to that thread and
//! back, each a wake-up of a sleeping thread. Measured under load, those wake-ups were a sixth of a
//! warm file view's CPU. These connections are given back without the test: on SQLite there is no
//! peer to lose, and each query has its own channel for its rows, so a query abandoned half way
//! (a request whose client went away) leaves nothing for the next one to read. A connection whose
//! query failed is closed rather than given back, and a new one is opened when next needed.
//! They are opened `query_only`: nothing written through them can be, whatever a caller does.

use super::{Connection, Result, BUSY_TIMEOUT};
use sqlx::Connection as _;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use tokio::sync::{Semaphore, SemaphorePermit};

/// How many reads run at once; a view's reads are tens of microseconds each.
const READERS: usize = 4;

pub struct Readers {
    url: String,
    idle: Mutex<Vec<Connection>>,
    slots: Semaphore,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers").field("idle", &self.idle.lock().map(|idle| idle.len()).ok()).finish()
    }
}

impl Readers {
    /// Readers of the database at `url`, or none when each connection would open a database of
    /// its own (an in-memory one).
    pub fn for_url(url: &str) -> Option<Readers> {
        let own_database = url.contains(":memory:") || url.contains("mode=memory");
        (!own_database).then(|| Readers {
            url: url.to_string(),
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(READERS),
        })
    }

    /// An idle connection, or a new one while fewer than `READERS` are open.
    pub async fn get(&self) -> Result<Reader<'_>> {
        let slot = self.slots.acquire().await.expect("the semaphore is never closed");
        let idle = self.idle.lock().expect("readers lock").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open(&self.url).await?,
        };
        Ok(Reader { conn: Some(conn), readers: self, _slot: slot })
    }
}

async fn open(url: &str) -> Result<Connection> {
    let mut conn = Connection::connect(url).await?;
    for pragma in [BUSY_TIMEOUT, "PRAGMA query_only = ON"] {
        sqlx::query(pragma).execute(&mut conn).await?;
    }
    Ok(conn)
}

/// A connection lent for one read. Call `done` with the query's outcome: a failed query's
/// connection is closed, not kept.
pub struct Reader<'a> {
    conn: Option<Connection>,
    readers: &'a Readers,
    _slot: SemaphorePermit<'a>,
}

impl Reader<'_> {
    /// Hands the outcome through, keeping the connection only if the query succeeded.
    pub fn done<T>(mut self, outcome: Result<T, sqlx::Error>) -> Result<T> {
        if outcome.is_ok() {
            if let Some(conn) = self.conn.take() {
                self.readers.idle.lock().expect("readers lock").push(conn);
            }
        }
        Ok(outcome?)
    }
}

impl Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("a reader holds its connection until it is done")
    }
}

impl DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("a reader holds its connection until it is done")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn count(readers: &Readers, sql: &str) -> Result<i64> {
        let mut reader = readers.get().await?;
        let outcome = sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *reader).await;
        reader.done(outcome)
    }

    fn idle(readers: &Readers) -> usize {
        readers.idle.lock().unwrap().len()
    }

    #[tokio::test]
    async fn readers_see_commits_never_write_and_drop_a_connection_whose_query_failed() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
        let store = crate::store::Store::connect(&url).await.unwrap();
        let readers = Readers::for_url(&url).expect("a file database has readers");
        sqlx::query("CREATE TABLE t (x INTEGER)").execute(&store.pool).await.unwrap();
        sqlx::query("INSERT INTO t VALUES (1), (2)").execute(&store.pool).await.unwrap();

        // A read sees what the pool committed, and its connection is kept for the next read.
        assert_eq!(count(&readers, "SELECT COUNT(*) FROM t").await.unwrap(), 2);
        assert_eq!(idle(&readers), 1);
        sqlx::query("INSERT INTO t VALUES (3)").execute(&store.pool).await.unwrap();
        assert_eq!(count(&readers, "SELECT COUNT(*) FROM t").await.unwrap(), 3);
        assert_eq!(idle(&readers), 1, "the kept connection was reused");

        // Nothing can be written through a reader; the failed connection is closed, not kept.
        let mut reader = readers.get().await.unwrap();
        let outcome = sqlx::query("INSERT INTO t VALUES (4)").execute(&mut *reader).await;
        assert!(reader.done(outcome).is_err());
        assert_eq!(idle(&readers), 0);
        assert!(count(&readers, "SELECT COUNT(*) FROM no_such_table").await.is_err());
        assert_eq!(idle(&readers), 0);

        // The next read opens a fresh connection.
        assert_eq!(count(&readers, "SELECT COUNT(*) FROM t").await.unwrap(), 3);
        assert_eq!(idle(&readers), 1);
        // A reader dropped without an outcome (its request went away) is closed too.
        drop(readers.get().await.unwrap());
        assert_eq!(idle(&readers), 0);

        assert!(Readers::for_url("sqlite::memory:").is_none());
    }
}
