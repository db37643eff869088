//! The store: one sqlx pool over SQLite (the embedded default) or PostgreSQL (scale-out), the
//! migrations for each, and every SQL statement the server runs, one module per table family.
//!
//! Queries are written once in the SQL both engines accept (`$1` parameters, `RETURNING`). Reads
//! are methods on `Store`; writes are functions that take the connection of the audit log's
//! transaction, so that a business row commits with its event or not at all. The store decides
//! nothing about authorisation; `domain` does.

pub mod builds;
pub mod compiled;
mod definitions;
pub mod exports;
pub mod files;
pub mod grants;
pub mod log;
pub mod pins;
pub mod public_log;
pub mod readers;
pub mod releases;
pub mod requirements;
pub mod review;
pub mod room;
pub mod sarif;
pub mod sessions;
pub mod users;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use std::time::Duration;

pub use sqlx::AnyConnection as Connection;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// A row with the same unique key exists (a concurrent or repeated creation).
    #[error("a row with this key exists")]
    Duplicate,
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database url (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("a stored value is not valid: {0}")]
    Corrupt(&'static str),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error.as_database_error() {
            Some(database) if database.is_unique_violation() => StoreError::Duplicate,
            _ => StoreError::Database(error),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    /// SQLite on a file: connections for the reads of every request (`readers.rs`).
    readers: Option<std::sync::Arc<readers::Readers>>,
}

/// How long a SQLite statement waits for the writer's lock before it fails.
const BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 10000";

/// `$query.$fetch(…)` for one of the reads every request makes: on a kept reader where there are
/// readers (SQLite), else on the pool.
macro_rules! hot_read {
    ($store:expr, $query:expr, $fetch:ident) => {
        match &$store.readers {
            Some(readers) => {
                let mut reader = readers.get().await?;
                let outcome = $query.$fetch(&mut *reader).await;
                reader.done(outcome)?
            }
            None => $query.$fetch(&$store.pool).await?,
        }
    };
}
pub(crate) use hot_read;

impl Store {
    /// Connects and applies the migrations of the engine the URL names.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match engine {
            Engine::Sqlite => {
                // A connection to an embedded file cannot have been dropped by a peer, so the
                // pool does not test it on every acquire (each test is one more hand-over to the
                // connection's thread and back, and a view makes several queries).
                options
                    .max_connections(8)
                    .test_before_acquire(false)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL lets readers run beside the one writer; FULL makes a commit
                            // durable before it returns, which fail-closed auditing relies on.
                            // A pin's definitions are written in one transaction of tens of MB;
                            // the WAL file is cut back to 4 MiB after the checkpoint that
                            // follows, rather than keeping that size on disk for good.
                            for pragma in [
                                "PRAGMA journal_mode = WAL",
                                "PRAGMA journal_size_limit = 4194304",
                                "PRAGMA synchronous = FULL",
                                BUSY_TIMEOUT,
                                "PRAGMA foreign_keys = ON",
                            ] {
                                sqlx::query(pragma).execute(&mut *conn).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Engine::Postgres => options.max_connections(16).connect(url).await?,
        };
        let readers = match engine {
            Engine::Sqlite => readers::Readers::for_url(url).map(std::sync::Arc::new),
            Engine::Postgres => None,
        };
        let store = Store { pool, engine, readers };
        store.migrate().await?;
        Ok(store)
    }

    /// After a large write (a pin's jobs): on SQLite, the log of writes (WAL) is copied into the
    /// database and emptied, rather than kept at its size limit on disk. Best effort: a reader in
    /// the way leaves it for the next checkpoint. Nothing to do on PostgreSQL.
    pub async fn compact_write_log(&self) {
        if self.engine == Engine::Sqlite {
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await {
                tracing::debug!(%error, "the WAL was not emptied");
            }
        }
    }

    async fn migrate(&self) -> Result<()> {
        match self.engine {
            Engine::Sqlite => {
                sqlx::migrate!("../migrations/sqlite").run(&self.pool).await?;
                self.widen_roles().await?;
            }
            Engine::Postgres => sqlx::migrate!("../migrations/postgres").run(&self.pool).await?,
        }
        Ok(())
    }

    /// SQLite only: rebuilds `users` with every role (`builder`, `supervisor`) in its CHECK, once (after every
    /// migration, so it carries the columns later migrations added: keep its list in step). SQLite cannot alter
    /// a CHECK in place, and the documented rebuild needs foreign keys off, which SQLite ignores
    /// inside a transaction (and sqlx runs each SQLite migration in one). So it runs here, on one
    /// connection, in its own transaction, checking the foreign keys before it commits.
    async fn widen_roles(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        let schema: String =
            sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'")
                .fetch_one(&mut *conn)
                .await?;
        if schema.contains("'supervisor'") {
            return Ok(());
        }
        sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await?;
        let rebuilt = async {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            for statement in [
                "CREATE TABLE users_widened (
                    id            INTEGER PRIMARY KEY AUTOINCREMENT,
                    username      TEXT NOT NULL UNIQUE,
                    role          TEXT NOT NULL CHECK (role IN ('staff', 'reviewer', 'regulator', 'builder', 'supervisor')),
                    password_hash TEXT NOT NULL,
                    created_at    BIGINT NOT NULL,
                    disabled_at   BIGINT,
                    sessions_after BIGINT NOT NULL DEFAULT 0,
                    totp_secret   TEXT,
                    totp_pending  TEXT,
                    totp_last_step BIGINT NOT NULL DEFAULT 0
                )",
                "INSERT INTO users_widened (id, username, role, password_hash, created_at, disabled_at, sessions_after,
                     totp_secret, totp_pending, totp_last_step)
                 SELECT id, username, role, password_hash, created_at, disabled_at, sessions_after,
                     totp_secret, totp_pending, totp_last_step FROM users",
                "DROP TABLE users",
                "ALTER TABLE users_widened RENAME TO users",
            ] {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
            let dangling = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *tx).await?;
            if !dangling.is_empty() {
                return Err(StoreError::Corrupt("a foreign key dangles after widening the roles"));
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
        rebuilt
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A transaction on the pool; the audit log opens its appending transactions with this.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(self.pool.begin().await?)
    }
}
