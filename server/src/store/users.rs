//! The `users` table.

use app::api::values::{DisplayName, Email, Role, UserId};
use sqlx::{Any, Executor};

use super::After;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    #[sqlx(try_from = "String")]
    pub id: UserId,
    #[sqlx(try_from = "String")]
    pub email: Email,
    pub password_hash: String,
    #[sqlx(try_from = "String")]
    pub name: DisplayName,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub email_verified_at: Option<i64>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

impl UserRow {
    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

pub struct NewUser<'a> {
    pub id: UserId,
    pub email: &'a Email,
    pub password_hash: &'a str,
    pub name: &'a DisplayName,
}

const COLUMNS: &str =
    "id, email, password_hash, name, role, email_verified_at, created_at, disabled_at";

/// Fails with a unique violation when the email is taken.
pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    user: NewUser<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, email, password_hash, name, role, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'user', $5, $6)",
    )
    .bind(user.id.to_string())
    .bind(user.email.as_str())
    .bind(user.password_hash)
    .bind(user.name.as_str())
    .bind(now)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find_by_email<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &Email,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
        .bind(email.as_str())
        .fetch_optional(db)
        .await
}

pub async fn find_by_id<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(db)
        .await
}

/// Marks the address verified; a second verification keeps the first time.
pub async fn mark_verified<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $2 \
         WHERE id = $3",
    )
    .bind(now)
    .bind(now)
    .bind(id.to_string())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn update_name<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
    name: &DisplayName,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET name = $1, updated_at = $2 WHERE id = $3")
        .bind(name.as_str())
        .bind(now)
        .bind(id.to_string())
        .execute(db)
        .await?;
    Ok(())
}

pub async fn update_password_hash<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
    password_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now)
        .bind(id.to_string())
        .execute(db)
        .await?;
    Ok(())
}

/// A new registration of an address whose account is still unverified
/// takes that account over: the newest registration is the one its link
/// confirms. Returns the account's id, or `None` when the address has no
/// account or a verified one (checked in the same statement, so a
/// verification that lands first wins).
pub async fn replace_unverified<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &Email,
    password_hash: &str,
    name: &DisplayName,
    now: i64,
) -> Result<Option<UserId>, sqlx::Error> {
    let id: Option<String> = sqlx::query_scalar(
        "UPDATE users SET password_hash = $1, name = $2, updated_at = $3 \
         WHERE email = $4 AND email_verified_at IS NULL RETURNING id",
    )
    .bind(password_hash)
    .bind(name.as_str())
    .bind(now)
    .bind(email.as_str())
    .fetch_optional(db)
    .await?;
    id.map(|id| super::parse_id(&id)).transpose()
}

/// Deletes accounts whose address was never confirmed, created before
/// `before` (with their sessions and tokens, by cascade).
pub async fn delete_unverified_before<'e>(
    db: impl Executor<'e, Database = Any>,
    before: i64,
) -> Result<u64, sqlx::Error> {
    let result =
        sqlx::query("DELETE FROM users WHERE email_verified_at IS NULL AND created_at < $1")
            .bind(before)
            .execute(db)
            .await?;
    Ok(result.rows_affected())
}

/// A change of role or status; `None` keeps what is there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Change {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// Applies a change unless it would leave no enabled admin: in the same
/// statement, the account must either stay an enabled admin or not be the
/// only one. `false` when nothing changed (no such account, or the last
/// admin). On PostgreSQL, callers serialize concurrent changes with
/// [`lock_admin_changes`] so that two admins demoting each other cannot
/// both see the other as the one who remains.
pub async fn change_guarded<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
    change: Change,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let role = change.role.map(Role::as_str);
    let disabled = change.disabled.map(i64::from);
    let result = sqlx::query(
        "UPDATE users SET \
             role = COALESCE($1, role), \
             disabled_at = CASE WHEN $2 IS NULL THEN disabled_at \
                                WHEN $3 = 1 THEN COALESCE(disabled_at, $4) \
                                ELSE NULL END, \
             updated_at = $5 \
         WHERE id = $6 AND ( \
             (COALESCE($7, role) = 'admin' \
                 AND (CASE WHEN $8 IS NULL THEN disabled_at IS NULL ELSE $9 = 0 END)) \
             OR EXISTS (SELECT 1 FROM users other \
                        WHERE other.role = 'admin' AND other.disabled_at IS NULL \
                          AND other.id <> $10))",
    )
    .bind(role)
    .bind(disabled)
    .bind(disabled)
    .bind(now)
    .bind(now)
    .bind(id.to_string())
    .bind(role)
    .bind(disabled)
    .bind(disabled)
    .bind(id.to_string())
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// PostgreSQL only: holds, until the transaction ends, the lock that every
/// role or status change takes first.
pub async fn lock_admin_changes<'e>(
    db: impl Executor<'e, Database = Any>,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(7262001)")
        .execute(db)
        .await?;
    Ok(())
}

/// A page of accounts in creation order (ties broken by id), optionally
/// only those whose email or name starts with `prefix` (lower-cased by the
/// caller), after `after`.
pub async fn page<'e>(
    db: impl Executor<'e, Database = Any>,
    prefix: Option<&str>,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<UserRow>, sqlx::Error> {
    super::keyset_page(db, "users", COLUMNS, prefix, after, limit).await
}
