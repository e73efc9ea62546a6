//! The `totp_factors` table: one authenticator app per account, its secret
//! encrypted by the factor service. Races are single statements: a pending
//! secret is replaced only while unconfirmed, confirming holds only while
//! pending, and a code's time step is taken only if it is later than the
//! last one taken (so a code works once).

use app::api::values::UserId;
use sqlx::{Any, Executor};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TotpRow {
    /// The encrypted secret.
    pub secret: String,
    pub confirmed_at: Option<i64>,
    /// The footing of the session that turned it on (see
    /// `migrations/20261208000001_footing.sql`); `None` in older rows.
    pub footing: Option<i64>,
}

impl TotpRow {
    /// How far back a session opened with this app's code may reach: the
    /// footing of the session that turned it on, or when it was turned on.
    pub fn footing(&self) -> Option<i64> {
        self.footing.or(self.confirmed_at)
    }
}

/// Stores a new pending secret, replacing a pending one; `false` when the
/// account already has a confirmed one (nothing changed).
pub async fn put_pending<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    secret: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO totp_factors (user_id, secret, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET secret = $4, created_at = $5 \
         WHERE totp_factors.confirmed_at IS NULL",
    )
    .bind(user_id.to_string())
    .bind(secret)
    .bind(now)
    .bind(secret)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
) -> Result<Option<TotpRow>, sqlx::Error> {
    sqlx::query_as("SELECT secret, confirmed_at, footing FROM totp_factors WHERE user_id = $1")
        .bind(user_id.to_string())
        .fetch_optional(db)
        .await
}

/// Turns the pending secret on with the step of its first code, from a
/// session standing at `footing`; `false` when it is not pending (already
/// on, replaced, or gone).
pub async fn confirm<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    secret: &str,
    step: i64,
    footing: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE totp_factors SET confirmed_at = $1, last_used_step = $2, footing = $3 \
         WHERE user_id = $4 AND secret = $5 AND confirmed_at IS NULL",
    )
    .bind(now)
    .bind(step)
    .bind(footing)
    .bind(user_id.to_string())
    .bind(secret)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Takes a code's time step: `true` only for a step later than any taken
/// before, so the same code (or an older one) is refused the second time.
pub async fn take_step<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    step: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE totp_factors SET last_used_step = $1 \
         WHERE user_id = $2 AND confirmed_at IS NOT NULL \
           AND (last_used_step IS NULL OR last_used_step < $3)",
    )
    .bind(step)
    .bind(user_id.to_string())
    .bind(step)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Removes the confirmed factor; `false` when there was none.
pub async fn delete_confirmed<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
) -> Result<bool, sqlx::Error> {
    let result =
        sqlx::query("DELETE FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL")
            .bind(user_id.to_string())
            .execute(db)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// Removes the factor if it was turned on at `since` or later; `false`
/// when it was not (off, waiting for its first code, or older).
pub async fn delete_confirmed_since<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    since: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM totp_factors WHERE user_id = $1 AND confirmed_at >= $2")
        .bind(user_id.to_string())
        .bind(since)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Whether any account has a second factor on (start-up's key check).
pub async fn any_confirmed<'e>(db: impl Executor<'e, Database = Any>) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM totp_factors WHERE confirmed_at IS NOT NULL LIMIT 1")
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}
