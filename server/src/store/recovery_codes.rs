//! The `recovery_codes` table: single-use codes by SHA-256. Using one is a
//! single conditional statement, so two requests with the same code cannot
//! both succeed.

use app::api::values::UserId;
use sqlx::{Any, Executor};

/// Replaces the account's codes with these (by hash), made by a session
/// standing at `footing`. Run it inside the transaction of the change it
/// belongs to.
pub async fn replace(
    transaction: &mut sqlx::AnyConnection,
    user_id: UserId,
    hashes: &[String],
    footing: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    delete_all(&mut *transaction, user_id).await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (code_hash, user_id, created_at, footing) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(hash)
        .bind(user_id.to_string())
        .bind(now)
        .bind(footing)
        .execute(&mut *transaction)
        .await?;
    }
    Ok(())
}

pub async fn delete_all<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id.to_string())
        .execute(db)
        .await?;
    Ok(())
}

/// Removes the account's codes made at `since` or later; returns how many.
pub async fn delete_created_since<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    since: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1 AND created_at >= $2")
        .bind(user_id.to_string())
        .bind(since)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// Spends one unused code of the account: the footing of the session that
/// made it (or when it was made, in older rows); `None` when it is not one.
pub async fn spend<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    hash: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE recovery_codes SET used_at = $1 \
         WHERE code_hash = $2 AND user_id = $3 AND used_at IS NULL \
         RETURNING COALESCE(footing, created_at)",
    )
    .bind(now)
    .bind(hash)
    .bind(user_id.to_string())
    .fetch_optional(db)
    .await
}

pub async fn count_unused<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id.to_string())
        .fetch_one(db)
        .await
}
