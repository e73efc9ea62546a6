//! The `users` table.

use app::api::values::{DisplayName, Email, Role, UserId};
use sqlx::{Any, Executor};

use super::{
    listing::{self, Listed},
    After,
};
use crate::db::Database;

/// An account as others may see it: what the users list reads, without
/// the password hash or the credential epoch.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileRow {
    #[sqlx(try_from = "String")]
    pub id: UserId,
    #[sqlx(try_from = "String")]
    pub email: Email,
    #[sqlx(try_from = "String")]
    pub name: DisplayName,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub email_verified_at: Option<i64>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

impl ProfileRow {
    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

/// A whole account: its profile and its credentials.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    #[sqlx(flatten)]
    pub profile: ProfileRow,
    pub password_hash: String,
    /// Raised by every change that must end or downgrade the account's
    /// sessions; a session lives only while it carries the current one.
    pub credential_epoch: i64,
    /// The footing of the session that chose the password (see
    /// `migrations/20261208000001_footing.sql`); `None` for one proven
    /// through the mailbox (a sign-up, a reset) or set before the column.
    pub password_footing: Option<i64>,
}

/// The profile's fields read as the account's own (`row.email`).
impl std::ops::Deref for UserRow {
    type Target = ProfileRow;

    fn deref(&self) -> &ProfileRow {
        &self.profile
    }
}

pub struct NewUser<'a> {
    pub id: UserId,
    pub email: &'a Email,
    pub password_hash: &'a str,
    pub name: &'a DisplayName,
}

const PROFILE_COLUMNS: &str = "id, email, name, role, email_verified_at, created_at, disabled_at";
const COLUMNS: &str = "id, email, name, role, email_verified_at, created_at, disabled_at, \
                       password_hash, credential_epoch, password_footing";

/// Creates an account whose address was just proven (a confirmed sign-up).
/// Fails with a unique violation when the email is taken.
pub async fn insert_verified<'e>(
    db: impl Executor<'e, Database = Any>,
    user: NewUser<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users \
         (id, email, password_hash, name, role, email_verified_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'user', $5, $6, $7)",
    )
    .bind(user.id.to_string())
    .bind(user.email.as_str())
    .bind(user.password_hash)
    .bind(user.name.as_str())
    .bind(now)
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

/// Raises the account's credential epoch: the sessions opened before are
/// now stale. Run it in the transaction of the change that calls for it.
pub async fn raise_epoch<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET credential_epoch = credential_epoch + 1, updated_at = $1 WHERE id = $2",
    )
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

/// Sets a new password and raises the credential epoch with it, so the
/// sessions opened with the old one can be told apart and ended in the
/// same transaction. `footing`: that of the session that chose it, `None`
/// for a password proven through the mailbox (a reset).
pub async fn update_password_hash<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
    password_hash: &str,
    footing: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET password_hash = $1, password_footing = $2, updated_at = $3, \
             credential_epoch = credential_epoch + 1 \
         WHERE id = $4",
    )
    .bind(password_hash)
    .bind(footing)
    .bind(now)
    .bind(id.to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// Takes the account's row for the rest of the transaction, before
/// anything else: on PostgreSQL its row lock, on SQLite the write lock. The
/// changes of an account's address and its deletion all begin with it, so
/// they queue in one order and never wait for each other crosswise.
/// `false` when there is no such account.
pub async fn lock<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("UPDATE users SET updated_at = updated_at WHERE id = $1")
        .bind(id.to_string())
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Moves an enabled account to a new, proven address and raises the
/// credential epoch, in one statement. Fails with a unique violation when
/// another account has the address (the constraint settles a race with a
/// sign-up or another change); `false` when the account is gone or
/// disabled.
pub async fn change_email<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
    email: &Email,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE users SET email = $1, email_verified_at = $2, updated_at = $3, \
             credential_epoch = credential_epoch + 1 \
         WHERE id = $4 AND disabled_at IS NULL",
    )
    .bind(email.as_str())
    .bind(now)
    .bind(now)
    .bind(id.to_string())
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Puts the account back on its old address with a password nobody knows,
/// and raises the credential epoch, in one statement. Fails with a unique
/// violation when another account has taken the address since; `false`
/// when the account is gone.
pub async fn restore_email<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
    email: &Email,
    password_hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE users SET email = $1, password_hash = $2, password_footing = NULL, \
             updated_at = $3, credential_epoch = credential_epoch + 1 \
         WHERE id = $4",
    )
    .bind(email.as_str())
    .bind(password_hash)
    .bind(now)
    .bind(id.to_string())
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Deletes the account unless it is the last enabled admin, in one
/// statement (the same rule as [`change_guarded`], and on PostgreSQL under
/// the same [`lock_admin_changes`]): of two admins deleting themselves at
/// once, only one can. What belongs to the account goes with it through
/// its foreign keys (sessions, links, factors, activity); what it wrote in
/// shared records stays without its id. `false` when nothing was deleted.
pub async fn delete_guarded<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "DELETE FROM users WHERE id = $1 AND ( \
             role <> 'admin' OR disabled_at IS NOT NULL \
             OR EXISTS (SELECT 1 FROM users other \
                        WHERE other.role = 'admin' AND other.disabled_at IS NULL \
                          AND other.id <> $2))",
    )
    .bind(id.to_string())
    .bind(id.to_string())
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// A change of role or status; `None` keeps what is there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Change {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// Applies a change unless it would leave no enabled admin: in the same
/// statement, the account must either stay an enabled admin or not be the
/// only one. A new role, or a disable, raises the credential epoch in the
/// same statement. `false` when nothing changed (no such account, or the last
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
             updated_at = $5, \
             credential_epoch = credential_epoch + CASE \
                 WHEN COALESCE($6, role) <> role THEN 1 \
                 WHEN $7 = 1 AND disabled_at IS NULL THEN 1 \
                 ELSE 0 END \
         WHERE id = $8 AND ( \
             (COALESCE($9, role) = 'admin' \
                 AND (CASE WHEN $10 IS NULL THEN disabled_at IS NULL ELSE $11 = 0 END)) \
             OR EXISTS (SELECT 1 FROM users other \
                        WHERE other.role = 'admin' AND other.disabled_at IS NULL \
                          AND other.id <> $12))",
    )
    .bind(role)
    .bind(disabled)
    .bind(disabled)
    .bind(now)
    .bind(now)
    .bind(role)
    .bind(disabled)
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

/// A page of accounts in creation order (ties broken by id) after `after`,
/// optionally only those whose email or name contains `search` (lower-cased
/// by the caller).
pub async fn page(
    db: &Database,
    search: Option<&str>,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<ProfileRow>, sqlx::Error> {
    let listed = Listed {
        table: "users",
        columns: PROFILE_COLUMNS,
        search_table: "users_search",
    };
    listing::page(db, listed, search, after, limit).await
}
