//! The `sessions` table and the refresh tokens of each session: opening,
//! rotating, listing; how sessions end is in `ending`.

mod ending;

use app::api::values::{SessionId, UserId};
use sqlx::{Any, AnyConnection, AnyPool, Executor};

pub use ending::{
    delete_ended_before, revoke, revoke_all_of_user, revoke_beyond, revoke_own, revoke_stale,
    revoked_since, EndReason,
};

use super::After;
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
    /// The earliest moment whose changes its holder may have had a hand in
    /// (see [`footing`]): the opening, or earlier when a proof came from a
    /// factor or password that an earlier session made.
    pub footing: i64,
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
          auth_time, amr, footing, credential_epoch) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, u.credential_epoch FROM users u \
         WHERE u.id = $12 AND u.credential_epoch = $13 AND u.disabled_at IS NULL{lock}"
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
    .bind(session.footing.min(now))
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
///
/// A claim that finds nothing looks once more. On PostgreSQL a statement
/// that waited for the row re-checks the row's new version, but reads the
/// account in its subquery as it was when the statement began: a session
/// that a password change carried over to the new epoch (the session that
/// made the change) then looked stale, and its renewal signed it out. The
/// second look is a new statement, which sees everything committed; it
/// still refuses a session that was ended or left behind.
pub async fn rotate(
    db: &AnyPool,
    session_id: SessionId,
    old_hash: &str,
    new_hash: &str,
    now: i64,
    idle_since: i64,
) -> Result<Rotation, sqlx::Error> {
    let mut transaction = db.begin().await?;
    let live = claim_live(&mut transaction, session_id, now, idle_since).await?
        || claim_live(&mut transaction, session_id, now, idle_since).await?;
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

/// Marks the session used now if it is live and current (see [`rotate`]).
async fn claim_live(
    transaction: &mut sqlx::Transaction<'_, Any>,
    session_id: SessionId,
    now: i64,
    idle_since: i64,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query(
        "UPDATE sessions SET last_seen_at = $1 \
         WHERE id = $2 AND revoked_at IS NULL AND expires_at > $3 AND last_seen_at > $4 \
           AND credential_epoch = (SELECT u.credential_epoch FROM users u \
                                   WHERE u.id = sessions.user_id AND u.disabled_at IS NULL)",
    )
    .bind(now)
    .bind(session_id.to_string())
    .bind(now)
    .bind(idle_since)
    .execute(&mut **transaction)
    .await?
    .rows_affected();
    Ok(claimed == 1)
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
    footing: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    // The footing only ever moves back: the proof's reach joins the
    // session's own.
    let result = sqlx::query(
        "UPDATE sessions SET auth_time = $1, amr = $2, last_seen_at = $3, \
             footing = CASE WHEN COALESCE(footing, created_at) > $4 THEN $5 \
                            ELSE COALESCE(footing, created_at) END \
         WHERE id = $6 AND user_id = $7 AND revoked_at IS NULL AND expires_at > $8 \
           AND credential_epoch = (SELECT u.credential_epoch FROM users u \
                                   WHERE u.id = sessions.user_id AND u.disabled_at IS NULL)",
    )
    .bind(auth_time)
    .bind(amr)
    .bind(now)
    .bind(footing)
    .bind(footing)
    .bind(session_id.to_string())
    .bind(user_id.to_string())
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
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

/// The live sessions of a user (not revoked, not expired, not idle past
/// `idle_since`), the most recently used first.
pub async fn list_live<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    now: i64,
    idle_since: i64,
    after: Option<&After>,
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
        query = query.bind(after.at).bind(after.id.as_str());
    }
    query.bind(limit).fetch_all(db).await
}

/// The session's footing (see `migrations/20261208000001_footing.sql`):
/// the earliest moment whose changes its holder may have had a hand in; its
/// opening in rows older than the column. `None` once its row is gone.
pub async fn footing<'e>(
    db: impl Executor<'e, Database = Any>,
    session_id: SessionId,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(footing, created_at) FROM sessions WHERE id = $1")
        .bind(session_id.to_string())
        .fetch_optional(db)
        .await
}
