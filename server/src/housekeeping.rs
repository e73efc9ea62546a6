//! Removes what can no longer be used: ended sessions with their refresh
//! tokens, spent email tokens, and accounts left unverified for a week
//! (an address someone registered and its owner never confirmed). Rows are kept for a day after they stop
//! working, so that a reused refresh token is still recognised as reuse
//! (and not as an unknown token) for a while. Sent mail leaves the outbox
//! table after a week, mail given up after a month (kept that long for
//! its error).

use std::time::Duration;

use crate::{
    clock::unix_now,
    db::Database,
    store::{email_tokens, mail_outbox, security_events, sessions, sign_in_failures, users},
};

const RETENTION_SECS: i64 = 24 * 60 * 60;
/// Unconfirmed accounts are deleted this long after they were created.
pub const UNVERIFIED_ACCOUNT_TTL_SECS: i64 = 7 * 24 * 60 * 60;
/// Activity older than this is deleted.
const EVENT_RETENTION_SECS: i64 = 90 * 24 * 60 * 60;
/// Failed sign-ins quiet this long are forgotten: longer than any lock
/// plus any counting window can last.
const FAILURE_RETENTION_SECS: i64 = 8 * 24 * 60 * 60;
const SENT_MAIL_RETENTION_SECS: i64 = 7 * 24 * 60 * 60;
const FAILED_MAIL_RETENTION_SECS: i64 = 30 * 24 * 60 * 60;
const INTERVAL: Duration = Duration::from_secs(60 * 60);

/// What one sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub tokens: u64,
    pub unverified_accounts: u64,
    pub events: u64,
    pub sign_in_failures: u64,
    pub mail: u64,
}

/// One sweep at `now`.
pub async fn sweep(db: &Database, now: i64) -> Result<Swept, sqlx::Error> {
    let before = now - RETENTION_SECS;
    let sessions = sessions::delete_ended_before(db.pool(), before).await?;
    let tokens = email_tokens::delete_spent_before(db.pool(), before).await?;
    let unverified_accounts =
        users::delete_unverified_before(db.pool(), now - UNVERIFIED_ACCOUNT_TTL_SECS).await?;
    let events = security_events::delete_before(db.pool(), now - EVENT_RETENTION_SECS).await?;
    let sign_in_failures =
        sign_in_failures::delete_quiet_since(db.pool(), now - FAILURE_RETENTION_SECS).await?;
    let mail = mail_outbox::delete_finished_before(
        db.pool(),
        now - SENT_MAIL_RETENTION_SECS,
        now - FAILED_MAIL_RETENTION_SECS,
    )
    .await?;
    Ok(Swept {
        sessions,
        tokens,
        unverified_accounts,
        events,
        sign_in_failures,
        mail,
    })
}

/// Sweeps every hour in the background. With several instances each
/// sweeps; the deletes are idempotent.
pub fn spawn(db: Database) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(INTERVAL);
        loop {
            interval.tick().await;
            match sweep(&db, unix_now()).await {
                Ok(swept) if swept == Swept::default() => {}
                Ok(swept) => tracing::info!(
                    sessions = swept.sessions,
                    tokens = swept.tokens,
                    unverified_accounts = swept.unverified_accounts,
                    events = swept.events,
                    sign_in_failures = swept.sign_in_failures,
                    mail = swept.mail,
                    "deleted what no longer works or matters"
                ),
                Err(error) => tracing::warn!(%error, "housekeeping failed; will retry"),
            }
        }
    });
}
