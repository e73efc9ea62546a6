//! The security event log: what happened to an account (sign-ins, failed
//! ones, lockouts, reuse of a refresh token, password changes and resets,
//! ended sessions, role and status changes), with time, IP and device. Its
//! owner sees it on the account page and admins see anyone's. Failed
//! sign-ins and refresh-token reuse are also logged as structured warnings
//! for whoever watches the server's logs, and a lockout a failure starts
//! is counted in the metrics (`auth_lockouts_total`).
//!
//! Events that go with a change are written in the transaction that makes
//! the change ([`record_in`]). A failed sign-in is not written by the
//! request: it goes into a bounded queue that a background task writes
//! out, so that a wrong password costs the same time and the same writes
//! whether or not the address has an account (an unknown one has no log to
//! write to). A failure to write one is logged rather than failing
//! anything; a full queue (a flood) drops events with a warning.

use app::api::values::UserId;
use sqlx::{Any, Executor};
use tokio::sync::mpsc;

pub use app::api::types::SecurityEventKind as EventKind;

use crate::{
    db::Database,
    device::Device,
    metrics::Metrics,
    store::{
        security_events::{self, EventRow, NewEvent},
        sign_in_failures::Failure,
    },
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
            id: uuid::Uuid::now_v7(),
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

/// Failed sign-ins waiting to be written; beyond this many, new ones are
/// dropped (with a warning) rather than held in memory.
const QUEUE: usize = 4096;

/// An event as queued, to be written as it was when it happened.
struct Queued {
    id: uuid::Uuid,
    user_id: UserId,
    kind: EventKind,
    device: Device,
    detail: Option<String>,
    at: i64,
}

#[derive(Clone)]
pub struct SecurityLog {
    db: Database,
    queue: mpsc::Sender<Queued>,
    metrics: Metrics,
}

impl SecurityLog {
    /// Starts the task that writes queued events.
    pub fn new(db: Database, metrics: Metrics) -> Self {
        let (queue, events) = mpsc::channel(QUEUE);
        tokio::spawn(write_queued(db.clone(), events));
        Self { db, queue, metrics }
    }

    fn enqueue(
        &self,
        user_id: UserId,
        kind: EventKind,
        device: &Device,
        detail: Option<String>,
        at: i64,
    ) {
        let event = Queued {
            id: uuid::Uuid::now_v7(),
            user_id,
            kind,
            device: device.clone(),
            detail,
            at,
        };
        if self.queue.try_send(event).is_err() {
            tracing::warn!(%user_id, kind = kind.as_str(), "security event queue full; event dropped");
        }
    }

    /// A wrong password or an unknown address: a warning in the server's
    /// log always, and an entry in the account's activity when there is an
    /// account (plus one for the lockout the failure started), queued.
    pub fn sign_in_failed(
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
        if failure.locked_until.is_some() {
            self.metrics.lockout();
        }
        let Some(user_id) = user_id else {
            return;
        };
        self.enqueue(user_id, EventKind::SignInFailed, device, None, now);
        if let Some(until) = failure.locked_until {
            let detail = format!(
                "{} failed sign-ins in a row; sign-in waits {} seconds",
                failure.failures,
                until - now
            );
            self.enqueue(user_id, EventKind::SignInLocked, device, Some(detail), now);
        }
    }

    /// The user's newest events, newest first.
    pub async fn recent(&self, user_id: UserId) -> Result<Vec<EventRow>, sqlx::Error> {
        security_events::recent(self.db.pool(), user_id, RECENT).await
    }
}

async fn write_queued(db: Database, mut events: mpsc::Receiver<Queued>) {
    while let Some(event) = events.recv().await {
        let written = security_events::insert(
            db.pool(),
            NewEvent {
                id: event.id,
                user_id: event.user_id,
                kind: event.kind,
                ip_address: event.device.ip_address.as_deref(),
                user_agent: event.device.user_agent.as_deref(),
                detail: event.detail.as_deref(),
            },
            event.at,
        )
        .await;
        if let Err(error) = written {
            tracing::warn!(%error, user_id = %event.user_id, kind = event.kind.as_str(), "could not record a security event");
        }
    }
}
