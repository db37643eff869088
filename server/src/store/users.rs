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
    /// Set when the account was disabled: no sign-in, no session, no token from then on.
    pub disabled_at: Option<i64>,
    /// Sessions that started before this moment (ms) are over.
    pub sessions_after: i64,
    /// The confirmed TOTP secret (base32), when the account uses a second factor.
    pub totp_secret: Option<String>,
    pub totp_last_step: i64,
}

pub(super) const USER_COLUMNS: &str = "u.id, u.username, u.role, u.password_hash, u.created_at, u.disabled_at, u.sessions_after, u.totp_secret, u.totp_last_step";
/// How many columns `USER_COLUMNS` names (a joined table's columns follow).
pub(super) const USER_COLUMN_COUNT: usize = 9;

pub(super) fn user_from_row(row: &AnyRow) -> Result<UserRecord> {
    let role: String = row.try_get(2)?;
    Ok(UserRecord {
        id: row.try_get(0)?,
        username: row.try_get(1)?,
        role: Role::parse(&role).map_err(|_| StoreError::Corrupt("a user's role"))?,
        password_hash: row.try_get(3)?,
        created_at: row.try_get(4)?,
        disabled_at: row.try_get(5)?,
        sessions_after: row.try_get(6)?,
        totp_secret: row.try_get(7)?,
        totp_last_step: row.try_get(8)?,
    })
}

/// An API token as stored (its digest stays here).
pub struct TokenRecord {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub scopes: String,
    pub label: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

const TOKEN_COLUMNS: &str = "t.id, t.user_id, u.username, t.scopes, t.label, t.created_at, t.expires_at, t.revoked_at";

fn token_from_row(row: &AnyRow, at: usize) -> Result<TokenRecord> {
    Ok(TokenRecord {
        id: row.try_get(at)?,
        user_id: row.try_get(at + 1)?,
        username: row.try_get(at + 2)?,
        scopes: row.try_get(at + 3)?,
        label: row.try_get(at + 4)?,
        created_at: row.try_get(at + 5)?,
        expires_at: row.try_get(at + 6)?,
        revoked_at: row.try_get(at + 7)?,
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

    /// The token with this digest and its account, whatever their state (the domain decides).
    pub async fn token_by_digest(&self, token_sha256: &str) -> Result<Option<(UserRecord, TokenRecord)>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_sha256 = $1"
        );
        let row = sqlx::query(&sql).bind(token_sha256).fetch_optional(&self.pool).await?;
        row.as_ref().map(|row| Ok((user_from_row(row)?, token_from_row(row, USER_COLUMN_COUNT)?))).transpose()
    }

    /// Every token, newest first, with its account's name.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>> {
        let sql =
            format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id DESC");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(|row| token_from_row(row, 0)).collect()
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

/// A token to store: its digest (the token itself is shown once and never stored) and terms.
pub struct NewToken<'a> {
    pub user_id: i64,
    pub token_sha256: &'a str,
    pub scopes: &'a str,
    pub label: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn insert_token(conn: &mut Connection, token: NewToken<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO api_tokens (user_id, token_sha256, scopes, label, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(token.user_id)
    .bind(token.token_sha256)
    .bind(token.scopes)
    .bind(token.label)
    .bind(token.created_at)
    .bind(token.expires_at)
    .fetch_one(conn)
    .await?)
}

/// Revokes one token; its account's name if it was live (not already revoked).
pub async fn revoke_token(conn: &mut Connection, id: i64, now: i64) -> Result<Option<String>> {
    let revoked = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if revoked.rows_affected() == 0 {
        return Ok(None);
    }
    let name =
        sqlx::query_scalar("SELECT u.username FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1")
            .bind(id)
            .fetch_one(conn)
            .await?;
    Ok(Some(name))
}

/// Revokes every live token of an account; how many.
pub async fn revoke_tokens_of(conn: &mut Connection, user_id: i64, now: i64) -> Result<u64> {
    let revoked = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(revoked.rows_affected())
}

/// Ends every session of an account: the records go, and any session started before `now` that
/// an in-flight request writes back is over at its next request.
pub async fn end_sessions_of(conn: &mut Connection, user_id: i64, now: i64) -> Result<u64> {
    sqlx::query("UPDATE users SET sessions_after = $1 WHERE id = $2")
        .bind(now)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(conn).await?;
    Ok(ended.rows_affected())
}

/// Ends one session of an account (by its stored id).
pub async fn end_session(conn: &mut Connection, user_id: i64, stored_id: &str) -> Result<u64> {
    let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(stored_id)
        .execute(conn)
        .await?;
    Ok(ended.rows_affected())
}

/// Ends every session of an account but one (stored id), as "sign out everywhere else" does.
pub async fn end_other_sessions_of(conn: &mut Connection, user_id: i64, keep_stored_id: &str) -> Result<u64> {
    let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(keep_stored_id)
        .execute(conn)
        .await?;
    Ok(ended.rows_affected())
}

/// Disables an account; false when it already was.
pub async fn disable_user(conn: &mut Connection, user_id: i64, now: i64) -> Result<bool> {
    let disabled = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(disabled.rows_affected() == 1)
}

/// Lets a disabled account sign in again; false when it was not disabled. Its ended sessions stay
/// ended (`sessions_after`) and its revoked tokens revoked.
pub async fn enable_user(conn: &mut Connection, user_id: i64) -> Result<bool> {
    let enabled = sqlx::query("UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(enabled.rows_affected() == 1)
}

impl Store {
    /// How many live sessions each account has (by user id), for the console's confirmations.
    pub async fn live_session_counts(&self, now_ms: i64) -> Result<std::collections::HashMap<i64, u64>> {
        let rows = sqlx::query(
            "SELECT user_id, COUNT(*) FROM sessions WHERE user_id IS NOT NULL AND expiry_date > $1 GROUP BY user_id",
        )
        .bind(now_ms.div_euclid(1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get::<i64, _>(0)?, row.try_get::<i64, _>(1)?.max(0) as u64))).collect()
    }

    /// Until when sign-in to `account` is locked, if it is at `now`.
    pub async fn login_locked_until(&self, account: &str, now: i64) -> Result<Option<i64>> {
        let until: Option<i64> = sqlx::query_scalar("SELECT locked_until FROM login_failures WHERE account = $1")
            .bind(account)
            .fetch_optional(&self.pool)
            .await?;
        Ok(until.filter(|until| *until > now))
    }

    /// Counts a failed sign-in to `account` in its hour-long window; when the count reaches
    /// `limit`, locks the account until `now + lock_ms` and answers that moment (once).
    pub async fn count_login_failure(&self, account: &str, now: i64, limit: i64, lock_ms: i64) -> Result<Option<i64>> {
        let window_ms = 3_600_000;
        let failures: i64 = sqlx::query_scalar(
            "INSERT INTO login_failures (account, window_start, failures, locked_until) VALUES ($1, $2, 1, 0) \
             ON CONFLICT (account) DO UPDATE SET \
               failures = CASE WHEN login_failures.window_start <= $3 THEN 1 ELSE login_failures.failures + 1 END, \
               window_start = CASE WHEN login_failures.window_start <= $3 THEN $2 ELSE login_failures.window_start END \
             RETURNING failures",
        )
        .bind(account)
        .bind(now)
        .bind(now - window_ms)
        .fetch_one(&self.pool)
        .await?;
        if failures < limit {
            return Ok(None);
        }
        let until = now + lock_ms;
        let locked = sqlx::query(
            "UPDATE login_failures SET locked_until = $1, failures = 0, window_start = $2 \
             WHERE account = $3 AND locked_until <= $2",
        )
        .bind(until)
        .bind(now)
        .bind(account)
        .execute(&self.pool)
        .await?;
        Ok((locked.rows_affected() == 1).then_some(until))
    }

    /// A successful sign-in clears the account's count.
    pub async fn clear_login_failures(&self, account: &str, now: i64) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE account = $1 AND locked_until <= $2")
            .bind(account)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets counts whose window and lock are both over.
    pub async fn prune_login_failures(&self, now: i64) -> Result<u64> {
        let pruned = sqlx::query("DELETE FROM login_failures WHERE window_start <= $1 AND locked_until <= $2")
            .bind(now - 3_600_000)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(pruned.rows_affected())
    }
}

/// Replaces an account's password hash.
pub async fn set_password_hash(conn: &mut Connection, user_id: i64, password_hash: &str) -> Result<()> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

impl Store {
    /// A second factor being set up for an account (not yet confirmed with a code).
    pub async fn totp_pending(&self, user_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT totp_pending FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .flatten())
    }

    /// Starts setting up a second factor (the secret waits for a code from it).
    pub async fn set_totp_pending(&self, user_id: i64, secret: &str) -> Result<()> {
        sqlx::query("UPDATE users SET totp_pending = $1 WHERE id = $2")
            .bind(secret)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Accounts with a second-factor value stored in the clear (from before sealing): id, secret,
    /// pending secret.
    pub async fn unsealed_second_factors(&self) -> Result<Vec<(i64, Option<String>, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT id, totp_secret, totp_pending FROM users \
             WHERE (totp_secret IS NOT NULL AND totp_secret NOT LIKE 'sealed1:%') \
             OR (totp_pending IS NOT NULL AND totp_pending NOT LIKE 'sealed1:%') ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))).collect()
    }

    /// Replaces an account's second-factor values with `new` if they are still `old` (another
    /// instance may be sealing them too, or the owner changing them); whether they were.
    pub async fn reseal_second_factor(
        &self,
        user_id: i64,
        old: (Option<&str>, Option<&str>),
        new: (Option<&str>, Option<&str>),
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_pending = $2 \
             WHERE id = $3 AND totp_secret IS NOT DISTINCT FROM $4 AND totp_pending IS NOT DISTINCT FROM $5",
        )
        .bind(new.0)
        .bind(new.1)
        .bind(user_id)
        .bind(old.0)
        .bind(old.1)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that a code for `step` was used; false when that step (or a later one) already was
    /// (a replayed code), so two requests with one code cannot both pass.
    pub async fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let used = sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
            .bind(step)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(used.rows_affected() == 1)
    }
}

/// Sets (or, with `None`, removes) an account's confirmed second factor; any pending one goes.
pub async fn set_totp_secret(conn: &mut Connection, user_id: i64, secret: Option<&str>, last_step: i64) -> Result<()> {
    sqlx::query("UPDATE users SET totp_secret = $1, totp_pending = NULL, totp_last_step = $2 WHERE id = $3")
        .bind(secret)
        .bind(last_step)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}
