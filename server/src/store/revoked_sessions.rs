//! The `revoked_sessions` table: revocations kept after their session's
//! row is gone (with its account). A session's id and when it ended,
//! nothing that names the account; read back with the sessions' own
//! revocations by every instance that starts or reconciles, and swept with
//! them.

use app::api::values::{SessionId, UserId};
use sqlx::{Any, Executor};

use super::parse_id;

/// Keeps the revocation of every ended session of `user_id` (all of them
/// must have ended), before the rows themselves go.
pub async fn keep_for_user<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO revoked_sessions (id, revoked_at) \
         SELECT id, revoked_at FROM sessions WHERE user_id = $1 AND revoked_at IS NOT NULL",
    )
    .bind(user_id.to_string())
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// Revocations at or after `since`, with when.
pub async fn since<'e>(
    db: impl Executor<'e, Database = Any>,
    since: i64,
) -> Result<Vec<(SessionId, i64)>, sqlx::Error> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, revoked_at FROM revoked_sessions WHERE revoked_at >= $1")
            .bind(since)
            .fetch_all(db)
            .await?;
    rows.into_iter()
        .map(|(id, revoked_at)| Ok((parse_id(&id)?, revoked_at)))
        .collect()
}

/// Deletes revocations made before `before`; the same rule as for ended
/// sessions' rows applies (see `sessions::delete_ended_before`).
pub async fn delete_before<'e>(
    db: impl Executor<'e, Database = Any>,
    before: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM revoked_sessions WHERE revoked_at < $1")
        .bind(before)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}
