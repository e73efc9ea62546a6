//! The `pending_signups` table: sign-ups waiting for their address to be
//! confirmed, each bound to the password typed with it. Every race is one
//! conditional statement: a try of a link is counted before its password
//! is checked (so a burst of guesses gets no more checks than the limit),
//! and a sign-up becomes an account only by the delete that takes it.

use app::api::values::{DisplayName, Email};
use sqlx::{Any, Executor};

/// A sign-up as its link finds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingSignup {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub email: Email,
    #[sqlx(try_from = "String")]
    pub name: DisplayName,
    pub password_hash: String,
    /// Tries of the link so far, this one included.
    pub tries: i64,
}

pub struct NewPendingSignup<'a> {
    pub id: &'a str,
    pub email: &'a Email,
    pub name: &'a DisplayName,
    pub password_hash: &'a str,
    pub token_hash: &'a str,
}

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    signup: NewPendingSignup<'_>,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pending_signups \
         (id, email, name, password_hash, token_hash, created_at, expires_at, tries) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
    )
    .bind(signup.id)
    .bind(signup.email.as_str())
    .bind(signup.name.as_str())
    .bind(signup.password_hash)
    .bind(signup.token_hash)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Keeps only the address's `keep` newest sign-ups.
pub async fn keep_newest<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &Email,
    keep: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "DELETE FROM pending_signups WHERE email = $1 AND id NOT IN ( \
             SELECT id FROM pending_signups WHERE email = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3)",
    )
    .bind(email.as_str())
    .bind(email.as_str())
    .bind(keep)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// Counts one more try of a live link and returns its sign-up, in one
/// statement; `None` when the link is unknown, expired or already tried
/// `max_tries` times.
pub async fn count_try<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
    now: i64,
    max_tries: i64,
) -> Result<Option<PendingSignup>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE pending_signups SET tries = tries + 1 \
         WHERE token_hash = $1 AND expires_at > $2 AND tries < $3 \
         RETURNING id, email, name, password_hash, tries",
    )
    .bind(token_hash)
    .bind(now)
    .bind(max_tries)
    .fetch_optional(db)
    .await
}

/// Takes the sign-up out, to become an account, with every other sign-up
/// of its address, in one statement: `false` when it was gone already
/// (another request took it, or a sibling's confirmation dropped it). All
/// the address's rows go at once, so two sign-ups of one address
/// confirmed at the same moment queue on the same rows instead of each
/// holding one the other needs.
pub async fn take_with_siblings<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let taken: Vec<String> = sqlx::query_scalar(
        "DELETE FROM pending_signups \
         WHERE email = (SELECT email FROM pending_signups WHERE id = $1 AND expires_at > $2) \
         RETURNING id",
    )
    .bind(id)
    .bind(now)
    .fetch_all(db)
    .await?;
    Ok(taken.iter().any(|taken| taken == id))
}

/// Drops every sign-up of the address: it has an account now, or none.
pub async fn delete_for_email<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &Email,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM pending_signups WHERE email = $1")
        .bind(email.as_str())
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// Gives the address's newest live sign-up a fresh link (the one before
/// stops working) and a fresh set of tries. `None` when the address has
/// no live sign-up.
pub async fn renew_newest<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &Email,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE pending_signups SET token_hash = $1, expires_at = $2, tries = 0 \
         WHERE id = (SELECT id FROM pending_signups WHERE email = $3 AND expires_at > $4 \
                     ORDER BY created_at DESC, id DESC LIMIT 1) \
         RETURNING id",
    )
    .bind(token_hash)
    .bind(expires_at)
    .bind(email.as_str())
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Deletes sign-ups whose link expired before `before`.
pub async fn delete_expired_before<'e>(
    db: impl Executor<'e, Database = Any>,
    before: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM pending_signups WHERE expires_at < $1")
        .bind(before)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}
