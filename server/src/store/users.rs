//! Accounts and API tokens.

use super::{Connection, Result, Store, StoreError};
use app::model::Role;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A user as stored. The password hash stays in the store's and the domain's hands: it is never
/// serialised, and the domain hands HTTP an `Identity` instead.
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub password_hash: String,
    pub created_at: i64,
}

const USER_COLUMNS: &str = "u.id, u.username, u.role, u.password_hash, u.created_at";

fn user_from_row(row: &AnyRow) -> Result<UserRecord> {
    let role: String = row.try_get(2)?;
    Ok(UserRecord {
        id: row.try_get(0)?,
        username: row.try_get(1)?,
        role: Role::parse(&role).map_err(|_| StoreError::Corrupt("a user's role"))?,
        password_hash: row.try_get(3)?,
        created_at: row.try_get(4)?,
    })
}

impl Store {
    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1");
        let row = sqlx::query(&sql).bind(username).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_token_digest(&self, token_sha256: &str) -> Result<Option<UserRecord>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_sha256 = $1"
        );
        let row = sqlx::query(&sql).bind(token_sha256).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.username");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?.try_get(0)?)
    }
}

/// Inserts an account; a taken username is `StoreError::Duplicate`.
pub async fn insert_user(
    conn: &mut Connection,
    username: &str,
    role: Role,
    password_hash: &str,
    created_at: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO users (username, role, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(username)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(created_at)
    .fetch_one(conn)
    .await?)
}

/// Stores an API token's digest (the token itself is shown once and never stored).
pub async fn insert_token(conn: &mut Connection, user_id: i64, token_sha256: &str, created_at: i64) -> Result<()> {
    sqlx::query("INSERT INTO api_tokens (user_id, token_sha256, created_at) VALUES ($1, $2, $3)")
        .bind(user_id)
        .bind(token_sha256)
        .bind(created_at)
        .execute(conn)
        .await?;
    Ok(())
}
