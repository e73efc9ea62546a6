//! Sessions revoked before their access tokens expire. Checking a token must
//! not cost a database query, so the set lives in memory: rebuilt from the
//! database at start, updated by this instance as it revokes, and (on
//! PostgreSQL) by every other instance through LISTEN/NOTIFY.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc, RwLock,
    },
    time::Duration,
};

use app::api::values::SessionId;
use sqlx::postgres::PgListener;

use crate::{
    clock::unix_now,
    db::{Backend, Database},
    store::{revoked_sessions, sessions},
};

/// The PostgreSQL notification channel; the payload is a session id.
pub const CHANNEL: &str = "session_revoked";

/// How long after a revocation its entry is kept beyond the access token
/// lifetime, to absorb clock differences between instances. Housekeeping
/// keeps revoked sessions' rows at least this much longer too, so that a
/// start-up load or a reconciliation still finds every revocation held
/// here.
pub const RETENTION_MARGIN_SECS: i64 = 60;

/// How often every instance reconciles its set with the database, whatever
/// the announcements said: a lost `NOTIFY` is caught up within this time.
const RECONCILE_INTERVAL: Duration = Duration::from_secs(30);

/// A listener down longer than this makes the instance unready: it may be
/// missing revocations made elsewhere.
pub const LISTENER_DOWN_LIMIT_SECS: i64 = 60;

#[derive(Clone)]
pub struct RevokedSessions {
    /// Session id → when the entry may be forgotten (Unix seconds): by then
    /// every access token issued for the session has expired.
    entries: Arc<RwLock<HashMap<SessionId, i64>>>,
    retention_secs: i64,
    /// Since when (Unix seconds) the PostgreSQL listener has not been
    /// listening; 0 while it listens, or where there is none to run.
    listener_down_since: Arc<AtomicI64>,
}

impl RevokedSessions {
    pub fn new(access_token_ttl: Duration) -> Self {
        let ttl = i64::try_from(access_token_ttl.as_secs()).unwrap_or(i64::MAX / 4);
        Self {
            entries: Arc::default(),
            retention_secs: ttl + RETENTION_MARGIN_SECS,
            listener_down_since: Arc::default(),
        }
    }

    /// Whether revocations made by other instances may be going unheard
    /// for longer than the limit.
    pub fn listener_down_too_long(&self, now: i64) -> bool {
        let since = self.listener_down_since.load(Ordering::Relaxed);
        since != 0 && now - since > LISTENER_DOWN_LIMIT_SECS
    }

    fn listener_down(&self, now: i64) {
        let _ = self.listener_down_since.compare_exchange(
            0,
            now.max(1),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    fn listener_up(&self) {
        self.listener_down_since.store(0, Ordering::Relaxed);
    }

    pub fn contains(&self, session_id: SessionId) -> bool {
        self.entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains_key(&session_id)
    }

    /// Keeps the session until every token issued before `revoked_at` has
    /// expired. Never shortens what is already held: the listener remembers
    /// with the time the announcement arrived, later than the database's
    /// `revoked_at` that a reconciliation reads afterwards.
    pub fn remember(&self, session_id: SessionId, revoked_at: i64) {
        let forget_at = revoked_at.saturating_add(self.retention_secs);
        self.entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(session_id)
            .and_modify(|held| *held = (*held).max(forget_at))
            .or_insert(forget_at);
    }

    pub fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The oldest revocation that may still have live tokens at `now`.
    fn relevant_since(&self, now: i64) -> i64 {
        now.saturating_sub(self.retention_secs)
    }

    /// Forgets sessions whose access tokens have all expired.
    pub fn prune(&self, now: i64) {
        self.entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|_, forget_at| *forget_at > now);
    }

    /// Loads every revocation recent enough to still matter: one made
    /// within the retention (access token lifetime plus margin) may still
    /// have live tokens. Housekeeping keeps those rows at least that long.
    pub async fn reload(&self, db: &Database) -> Result<(), sqlx::Error> {
        let since = self.relevant_since(unix_now());
        for (session_id, revoked_at) in sessions::revoked_since(db.pool(), since).await? {
            self.remember(session_id, revoked_at);
        }
        // The sessions of deleted accounts: their rows went with them.
        for (session_id, revoked_at) in revoked_sessions::since(db.pool(), since).await? {
            self.remember(session_id, revoked_at);
        }
        Ok(())
    }
}

/// Keeps the set current: reconciles it with the database and prunes it
/// every 30 seconds and, on PostgreSQL, applies other instances'
/// revocations as they are announced.
pub fn spawn_maintenance(revoked: RevokedSessions, db: Database, database_url: String) {
    let reconciled = revoked.clone();
    let reconcile_db = db.clone();
    tokio::spawn(async move {
        // Start-up has just loaded the list: the first reconciliation is
        // one interval away, not now.
        let mut interval = tokio::time::interval_at(
            tokio::time::Instant::now() + RECONCILE_INTERVAL,
            RECONCILE_INTERVAL,
        );
        loop {
            interval.tick().await;
            reconciled.prune(unix_now());
            if let Err(error) = reconciled.reload(&reconcile_db).await {
                tracing::warn!(%error, "could not reconcile revoked sessions; will retry");
            }
        }
    });

    if db.backend() == Backend::Postgres {
        revoked.listener_down(unix_now());
        tokio::spawn(listen(revoked, db, database_url));
    }
}

async fn listen(revoked: RevokedSessions, db: Database, database_url: String) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut listener = match PgListener::connect(&database_url).await {
            Ok(listener) => listener,
            Err(error) => {
                revoked.listener_down(unix_now());
                tracing::warn!(%error, "revocation listener could not connect; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            tracing::warn!(%error, "revocation listener could not LISTEN; retrying");
            tokio::time::sleep(backoff).await;
            continue;
        }
        backoff = Duration::from_millis(100);
        // Anything announced while we were not listening is in the database.
        match revoked.reload(&db).await {
            Ok(()) => revoked.listener_up(),
            Err(error) => tracing::warn!(%error, "could not reload revoked sessions"),
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => match notification.payload().parse() {
                    Ok(session_id) => revoked.remember(session_id, unix_now()),
                    Err(_) => tracing::warn!(
                        payload = notification.payload(),
                        "ignored a revocation announcement that names no session"
                    ),
                },
                // The connection dropped: reconnect and reload.
                Ok(None) => {
                    revoked.listener_down(unix_now());
                    break;
                }
                Err(error) => {
                    revoked.listener_down(unix_now());
                    tracing::warn!(%error, "revocation listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_until_every_token_has_expired() {
        let revoked = RevokedSessions::new(Duration::from_secs(900));
        let (s1, s2) = (
            SessionId::from_uuid(uuid::Uuid::from_u128(1)),
            SessionId::from_uuid(uuid::Uuid::from_u128(2)),
        );
        revoked.remember(s1, 1_000);
        assert!(revoked.contains(s1));
        assert!(!revoked.contains(s2));
        revoked.prune(1_000 + 900);
        assert!(
            revoked.contains(s1),
            "tokens issued just before may still be valid"
        );
        revoked.prune(1_000 + 900 + RETENTION_MARGIN_SECS);
        assert!(!revoked.contains(s1));
        assert!(revoked.is_empty());
    }

    #[test]
    fn a_later_reading_of_the_same_revocation_never_shortens_it() {
        let revoked = RevokedSessions::new(Duration::from_secs(900));
        let session = SessionId::from_uuid(uuid::Uuid::from_u128(3));
        // Announced (and remembered) at 1_005; the row says 1_000.
        revoked.remember(session, 1_005);
        revoked.remember(session, 1_000);
        revoked.prune(1_000 + 900 + RETENTION_MARGIN_SECS);
        assert!(revoked.contains(session));
        revoked.prune(1_005 + 900 + RETENTION_MARGIN_SECS);
        assert!(!revoked.contains(session));
    }

    #[test]
    fn loads_look_back_as_far_as_entries_are_kept() {
        for ttl in [1, 900, 24 * 60 * 60] {
            let revoked = RevokedSessions::new(Duration::from_secs(ttl));
            let now = 1_000_000;
            let since = revoked.relevant_since(now);
            // A revocation at `since` is loaded and held until now or later…
            let session = SessionId::from_uuid(uuid::Uuid::from_u128(4));
            revoked.remember(session, since);
            revoked.prune(now - 1);
            assert!(revoked.contains(session));
            // …and the lookback covers every token issued before it.
            let ttl = i64::try_from(ttl).unwrap();
            assert!(now - since >= ttl + RETENTION_MARGIN_SECS, "ttl {ttl}");
        }
    }

    #[test]
    fn a_listener_down_over_the_limit_makes_the_instance_unready() {
        let revoked = RevokedSessions::new(Duration::from_secs(900));
        assert!(!revoked.listener_down_too_long(10_000));
        revoked.listener_down(10_000);
        revoked.listener_down(10_030);
        assert!(!revoked.listener_down_too_long(10_000 + LISTENER_DOWN_LIMIT_SECS));
        assert!(revoked.listener_down_too_long(10_001 + LISTENER_DOWN_LIMIT_SECS));
        revoked.listener_up();
        assert!(!revoked.listener_down_too_long(20_000));
    }
}
