//! How sessions end: each ending is one conditional `UPDATE` that sets
//! `revoked_at` and the reason only on a session still live, so of two
//! racing endings exactly one counts, and the ids it returns are those the
//! session service then announces to every instance. Also the endings
//! since an instant (what an instance that missed announcements reads
//! again) and the sweep of ended sessions.

use app::api::values::{SessionId, UserId};
use sqlx::{Any, Executor};

use crate::store::parse_id;

/// Why a session ended, as recorded in `sessions.revoked_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Logout,
    LogoutAll,
    /// A rotated refresh token came back after the grace period.
    ReuseDetected,
    /// Signed out from another device's session list.
    EndedByUser,
    PasswordChanged,
    PasswordReset,
    /// An admin changed the account's role (carried in access tokens).
    RoleChanged,
    /// An admin disabled the account.
    Disabled,
    /// Found opened under an older credential epoch, or on a disabled
    /// account, when it came back.
    CredentialsChanged,
    /// A second factor was turned on or off, or recovery codes replaced.
    SecondFactorChanged,
    /// The least recently used, when a new session went over the cap.
    SessionLimit,
    /// The account moved to a new email address.
    EmailChanged,
    /// A change of email address was undone from the old address.
    EmailChangeUndone,
    /// The account is being deleted.
    AccountDeleted,
}

impl EndReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::LogoutAll => "logout_all",
            Self::ReuseDetected => "reuse_detected",
            Self::EndedByUser => "ended_by_user",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::RoleChanged => "role_changed",
            Self::Disabled => "disabled",
            Self::CredentialsChanged => "credentials_changed",
            Self::SecondFactorChanged => "second_factor_changed",
            Self::SessionLimit => "session_limit",
            Self::EmailChanged => "email_changed",
            Self::EmailChangeUndone => "email_change_undone",
            Self::AccountDeleted => "account_deleted",
        }
    }
}

/// Revokes one session; `true` if it was live until now.
pub async fn revoke<'e>(
    db: impl Executor<'e, Database = Any>,
    session_id: SessionId,
    reason: EndReason,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason.as_str())
    .bind(session_id.to_string())
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes every live session of a user opened under another credential
/// epoch than the account's current one; returns their ids. Run it in the
/// transaction that raised the epoch.
pub async fn revoke_stale<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    reason: EndReason,
    now: i64,
) -> Result<Vec<SessionId>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
         WHERE user_id = $3 AND revoked_at IS NULL \
           AND credential_epoch <> (SELECT u.credential_epoch FROM users u WHERE u.id = $4) \
         RETURNING id",
    )
    .bind(now)
    .bind(reason.as_str())
    .bind(user_id.to_string())
    .bind(user_id.to_string())
    .fetch_all(db)
    .await?;
    ids.iter().map(|id| parse_id(id)).collect()
}

/// Revokes one session if it is a live session of `user_id`; `false` when
/// it is not (another user's, ended, or unknown).
pub async fn revoke_own<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    session_id: SessionId,
    reason: EndReason,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
         WHERE id = $3 AND user_id = $4 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason.as_str())
    .bind(session_id.to_string())
    .bind(user_id.to_string())
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes the user's live sessions beyond the `keep` most recently used,
/// `newest` (the session just opened, which must never make room for
/// itself) counted first; returns their ids. One statement: it counts and
/// ends together. The outer `revoked_at IS NULL` is not redundant: on
/// PostgreSQL, a row another ending locked and revoked meanwhile is checked
/// again against the outer condition only, not the subquery, and would
/// otherwise be ended (and announced) twice.
pub async fn revoke_beyond<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    newest: SessionId,
    keep: i64,
    reason: EndReason,
    now: i64,
) -> Result<Vec<SessionId>, sqlx::Error> {
    // `LIMIT` before `OFFSET` for SQLite, which has no `OFFSET` alone.
    let ids: Vec<String> = sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
         WHERE id IN (SELECT id FROM sessions \
                      WHERE user_id = $3 AND revoked_at IS NULL AND expires_at > $4 \
                        AND id <> $5 \
                      ORDER BY last_seen_at DESC, created_at DESC, id DESC \
                      LIMIT $6 OFFSET $7) \
           AND revoked_at IS NULL \
         RETURNING id",
    )
    .bind(now)
    .bind(reason.as_str())
    .bind(user_id.to_string())
    .bind(now)
    .bind(newest.to_string())
    .bind(i64::MAX)
    .bind(keep.saturating_sub(1).max(0))
    .fetch_all(db)
    .await?;
    ids.iter().map(|id| parse_id(id)).collect()
}

/// Revokes every live session of a user; returns their ids.
pub async fn revoke_all_of_user<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    reason: EndReason,
    now: i64,
) -> Result<Vec<SessionId>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
         WHERE user_id = $3 AND revoked_at IS NULL RETURNING id",
    )
    .bind(now)
    .bind(reason.as_str())
    .bind(user_id.to_string())
    .fetch_all(db)
    .await?;
    ids.iter().map(|id| parse_id(id)).collect()
}

/// Sessions revoked at or after `since`, with when.
pub async fn revoked_since<'e>(
    db: impl Executor<'e, Database = Any>,
    since: i64,
) -> Result<Vec<(SessionId, i64)>, sqlx::Error> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, revoked_at FROM sessions WHERE revoked_at >= $1")
            .bind(since)
            .fetch_all(db)
            .await?;
    rows.into_iter()
        .map(|(id, revoked_at)| Ok((parse_id(&id)?, revoked_at)))
        .collect()
}

/// Deletes sessions (with their refresh tokens) that ended before `before`:
/// expired, or revoked long enough ago that no access token of theirs is
/// still valid. A revoked session's row is its revocation, read back by
/// [`revoked_since`] when an instance starts or reconciles: `before` must
/// lie at least the longest access token lifetime (plus the revocation
/// set's margin) in the past. An expired session's tokens end no later
/// than that after `expires_at` too, since none is issued past it.
pub async fn delete_ended_before<'e>(
    db: impl Executor<'e, Database = Any>,
    before: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "DELETE FROM sessions WHERE expires_at < $1 OR (revoked_at IS NOT NULL AND revoked_at < $2)",
    )
    .bind(before)
    .bind(before)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
