//! The store: one sqlx pool over SQLite (the embedded default) or PostgreSQL (scale-out), the
//! migrations for each, and every SQL statement the server runs, one module per table family.
//!
//! Queries are written once in the SQL both engines accept (`$1` parameters, `RETURNING`). Reads
//! are methods on `Store`; writes are functions that take the connection of the audit log's
//! transaction, so that a business row commits with its event or not at all. The store decides
//! nothing about authorisation; `domain` does.

pub mod builds;
pub mod files;
pub mod grants;
pub mod log;
pub mod pins;
pub mod review;
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
}

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
                options
                    .max_connections(8)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL lets readers run beside the one writer; FULL makes a commit
                            // durable before it returns, which fail-closed auditing relies on.
                            for pragma in [
                                "PRAGMA journal_mode = WAL",
                                "PRAGMA synchronous = FULL",
                                "PRAGMA busy_timeout = 10000",
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
        let store = Store { pool, engine };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        match self.engine {
            Engine::Sqlite => sqlx::migrate!("../migrations/sqlite").run(&self.pool).await?,
            Engine::Postgres => sqlx::migrate!("../migrations/postgres").run(&self.pool).await?,
        }
        Ok(())
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
