//! The store: one sqlx pool over SQLite (the embedded default) or PostgreSQL (scale-out), the
//! migrations for each, and the queries for users, tokens, repositories, pins and grants.
//!
//! Queries are written once in the SQL both engines accept (`$1` parameters, `RETURNING`). The
//! store decides nothing about authorisation; `domain` does.

pub mod sessions;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database url (use sqlite:// or postgres://)")]
    UnsupportedUrl,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    pub pool: AnyPool,
    pub engine: Engine,
}

/// A user as stored, with the password hash; never serialised.
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub password_hash: String,
    pub created_at: i64,
}

pub struct PinRecord {
    pub id: i64,
    pub repository_id: i64,
    pub repository: String,
    pub commit_id: String,
    pub tree_id: String,
    pub label: String,
    pub pinned_by: Option<String>,
    pub pinned_at: i64,
    pub withdrawn_at: Option<i64>,
}

pub struct RepositoryRecord {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub imported_at: i64,
}

pub struct GrantRecord {
    pub id: i64,
    pub reviewer: String,
    pub pin_id: i64,
    pub pin_label: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub granted_by: Option<String>,
    pub revoked_at: Option<i64>,
}

const PIN_COLUMNS: &str =
    "p.id, p.repository_id, r.name, p.commit_id, p.tree_id, p.label, u.username, p.pinned_at, p.withdrawn_at";
const PIN_FROM: &str =
    "FROM pins p JOIN repositories r ON r.id = p.repository_id LEFT JOIN users u ON u.id = p.pinned_by";

fn pin_from_row(row: &AnyRow) -> Result<PinRecord> {
    Ok(PinRecord {
        id: row.try_get(0)?,
        repository_id: row.try_get(1)?,
        repository: row.try_get(2)?,
        commit_id: row.try_get(3)?,
        tree_id: row.try_get(4)?,
        label: row.try_get(5)?,
        pinned_by: row.try_get(6)?,
        pinned_at: row.try_get(7)?,
        withdrawn_at: row.try_get(8)?,
    })
}

fn user_from_row(row: &AnyRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: row.try_get(0)?,
        username: row.try_get(1)?,
        role: row.try_get(2)?,
        password_hash: row.try_get(3)?,
        created_at: row.try_get(4)?,
    })
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

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    // Users ---------------------------------------------------------------------------------

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query("SELECT id, username, role, password_hash, created_at FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>> {
        let row = sqlx::query("SELECT id, username, role, password_hash, created_at FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_token_hash(&self, token_sha256: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.role, u.password_hash, u.created_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_sha256 = $1",
        )
        .bind(token_sha256)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<UserRecord>> {
        let rows = sqlx::query("SELECT id, username, role, password_hash, created_at FROM users ORDER BY username")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?.try_get(0)?)
    }

    // Repositories and pins -----------------------------------------------------------------

    pub async fn repository_by_name(&self, name: &str) -> Result<Option<RepositoryRecord>> {
        let row = sqlx::query("SELECT id, name, source, imported_at FROM repositories WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => Some(RepositoryRecord {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                source: row.try_get(2)?,
                imported_at: row.try_get(3)?,
            }),
            None => None,
        })
    }

    pub async fn list_repositories(&self) -> Result<Vec<RepositoryRecord>> {
        let rows = sqlx::query("SELECT id, name, source, imported_at FROM repositories ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(RepositoryRecord {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                    source: row.try_get(2)?,
                    imported_at: row.try_get(3)?,
                })
            })
            .collect()
    }

    pub async fn pin(&self, id: i64) -> Result<Option<PinRecord>> {
        let sql = format!("SELECT {PIN_COLUMNS} {PIN_FROM} WHERE p.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(pin_from_row).transpose()
    }

    pub async fn list_pins(&self) -> Result<Vec<PinRecord>> {
        let sql = format!("SELECT {PIN_COLUMNS} {PIN_FROM} ORDER BY p.id DESC");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(pin_from_row).collect()
    }

    /// Pins a reviewer has an active grant for at `at_ms`, with the latest end among those grants.
    pub async fn pins_granted_to(&self, reviewer_id: i64, at_ms: i64) -> Result<Vec<(PinRecord, i64)>> {
        let sql = format!(
            "SELECT {PIN_COLUMNS}, g.ends_at {PIN_FROM} \
             JOIN (SELECT pin_id, MAX(ends_at) AS ends_at FROM grants \
                   WHERE reviewer_id = $1 AND revoked_at IS NULL AND starts_at <= $2 AND ends_at > $2 \
                   GROUP BY pin_id) g ON g.pin_id = p.id \
             ORDER BY p.id DESC"
        );
        let rows = sqlx::query(&sql).bind(reviewer_id).bind(at_ms).fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok((pin_from_row(row)?, row.try_get::<i64, _>(9)?))).collect()
    }

    /// When the reviewer's access to the pin ends, if a grant for it is active at `at_ms`.
    pub async fn active_grant_end(&self, reviewer_id: i64, pin_id: i64, at_ms: i64) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MAX(ends_at) FROM grants WHERE reviewer_id = $1 AND pin_id = $2 \
             AND revoked_at IS NULL AND starts_at <= $3 AND ends_at > $3",
        )
        .bind(reviewer_id)
        .bind(pin_id)
        .bind(at_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    /// The latest end among all the reviewer's grants active at `at_ms`.
    pub async fn latest_active_grant_end(&self, reviewer_id: i64, at_ms: i64) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MAX(ends_at) FROM grants WHERE reviewer_id = $1 \
             AND revoked_at IS NULL AND starts_at <= $2 AND ends_at > $2",
        )
        .bind(reviewer_id)
        .bind(at_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    pub async fn list_grants(&self) -> Result<Vec<GrantRecord>> {
        let rows = sqlx::query(
            "SELECT g.id, r.username, g.pin_id, p.label, g.starts_at, g.ends_at, s.username, g.revoked_at \
             FROM grants g JOIN users r ON r.id = g.reviewer_id JOIN pins p ON p.id = g.pin_id \
             LEFT JOIN users s ON s.id = g.granted_by ORDER BY g.id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(GrantRecord {
                    id: row.try_get(0)?,
                    reviewer: row.try_get(1)?,
                    pin_id: row.try_get(2)?,
                    pin_label: row.try_get(3)?,
                    starts_at: row.try_get(4)?,
                    ends_at: row.try_get(5)?,
                    granted_by: row.try_get(6)?,
                    revoked_at: row.try_get(7)?,
                })
            })
            .collect()
    }
}
