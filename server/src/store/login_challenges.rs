//! The `login_challenges` table: sign-ins waiting for their second factor.
//! A try is counted before its code is checked, in one statement, and the
//! challenge is taken (deleted) by the one request that completes it.

use app::api::values::UserId;
use sqlx::{Any, Executor};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChallengeRow {
    #[sqlx(try_from = "String")]
    pub user_id: UserId,
    pub credential_epoch: i64,
    pub remember: i64,
    pub tries: i64,
}

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
    user_id: UserId,
    credential_epoch: i64,
    remember: bool,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO login_challenges \
         (token_hash, user_id, credential_epoch, remember, created_at, expires_at, tries) \
         VALUES ($1, $2, $3, $4, $5, $6, 0)",
    )
    .bind(token_hash)
    .bind(user_id.to_string())
    .bind(credential_epoch)
    .bind(i64::from(remember))
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Counts a try of a live challenge and returns it; `None` when it is
/// unknown, expired, taken or out of tries.
pub async fn count_try<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
    now: i64,
    max_tries: i64,
) -> Result<Option<ChallengeRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE login_challenges SET tries = tries + 1 \
         WHERE token_hash = $1 AND expires_at > $2 AND tries < $3 \
         RETURNING user_id, credential_epoch, remember, tries",
    )
    .bind(token_hash)
    .bind(now)
    .bind(max_tries)
    .fetch_optional(db)
    .await
}

/// A live challenge, without counting a try: asking for a passkey's
/// options is not a guess.
pub async fn find_live<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
    now: i64,
    max_tries: i64,
) -> Result<Option<ChallengeRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT user_id, credential_epoch, remember, tries FROM login_challenges \
         WHERE token_hash = $1 AND expires_at > $2 AND tries < $3",
    )
    .bind(token_hash)
    .bind(now)
    .bind(max_tries)
    .fetch_optional(db)
    .await
}

/// Takes the challenge, once: `false` when another request took it.
pub async fn take<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1")
        .bind(token_hash)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn delete_expired_before<'e>(
    db: impl Executor<'e, Database = Any>,
    before: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM login_challenges WHERE expires_at < $1")
        .bind(before)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}
