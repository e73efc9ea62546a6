//! How the session service ends sessions: one, the user's own, all of a
//! user's, those of an older credential epoch inside the transaction that
//! raised it, and those of an account being deleted. Every ending records
//! the revocation in memory, announces it to the other instances inside its
//! transaction (PostgreSQL), and goes into the account's activity.

use app::api::values::{SessionId, UserId};
use sqlx::{Any, Executor};

use super::{Ending, Sessions};
use crate::auth::tokens;
use crate::{
    db::Backend,
    security_log::{self, EventKind},
    store::{
        revoked_sessions,
        sessions::{self, EndReason},
    },
};

impl Sessions {
    /// Ends the session a refresh token belongs to, if any; `true` if a
    /// live session ended.
    pub async fn end_by_refresh_token(
        &self,
        presented: &str,
        reason: EndReason,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        match sessions::find_refresh_token(self.db.pool(), &tokens::hash(presented)).await? {
            Some(record) => {
                self.end(record.user_id, record.session_id, reason, now)
                    .await
            }
            None => Ok(false),
        }
    }

    /// Ends one of `user_id`'s sessions; `true` if it was live until now.
    pub async fn end(
        &self,
        user_id: UserId,
        session_id: SessionId,
        reason: EndReason,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut transaction = self.db.pool().begin().await?;
        let ended = sessions::revoke(&mut *transaction, session_id, reason, now).await?;
        if ended {
            self.announce(&mut transaction, &[session_id]).await?;
            log_end(&mut transaction, user_id, reason, 1, now).await?;
        }
        transaction.commit().await?;
        if ended {
            self.revoked.remember(session_id, now);
        }
        Ok(ended)
    }

    /// Ends one of the user's own live sessions; `false` when the id is not
    /// one (so the caller can answer 404 without telling whose it is).
    pub async fn end_own(
        &self,
        user_id: UserId,
        session_id: SessionId,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut transaction = self.db.pool().begin().await?;
        let ended = sessions::revoke_own(
            &mut *transaction,
            user_id,
            session_id,
            EndReason::EndedByUser,
            now,
        )
        .await?;
        if ended {
            self.announce(&mut transaction, &[session_id]).await?;
            log_end(&mut transaction, user_id, EndReason::EndedByUser, 1, now).await?;
        }
        transaction.commit().await?;
        if ended {
            self.revoked.remember(session_id, now);
        }
        Ok(ended)
    }

    /// Ends, inside the caller's transaction, every live session of the
    /// user opened under an older credential epoch than the one the same
    /// transaction has just raised, and announces them with it. `keep`, the
    /// session that made the change, moves to the new epoch instead. Hand
    /// the result to [`Sessions::commit`].
    pub async fn end_stale_within(
        &self,
        transaction: &mut sqlx::Transaction<'_, Any>,
        user_id: UserId,
        keep: Option<SessionId>,
        reason: EndReason,
        now: i64,
    ) -> Result<Ending, sqlx::Error> {
        if let Some(keep) = keep {
            sessions::carry_over(&mut **transaction, user_id, keep).await?;
        }
        let ended = sessions::revoke_stale(&mut **transaction, user_id, reason, now).await?;
        self.announce(transaction, &ended).await?;
        log_end(transaction, user_id, reason, ended.len(), now).await?;
        Ok(Ending { ended })
    }

    /// Commits a transaction that ended sessions, then refuses their access
    /// tokens on this instance at once (the others heard it from the
    /// commit). Returns the sessions that ended.
    pub async fn commit(
        &self,
        transaction: sqlx::Transaction<'_, Any>,
        ending: Ending,
        now: i64,
    ) -> Result<Vec<SessionId>, sqlx::Error> {
        transaction.commit().await?;
        for session_id in &ending.ended {
            self.revoked.remember(*session_id, now);
        }
        Ok(ending.ended)
    }

    /// Ends every live session of a user; returns the ones it ended.
    pub async fn end_all(
        &self,
        user_id: UserId,
        reason: EndReason,
        now: i64,
    ) -> Result<Vec<SessionId>, sqlx::Error> {
        let mut transaction = self.db.pool().begin().await?;
        let ended = sessions::revoke_all_of_user(&mut *transaction, user_id, reason, now).await?;
        self.announce(&mut transaction, &ended).await?;
        log_end(&mut transaction, user_id, reason, ended.len(), now).await?;
        transaction.commit().await?;
        for session_id in &ended {
            self.revoked.remember(*session_id, now);
        }
        Ok(ended)
    }

    /// Ends, inside the caller's transaction, every live session of an
    /// account that the same transaction then deletes, and announces them
    /// with it. Deleting the account deletes its sessions' rows, which are
    /// also their revocations: each one is kept in `revoked_sessions`
    /// (without the account's id) for as long as a session's row would
    /// have been, so that an instance starting, or reconciling after a
    /// lost announcement, still refuses the sessions' access tokens. Hand
    /// the result to [`Sessions::commit`].
    pub async fn end_all_for_deletion_within(
        &self,
        transaction: &mut sqlx::Transaction<'_, Any>,
        user_id: UserId,
        now: i64,
    ) -> Result<Ending, sqlx::Error> {
        let ended = sessions::revoke_all_of_user(
            &mut **transaction,
            user_id,
            EndReason::AccountDeleted,
            now,
        )
        .await?;
        revoked_sessions::keep_for_user(&mut **transaction, user_id).await?;
        self.announce(transaction, &ended).await?;
        Ok(Ending { ended })
    }

    /// On PostgreSQL, `NOTIFY` inside the revoking transaction: delivered
    /// to the other instances when, and only if, the revocation commits.
    pub(super) async fn announce(
        &self,
        transaction: &mut sqlx::Transaction<'_, Any>,
        session_ids: &[SessionId],
    ) -> Result<(), sqlx::Error> {
        if self.db.backend() != Backend::Postgres {
            return Ok(());
        }
        for session_id in session_ids {
            notify(&mut **transaction, *session_id).await?;
        }
        Ok(())
    }
}

/// Every end of a session goes into the account's activity, with the
/// revocation's transaction.
pub(super) async fn log_end(
    transaction: &mut sqlx::Transaction<'_, Any>,
    user_id: UserId,
    reason: EndReason,
    count: usize,
    now: i64,
) -> Result<(), sqlx::Error> {
    if count == 0 {
        return Ok(());
    }
    let kind = match reason {
        EndReason::ReuseDetected => EventKind::RefreshTokenReused,
        _ => EventKind::SessionEnded,
    };
    let why = match reason {
        EndReason::Logout => "signed out",
        EndReason::LogoutAll => "signed out everywhere",
        EndReason::ReuseDetected => "its refresh token was used twice",
        EndReason::EndedByUser => "signed out from the list of sessions",
        EndReason::PasswordChanged => "the password was changed",
        EndReason::PasswordReset => "the password was reset",
        EndReason::RoleChanged => "the role was changed",
        EndReason::Disabled => "the account was disabled",
        EndReason::CredentialsChanged => "the account's credentials changed",
        EndReason::SecondFactorChanged => "the account's second factor changed",
        EndReason::SessionLimit => "too many sessions, the least recently used ended",
        EndReason::EmailChanged => "the email address was changed",
        EndReason::EmailChangeUndone => "a change of email address was undone",
        EndReason::AccountDeleted => "the account was deleted",
    };
    let detail = match count {
        1 => format!("1 session ended: {why}"),
        _ => format!("{count} sessions ended: {why}"),
    };
    security_log::record_in(&mut **transaction, user_id, kind, None, Some(&detail), now).await
}

async fn notify<'e>(
    db: impl Executor<'e, Database = Any>,
    session_id: SessionId,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(crate::auth::revocation::CHANNEL)
        .bind(session_id.to_string())
        .execute(db)
        .await?;
    Ok(())
}
