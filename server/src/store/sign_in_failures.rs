//! The `sign_in_failures` table: failed sign-ins per key (a typed address,
//! or a device cookie's id; the column keeps its first name). Each change
//! is one statement, so instances racing on one key never lose a failure.

use app::api::values::UserId;
use sqlx::{Any, Executor};

/// What a counted failure led to (the lockout's upsert returns it; the
/// security log records it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub failures: i64,
    /// Set when this failure locked the key, until then.
    pub locked_until: Option<i64>,
}

/// When the key's latest lock ends, if it was ever locked. (Tries are
/// counted by the lockout's own upsert, which is made from its settings:
/// see `lockout.rs`.)
pub async fn locked_until<'e>(
    db: impl Executor<'e, Database = Any>,
    key: &str,
) -> Result<Option<i64>, sqlx::Error> {
    Ok(
        sqlx::query_scalar("SELECT locked_until FROM sign_in_failures WHERE email = $1")
            .bind(key)
            .fetch_optional(db)
            .await?
            .flatten(),
    )
}

/// Takes back one counted try whose password was never checked, and the
/// lock it set, if it set one (`locked_until`, as its count returned it):
/// one statement, so tries counted meanwhile are kept.
pub async fn give_back<'e>(
    db: impl Executor<'e, Database = Any>,
    key: &str,
    locked_until: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sign_in_failures SET failures = failures - 1, \
           locked_until = CASE WHEN locked_until = $2 THEN NULL ELSE locked_until END \
         WHERE email = $1 AND failures > 0",
    )
    .bind(key)
    .bind(locked_until)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets the address's failures (the right password, a reset).
pub async fn clear<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sign_in_failures WHERE email = $1")
        .bind(email)
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets the re-authentication failures counted for the sessions of
/// `user_id` (keyed `session <id>`): the account is being deleted. Run it
/// before its sessions' rows go.
pub async fn clear_sessions_of<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM sign_in_failures WHERE email IN \
             (SELECT 'session ' || id FROM sessions WHERE user_id = $1)",
    )
    .bind(user_id.to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes counts that no longer matter: quiet since `quiet_since`.
pub async fn delete_quiet_since<'e>(
    db: impl Executor<'e, Database = Any>,
    quiet_since: i64,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "DELETE FROM sign_in_failures \
         WHERE last_failed_at < $1 AND (locked_until IS NULL OR locked_until < $2)",
    )
    .bind(quiet_since)
    .bind(quiet_since)
    .execute(db)
    .await
    .map(|done| done.rows_affected())
}
