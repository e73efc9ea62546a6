//! The `sign_in_failures` table: failed sign-ins per typed address. Each
//! change is one statement, so instances racing on one address never lose
//! a failure.

use sqlx::{Any, Executor};

/// Counts one more failure at `now` and returns the count. The count
/// starts again at 1 once `quiet_since` has passed since both the last
/// failure and the end of any lock.
pub async fn record<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &str,
    now: i64,
    quiet_since: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO sign_in_failures (email, failures, last_failed_at, locked_until) \
         VALUES ($1, 1, $2, NULL) \
         ON CONFLICT (email) DO UPDATE SET \
           failures = CASE \
             WHEN sign_in_failures.last_failed_at < $3 \
              AND (sign_in_failures.locked_until IS NULL OR sign_in_failures.locked_until < $4) \
             THEN 1 ELSE sign_in_failures.failures + 1 END, \
           last_failed_at = $5 \
         RETURNING failures",
    )
    .bind(email)
    .bind(now)
    .bind(quiet_since)
    .bind(quiet_since)
    .bind(now)
    .fetch_one(db)
    .await
}

/// Locks the address until `until`, unless a longer lock is already set.
pub async fn lock<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &str,
    until: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sign_in_failures SET locked_until = $1 \
         WHERE email = $2 AND (locked_until IS NULL OR locked_until < $3)",
    )
    .bind(until)
    .bind(email)
    .bind(until)
    .execute(db)
    .await?;
    Ok(())
}

/// The address's record, if it has one: `Some(locked_until)`, where
/// `locked_until` is when its latest lock ends (`None` if never locked).
/// No row means no failures to clear.
pub async fn record_of<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &str,
) -> Result<Option<Option<i64>>, sqlx::Error> {
    sqlx::query_scalar("SELECT locked_until FROM sign_in_failures WHERE email = $1")
        .bind(email)
        .fetch_optional(db)
        .await
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
