//! The `email_tokens` table: single-use secrets sent in emailed links.

use app::api::values::UserId;
use sqlx::{Any, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }
}

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
    user_id: UserId,
    purpose: Purpose,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO email_tokens (token_hash, user_id, purpose, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id.to_string())
    .bind(purpose.as_str())
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The user a live token was issued to, without using it up.
pub async fn find_live<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<UserId>, sqlx::Error> {
    let user_id: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM email_tokens \
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(db)
    .await?;
    user_id.map(|id| super::parse_id(&id)).transpose()
}

/// Uses up a live token in one statement, so two requests racing with the
/// same link cannot both succeed. Returns the user it was issued to.
pub async fn consume<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<UserId>, sqlx::Error> {
    let user_id: Option<String> = sqlx::query_scalar(
        "UPDATE email_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $4 \
         RETURNING user_id",
    )
    .bind(now)
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(db)
    .await?;
    user_id.map(|id| super::parse_id(&id)).transpose()
}

/// Spends every live token of one purpose of a user: a newer link makes
/// the older ones useless.
pub async fn spend_all<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    purpose: Purpose,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE email_tokens SET used_at = $1 \
         WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(user_id.to_string())
    .bind(purpose.as_str())
    .execute(db)
    .await?;
    Ok(())
}

/// Issues the only live token of its purpose for a user: spends the older
/// ones, then stores this one. Run it inside a transaction.
pub async fn replace_live(
    transaction: &mut sqlx::Transaction<'_, Any>,
    token_hash: &str,
    user_id: UserId,
    purpose: Purpose,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    spend_all(&mut **transaction, user_id, purpose, now).await?;
    insert(
        &mut **transaction,
        token_hash,
        user_id,
        purpose,
        now,
        expires_at,
    )
    .await
}

/// Deletes tokens that expired or were used before `before`.
pub async fn delete_spent_before<'e>(
    db: impl Executor<'e, Database = Any>,
    before: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "DELETE FROM email_tokens WHERE expires_at < $1 OR (used_at IS NOT NULL AND used_at < $2)",
    )
    .bind(before)
    .bind(before)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
