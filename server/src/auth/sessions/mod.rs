//! The session service: the one owner of a session's life. It opens
//! sessions, rotates their refresh tokens (with the grace window and reuse
//! detection), and ends them; ending a session always records the
//! revocation in this instance's memory and, on PostgreSQL, announces it to
//! the other instances inside the same transaction that revoked it, so no
//! caller can forget to and no announcement can precede the change it
//! reports.
//!
//! A change of credentials (a new password, a disable, a new role, a new
//! email address) raises the account's credential epoch and ends the
//! sessions of older epochs in its own transaction, through
//! [`Sessions::end_stale_within`] and [`Sessions::commit`]: a failure
//! commits neither, and a retry does both. Opening and rotating a session
//! are single statements that succeed only while the epoch still matches
//! and the account is enabled. Deleting an account ends its sessions the
//! same way ([`Sessions::end_all_for_deletion_within`]), and keeps their
//! revocations after their rows are gone.
//!
//! What an attacker may try, and what answers it:
//! - Sign in with the old password while it is being reset (or while the
//!   account is disabled or demoted): the session opens only under the
//!   epoch its password was checked under, so the change wins; a demoted
//!   account's sign-in is retried with the new role by the caller, but
//!   never one whose password, address or second factor changed (a sign-in
//!   racing the owner turning on an authenticator app gets no session).
//! - Keep refreshing a session after a disable or a new password: the
//!   rotation's statement checks the epoch and the account, and the change
//!   ended the session in its own transaction anyway.
//! - Replay a rotated refresh token: within the grace window measured from
//!   the moment that token was rotated it yields an access token without a
//!   successor; after it, the whole session ends (reuse detection).
//! - A stale access token: its session is in the revocation set of every
//!   instance from the moment the revoking transaction commits (on SQLite,
//!   a revocation by the `admin` command, another process, within the
//!   30 s reconciliation).
//! - Pile up sessions (a script signing in again and again): an account
//!   keeps at most `MAX_SESSIONS_PER_USER` live ones; the statement that
//!   opens one more ends the least recently used in the same transaction.
//!   Sign-ins racing each other each see their own new session but not
//!   the other's until it commits, so the account may hold one more per
//!   simultaneous sign-in until its next one.

use app::api::values::{SessionId, UserId};

use super::{jwt::Authentication, revocation::RevokedSessions, tokens};
use crate::{
    db::Database,
    metrics::Metrics,
    security_log::{self, EventKind},
    store::{
        sessions::{self, EndReason, NewSession, SessionRow},
        After,
    },
};

mod ending;
mod renewal;

pub use crate::device::Device;
use ending::log_end;
pub use renewal::{Refused, Renewed};

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// A remembered session's absolute lifetime.
    pub remembered_secs: i64,
    /// The absolute lifetime of a session opened without "keep me signed in".
    pub browser_secs: i64,
    /// A session unused this long ends.
    pub idle_secs: i64,
    /// How long a just-rotated refresh token still yields an access token.
    pub grace_secs: i64,
    /// Live sessions an account may have; opening one more ends the least
    /// recently used.
    pub max_per_user: i64,
}

#[derive(Clone)]
pub struct Sessions {
    db: Database,
    revoked: RevokedSessions,
    lifetimes: Lifetimes,
    /// Counts rotations and reuse detections.
    metrics: Metrics,
}

/// How long the browser should keep the refresh cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieLife {
    /// `Max-Age`: the session's remaining lifetime.
    Seconds(i64),
    /// No `Max-Age`: until the browser closes.
    BrowserSession,
}

/// A new session and the refresh token that continues it.
pub struct Opened {
    pub session_id: SessionId,
    pub authentication: Authentication,
    pub refresh_token: String,
    pub cookie_life: CookieLife,
}

/// Sessions ended inside a transaction not yet committed: give it to
/// [`Sessions::commit`], which commits and publishes them.
#[must_use = "commit the transaction with Sessions::commit"]
pub struct Ending {
    ended: Vec<SessionId>,
}

impl Sessions {
    pub fn new(
        db: Database,
        revoked: RevokedSessions,
        lifetimes: Lifetimes,
        metrics: Metrics,
    ) -> Self {
        Self {
            db,
            revoked,
            lifetimes,
            metrics,
        }
    }

    /// Opens a session for a user who just proved who they are, with
    /// credentials read at `credential_epoch`. `None` when the account
    /// changed since (a new password, role or a disable) or was disabled:
    /// nothing was opened. `footing`: the earliest footing among the proofs
    /// (a factor's, or a password's that a session chose), `None` when all
    /// of them are fresh; the session stands from its opening or from that.
    #[allow(clippy::too_many_arguments)]
    pub async fn open(
        &self,
        user_id: UserId,
        credential_epoch: i64,
        authentication: Authentication,
        footing: Option<i64>,
        device: &Device,
        remember: bool,
        now: i64,
    ) -> Result<Option<Opened>, sqlx::Error> {
        let session_id = SessionId::from_uuid(uuid::Uuid::new_v4());
        let refresh_token = tokens::generate();
        let lifetime = if remember {
            self.lifetimes.remembered_secs
        } else {
            self.lifetimes.browser_secs
        };
        // The session, its first token and the sign-in in the log land
        // together.
        let mut transaction = self.db.pool().begin().await?;
        let opened = sessions::create(
            &mut transaction,
            NewSession {
                id: session_id,
                user_id,
                credential_epoch,
                expires_at: now + lifetime,
                user_agent: device.user_agent.as_deref(),
                ip_address: device.ip_address.as_deref(),
                remember,
                auth_time: authentication.at,
                amr: &authentication.stored_methods(),
                footing: footing.unwrap_or(now),
            },
            &tokens::hash(&refresh_token),
            now,
            self.db.backend(),
        )
        .await?;
        if !opened {
            transaction.rollback().await?;
            return Ok(None);
        }
        security_log::record_in(
            &mut *transaction,
            user_id,
            EventKind::SignedIn,
            Some(device),
            None,
            now,
        )
        .await?;
        // Over the cap: the least recently used make room, announced like
        // any other end.
        let evicted = sessions::revoke_beyond(
            &mut *transaction,
            user_id,
            session_id,
            self.lifetimes.max_per_user,
            EndReason::SessionLimit,
            now,
        )
        .await?;
        self.announce(&mut transaction, &evicted).await?;
        log_end(
            &mut transaction,
            user_id,
            EndReason::SessionLimit,
            evicted.len(),
            now,
        )
        .await?;
        transaction.commit().await?;
        for session_id in &evicted {
            self.revoked.remember(*session_id, now);
        }
        Ok(Some(Opened {
            session_id,
            authentication,
            refresh_token,
            cookie_life: cookie_life(remember, lifetime),
        }))
    }

    /// The session's footing (`auth::factors` explains footings): what a
    /// factor it adds or a password it chooses keeps. Now, if its row is
    /// gone.
    pub async fn footing(&self, session_id: SessionId, now: i64) -> Result<i64, sqlx::Error> {
        Ok(sessions::footing(self.db.pool(), session_id)
            .await?
            .unwrap_or(now)
            .min(now))
    }

    /// Records that the user of a live session just proved who they are
    /// again; `false` when the session has ended or its credentials have
    /// changed (nothing was recorded). `footing` as for [`Sessions::open`]:
    /// a proof from an older factor
    /// moves the session's footing back to that factor's.
    pub async fn reauthenticated(
        &self,
        user_id: UserId,
        session_id: SessionId,
        authentication: &Authentication,
        footing: Option<i64>,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        sessions::reauthenticated(
            self.db.pool(),
            user_id,
            session_id,
            authentication.at,
            &authentication.stored_methods(),
            footing.unwrap_or(now),
            now,
        )
        .await
    }

    /// The user's live sessions, the most recently used first.
    pub async fn list(
        &self,
        user_id: UserId,
        now: i64,
        after: Option<&After>,
        limit: i64,
    ) -> Result<Vec<SessionRow>, sqlx::Error> {
        sessions::list_live(
            self.db.pool(),
            user_id,
            now,
            self.idle_since(now),
            after,
            limit,
        )
        .await
    }

    /// Sessions unused since before this instant have timed out.
    fn idle_since(&self, now: i64) -> i64 {
        now - self.lifetimes.idle_secs
    }
}

fn cookie_life(remember: bool, remaining_secs: i64) -> CookieLife {
    if remember {
        CookieLife::Seconds(remaining_secs)
    } else {
        CookieLife::BrowserSession
    }
}
