//! The `email_changes` table: changes of address waiting for the link
//! mailed to the new address, one per account. Asking again is one upsert
//! that replaces the link; confirming takes the row out in one conditional
//! delete, so of two requests with the same link exactly one gets it, and
//! only while the session that asked has not been ended on purpose.

use app::api::values::{Email, SessionId, UserId};
use sqlx::{Any, Executor};

use super::{parse_id, sessions::EndReason};

/// A change of address as its link finds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailChangeRow {
    #[sqlx(try_from = "String")]
    pub user_id: UserId,
    #[sqlx(try_from = "String")]
    pub new_email: Email,
    pub session_id: Option<String>,
    /// When it was asked for.
    pub created_at: i64,
    pub expires_at: i64,
}

impl EmailChangeRow {
    /// The session that asked for the change.
    pub fn session_id(&self) -> Option<SessionId> {
        self.session_id.as_deref().and_then(|id| parse_id(id).ok())
    }
}

pub struct NewEmailChange<'a> {
    pub user_id: UserId,
    pub new_email: &'a Email,
    pub token_hash: &'a str,
    pub session_id: SessionId,
}

/// Stores the account's only waiting change, replacing the one before (and
/// so its link).
pub async fn replace<'e>(
    db: impl Executor<'e, Database = Any>,
    change: NewEmailChange<'_>,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO email_changes \
             (user_id, new_email, token_hash, session_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (user_id) DO UPDATE SET new_email = excluded.new_email, \
             token_hash = excluded.token_hash, session_id = excluded.session_id, \
             created_at = excluded.created_at, expires_at = excluded.expires_at",
    )
    .bind(change.user_id.to_string())
    .bind(change.new_email.as_str())
    .bind(change.token_hash)
    .bind(change.session_id.to_string())
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

const COLUMNS: &str = "user_id, new_email, session_id, created_at, expires_at";

/// The live change a link's token names, without taking it.
pub async fn find_live<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
    now: i64,
) -> Result<Option<EmailChangeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM email_changes WHERE token_hash = $1 AND expires_at > $2"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// The account's waiting change, if its link still works (see [`take`]).
pub async fn find_for_user<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    now: i64,
) -> Result<Option<EmailChangeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM email_changes WHERE user_id = $1 AND expires_at > $2 AND {}",
        asking_session_stands()
    ))
    .bind(user_id.to_string())
    .bind(now)
    .fetch_optional(db)
    .await
}

/// The account's change of address as stored, whether or not its link
/// still works.
pub async fn find_any_for_user<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
) -> Result<Option<EmailChangeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM email_changes WHERE user_id = $1"
    ))
    .bind(user_id.to_string())
    .fetch_optional(db)
    .await
}

/// How the session that asked for a change may have ended with its change
/// still good: signed out by itself (the owner may ask on one device and
/// open the link on another) or pushed out by the session cap. An expired
/// session has no reason and keeps it too. Every other ending is someone
/// (the owner, an admin, the server on a stolen token) ending it or all
/// sessions on purpose, and takes its waiting change with it.
const ENDINGS_THAT_KEEP_THE_CHANGE: [EndReason; 2] = [EndReason::Logout, EndReason::SessionLimit];

/// Takes the live change of `user_id` that the token names, in one
/// statement: `None` when another request took it first, or it expired,
/// was replaced or cancelled, or the session that asked for it was ended
/// on purpose (a password reset or change elsewhere, signing out
/// everywhere, ending it from the list: see [`ENDINGS_THAT_KEEP_THE_CHANGE`]).
/// A session's row outlives any link (housekeeping keeps ended sessions for
/// a day), so a change whose session is gone is refused too.
pub async fn take<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
    user_id: UserId,
    now: i64,
) -> Result<Option<EmailChangeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "DELETE FROM email_changes WHERE token_hash = $1 AND user_id = $2 AND expires_at > $3 \
           AND {} RETURNING {COLUMNS}",
        asking_session_stands()
    ))
    .bind(token_hash)
    .bind(user_id.to_string())
    .bind(now)
    .fetch_optional(db)
    .await
}

/// The condition on an `email_changes` row that its asking session was not
/// ended on purpose. The reasons are this program's own constants.
fn asking_session_stands() -> String {
    let kept = ENDINGS_THAT_KEEP_THE_CHANGE
        .map(|reason| format!("'{}'", reason.as_str()))
        .join(", ");
    format!(
        "EXISTS (SELECT 1 FROM sessions s WHERE s.id = email_changes.session_id \
                 AND (s.revoked_at IS NULL OR s.revoked_reason IN ({kept})))"
    )
}

/// Cancels the account's waiting change.
pub async fn delete_for_user<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM email_changes WHERE user_id = $1")
        .bind(user_id.to_string())
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// Drops every waiting change to `email`, whoever asked for it.
pub async fn delete_to_address<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &Email,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM email_changes WHERE new_email = $1")
        .bind(email.as_str())
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// Deletes changes whose link expired before `before`.
pub async fn delete_expired_before<'e>(
    db: impl Executor<'e, Database = Any>,
    before: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM email_changes WHERE expires_at < $1")
        .bind(before)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}
