//! The security event log: what happened to an account (sign-ins, failed
//! ones, lockouts, reuse of a refresh token, password changes and resets,
//! ended sessions, role and status changes), with time, IP and device. Its
//! owner sees it on the account page and admins see anyone's. Failed
//! sign-ins and refresh-token reuse are also logged as structured warnings
//! for whoever watches the server's logs.
//!
//! Events that go with a change are written in the transaction that makes
//! the change ([`record_in`]); the rest are written on their own, and a
//! failure to write one is logged rather than failing the request.

use app::api::values::UserId;
use sqlx::{Any, Executor};

pub use app::api::types::SecurityEventKind as EventKind;

use crate::{
    auth::device::Device,
    db::Database,
    lockout::Failure,
    store::security_events::{self, EventRow, NewEvent},
};

/// How many events an activity list shows.
pub const RECENT: i64 = 50;

/// Writes one event with `db`, which may be the transaction of the change.
pub async fn record_in<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    kind: EventKind,
    device: Option<&Device>,
    detail: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    security_events::insert(
        db,
        NewEvent {
            user_id,
            kind,
            ip_address: device.and_then(|device| device.ip_address.as_deref()),
            user_agent: device.and_then(|device| device.user_agent.as_deref()),
            detail,
        },
        now,
    )
    .await
}

#[derive(Clone)]
pub struct SecurityLog {
    db: Database,
}

impl SecurityLog {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Writes one event; never fails the caller.
    async fn record(
        &self,
        user_id: UserId,
        kind: EventKind,
        device: &Device,
        detail: Option<&str>,
        now: i64,
    ) {
        if let Err(error) =
            record_in(self.db.pool(), user_id, kind, Some(device), detail, now).await
        {
            tracing::warn!(%error, %user_id, kind = kind.as_str(), "could not record a security event");
        }
    }

    /// A wrong password or an unknown address: a warning in the server's
    /// log always, and an entry in the account's activity when there is an
    /// account (plus one for the lockout the failure started).
    pub async fn sign_in_failed(
        &self,
        user_id: Option<UserId>,
        device: &Device,
        failure: Failure,
        now: i64,
    ) {
        tracing::warn!(
            user_id = user_id.map(|id| id.to_string()),
            ip = device.ip_address.as_deref(),
            failures = failure.failures,
            locked_until = failure.locked_until,
            "failed sign-in"
        );
        let Some(user_id) = user_id else {
            return;
        };
        self.record(user_id, EventKind::SignInFailed, device, None, now)
            .await;
        if let Some(until) = failure.locked_until {
            let detail = format!(
                "{} failed sign-ins in a row; sign-in waits {} seconds",
                failure.failures,
                until - now
            );
            self.record(user_id, EventKind::SignInLocked, device, Some(&detail), now)
                .await;
        }
    }

    /// The user's newest events, newest first.
    pub async fn recent(&self, user_id: UserId) -> Result<Vec<EventRow>, sqlx::Error> {
        security_events::recent(self.db.pool(), user_id, RECENT).await
    }
}
