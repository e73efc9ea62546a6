//! The `rate_limit_buckets` table (PostgreSQL only): the rate-limit buckets
//! every instance shares. A bucket is its theoretical arrival time `tat`
//! (GCRA), in milliseconds of the database's clock. Spending a token is one
//! conditional upsert, so two instances taking the last token at once
//! cannot both get it: the row lock orders them, and the second sees the
//! first's `tat`.

use sqlx::{Any, Executor};

/// The database's clock, in milliseconds since the epoch.
const NOW_MS: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

/// Spends a token of bucket `name`, which gets one back every `interval_ms`
/// and may run `tolerance_ms` ahead of now. `Err(wait_ms)`: it is empty,
/// for that long.
pub async fn take<'e, E>(
    db: E,
    name: &str,
    interval_ms: i64,
    tolerance_ms: i64,
) -> Result<Result<(), i64>, sqlx::Error>
where
    E: Executor<'e, Database = Any> + Copy,
{
    // `excluded.tat` is now + interval: the bucket moves one interval past
    // the later of its own time and now, if it may.
    let taken: Option<(i64,)> = sqlx::query_as(&format!(
        "INSERT INTO rate_limit_buckets AS bucket (name, tat) VALUES ($1, {NOW_MS} + $2) \
         ON CONFLICT (name) DO UPDATE SET tat = GREATEST(bucket.tat + $2, excluded.tat) \
         WHERE bucket.tat + $2 - excluded.tat <= $3 \
         RETURNING tat"
    ))
    .bind(name)
    .bind(interval_ms)
    .bind(tolerance_ms)
    .fetch_optional(db)
    .await?;
    if taken.is_some() {
        return Ok(Ok(()));
    }
    let ahead: Option<(i64,)> = sqlx::query_as(&format!(
        "SELECT tat - {NOW_MS} FROM rate_limit_buckets WHERE name = $1"
    ))
    .bind(name)
    .fetch_optional(db)
    .await?;
    Ok(Err(
        ahead.map_or(interval_ms, |(ahead,)| ahead - tolerance_ms)
    ))
}

/// Deletes buckets that are full again (their time has passed): a missing
/// row is a full bucket.
pub async fn delete_full<'e>(db: impl Executor<'e, Database = Any>) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(&format!(
        "DELETE FROM rate_limit_buckets WHERE tat < {NOW_MS}"
    ))
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
