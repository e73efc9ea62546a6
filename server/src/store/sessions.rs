//! The `sessions` table and the refresh tokens of each session.

use app::api::values::{SessionId, UserId};
use sqlx::{Any, AnyConnection, AnyPool, Executor};

use super::parse_id;
use crate::db::Backend;

pub struct NewSession<'a> {
    pub id: SessionId,
    pub user_id: UserId,
    /// The account's credential epoch when its credentials were checked.
    pub credential_epoch: i64,
    pub expires_at: i64,
    pub user_agent: Option<&'a str>,
    pub ip_address: Option<&'a str>,
    /// Opened with "keep me signed in".
    pub remember: bool,
    /// When and how its user proved who they are (RFC 8176 methods,
    /// comma-separated).
    pub auth_time: i64,
    pub amr: &'a str,
}

/// A refresh token as found by its hash, with the session it belongs to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshTokenRecord {
    #[sqlx(try_from = "String")]
    pub session_id: SessionId,
    #[sqlx(try_from = "String")]
    pub user_id: UserId,
    /// When this token was exchanged for a newer one, if it was.
    pub rotated_at: Option<i64>,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_seen_at: i64,
    pub remember: i64,
    /// Whether the session still carries its account's credential epoch
    /// and the account is enabled (1), read with the rest.
    pub credentials_current: i64,
    pub auth_time: i64,
    pub amr: String,
}

/// A live session, as the device list shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    #[sqlx(try_from = "String")]
    pub id: SessionId,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
}

/// Opens a session with its first refresh token, in one conditional
/// insert: only while the account is enabled and still at the credential
/// epoch its credentials were checked under, so a sign-in that straddles a
/// new password, a disable or a new role opens nothing. `false` when it
/// opened nothing. Call it inside a transaction, which lands the session
/// and its token or neither (the caller's, so that what else a sign-in
/// writes lands with them).
///
/// On PostgreSQL the account's row is read `FOR SHARE`: a change of
/// credentials holds it locked until it commits, so the insert waits and
/// then reads the new epoch, instead of opening from a snapshot taken
/// before the change that the change's own revocation cannot see. (SQLite
/// has one writer at a time: the insert waits for the change the same way,
/// or fails.)
pub async fn create(
    transaction: &mut AnyConnection,
    session: NewSession<'_>,
    refresh_token_hash: &str,
    now: i64,
    backend: Backend,
) -> Result<bool, sqlx::Error> {
    let lock = match backend {
        Backend::Postgres => " FOR SHARE OF u",
        Backend::Sqlite => "",
    };
    let opened = sqlx::query(&format!(
        "INSERT INTO sessions \
         (id, user_id, created_at, expires_at, last_seen_at, user_agent, ip_address, remember, \
          auth_time, amr, credential_epoch) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, u.credential_epoch FROM users u \
         WHERE u.id = $11 AND u.credential_epoch = $12 AND u.disabled_at IS NULL{lock}"
    ))
    .bind(session.id.to_string())
    .bind(session.user_id.to_string())
    .bind(now)
    .bind(session.expires_at)
    .bind(now)
    .bind(session.user_agent)
    .bind(session.ip_address)
    .bind(i64::from(session.remember))
    .bind(session.auth_time)
    .bind(session.amr)
    .bind(session.user_id.to_string())
    .bind(session.credential_epoch)
    .execute(&mut *transaction)
    .await?
    .rows_affected()
        == 1;
    if !opened {
        return Ok(false);
    }
    insert_token(transaction, refresh_token_hash, session.id, now).await?;
    Ok(true)
}

async fn insert_token<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
    session_id: SessionId,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)",
    )
    .bind(token_hash)
    .bind(session_id.to_string())
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find_refresh_token<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
) -> Result<Option<RefreshTokenRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.session_id, s.user_id, t.rotated_at, s.expires_at, s.revoked_at, \
                s.last_seen_at, s.remember, s.auth_time, s.amr, \
                CASE WHEN u.credential_epoch = s.credential_epoch AND u.disabled_at IS NULL \
                     THEN 1 ELSE 0 END AS credentials_current \
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
              JOIN users u ON u.id = s.user_id \
         WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// How a rotation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// This request exchanged the token; the successor is stored.
    Rotated,
    /// Another request exchanged it first, at this instant.
    AlreadyRotated { rotated_at: Option<i64> },
    /// The session was revoked or expired: nothing was exchanged.
    SessionEnded,
}

/// Exchanges a current refresh token for a new one, in one transaction of
/// two guarded updates. The first claims the session row only while it is
/// live and still carries its account's credential epoch with the account
/// enabled, so a rotation racing a revocation or a change of credentials
/// either finishes before it or sees it and gives nothing out. The second is the
/// compare-and-set on the token: of several concurrent rotations of one
/// token exactly one changes a row and stores its successor.
pub async fn rotate(
    db: &AnyPool,
    session_id: SessionId,
    old_hash: &str,
    new_hash: &str,
    now: i64,
    idle_since: i64,
) -> Result<Rotation, sqlx::Error> {
    let mut transaction = db.begin().await?;
    let live = sqlx::query(
        "UPDATE sessions SET last_seen_at = $1 \
         WHERE id = $2 AND revoked_at IS NULL AND expires_at > $3 AND last_seen_at > $4 \
           AND credential_epoch = (SELECT u.credential_epoch FROM users u \
                                   WHERE u.id = sessions.user_id AND u.disabled_at IS NULL)",
    )
    .bind(now)
    .bind(session_id.to_string())
    .bind(now)
    .bind(idle_since)
    .execute(&mut *transaction)
    .await?
    .rows_affected()
        == 1;
    if !live {
        transaction.rollback().await?;
        return Ok(Rotation::SessionEnded);
    }
    let claimed = sqlx::query(
        "UPDATE refresh_tokens SET rotated_at = $1 WHERE token_hash = $2 AND rotated_at IS NULL",
    )
    .bind(now)
    .bind(old_hash)
    .execute(&mut *transaction)
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        let rotated_at: Option<i64> =
            sqlx::query_scalar("SELECT rotated_at FROM refresh_tokens WHERE token_hash = $1")
                .bind(old_hash)
                .fetch_optional(&mut *transaction)
                .await?
                .flatten();
        transaction.rollback().await?;
        return Ok(Rotation::AlreadyRotated { rotated_at });
    }
    insert_token(&mut *transaction, new_hash, session_id, now).await?;
    transaction.commit().await?;
    Ok(Rotation::Rotated)
}

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

/// Records a fresh proof of who the user of a live session is, in one
/// statement that holds only while the session is live and current (its
/// credential epoch, an enabled account); `false` otherwise.
pub async fn reauthenticated<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    session_id: SessionId,
    auth_time: i64,
    amr: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE sessions SET auth_time = $1, amr = $2, last_seen_at = $3 \
         WHERE id = $4 AND user_id = $5 AND revoked_at IS NULL AND expires_at > $6 \
           AND credential_epoch = (SELECT u.credential_epoch FROM users u \
                                   WHERE u.id = sessions.user_id AND u.disabled_at IS NULL)",
    )
    .bind(auth_time)
    .bind(amr)
    .bind(now)
    .bind(session_id.to_string())
    .bind(user_id.to_string())
    .bind(now)
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

/// Moves one live session of `user_id` to the account's current
/// credential epoch: the session that made the change keeps going. Run it
/// in the transaction that raised the epoch, before [`revoke_stale`].
pub async fn carry_over<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    session_id: SessionId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sessions SET credential_epoch = \
             (SELECT u.credential_epoch FROM users u WHERE u.id = $1) \
         WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(user_id.to_string())
    .bind(session_id.to_string())
    .bind(user_id.to_string())
    .execute(db)
    .await?;
    Ok(())
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

/// The live sessions of a user (not revoked, not expired, not idle past
/// `idle_since`), the most recently used first.
pub async fn list_live<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    now: i64,
    idle_since: i64,
    after: Option<&LastUsed>,
    limit: i64,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    const LIVE: &str = "SELECT id, created_at, last_seen_at, user_agent, ip_address FROM sessions \
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_seen_at > $3";
    const ORDER: &str = "ORDER BY last_seen_at DESC, id DESC";
    let sql = match after {
        None => format!("{LIVE} {ORDER} LIMIT $4"),
        Some(_) => format!("{LIVE} AND (last_seen_at, id) < ($4, $5) {ORDER} LIMIT $6"),
    };
    let mut query = sqlx::query_as(&sql)
        .bind(user_id.to_string())
        .bind(now)
        .bind(idle_since);
    if let Some(after) = after {
        query = query.bind(after.last_seen_at).bind(after.id.to_string());
    }
    query.bind(limit).fetch_all(db).await
}

/// Where a page of sessions ended: they are listed by last use, newest
/// first, ties by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastUsed {
    pub last_seen_at: i64,
    pub id: SessionId,
}

/// Revokes the user's live sessions beyond the `keep` most recently used,
/// `newest` (the session just opened, which must never make room for
/// itself) counted first; returns their ids. One statement: it counts and
/// ends together.
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
