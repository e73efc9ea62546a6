//! Removes what can no longer be used: ended sessions with their refresh
//! tokens (and the revocations kept for deleted accounts' sessions, by the
//! same rule), spent email tokens, changes of address whose confirmation
//! or undo link expired, and sign-ups whose link expired (an
//! address someone signed up and its owner never confirmed). Rows are kept for a day after they stop
//! working, so that a reused refresh token is still recognised as reuse
//! (and not as an unknown token) for a while. An ended session's row is
//! also its revocation, which every instance loads at start and reads
//! again to reconcile: it stays until every access token of the session
//! has expired, under the longest lifetime the configuration allows (a
//! day) plus the revocation set's margin, so that no instance can forget
//! a revocation whose tokens still work. Sent mail leaves the outbox
//! table after a week, mail given up after a month (kept that long for
//! its error); either is only metadata by then, its bodies and link having
//! been blanked when it was sent or given up (see `mail`).

use std::time::Duration;

use crate::{
    auth::revocation::RETENTION_MARGIN_SECS,
    clock::unix_now,
    db::Database,
    store::{
        email_change_undos, email_changes, email_tokens, login_challenges, mail_outbox,
        pending_signups, revoked_sessions, security_events, sessions, sign_in_failures,
        webauthn_ceremonies,
    },
};

const RETENTION_SECS: i64 = 24 * 60 * 60;
/// The longest access token lifetime `ACCESS_TOKEN_TTL_SECS` accepts; a test
/// keeps the two in step. Fixed rather than the configured lifetime: tokens
/// issued before a restart that shortened it live as long as they were
/// given.
const LONGEST_ACCESS_TOKEN_TTL_SECS: i64 = 24 * 60 * 60;
/// How long an ended session's row stays: a day, and never less than the
/// revocation set keeps its entries under any configuration.
const SESSION_RETENTION_SECS: i64 = {
    let revocation = LONGEST_ACCESS_TOKEN_TTL_SECS + RETENTION_MARGIN_SECS;
    if revocation > RETENTION_SECS {
        revocation
    } else {
        RETENTION_SECS
    }
};
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
    pub pending_signups: u64,
    /// Changes of address, waiting or undoable, whose link expired.
    pub email_changes: u64,
    /// Second-factor challenges of sign-ins, and passkey ceremonies, never
    /// finished.
    pub challenges: u64,
    pub events: u64,
    pub sign_in_failures: u64,
    pub mail: u64,
}

/// One sweep at `now`.
pub async fn sweep(db: &Database, now: i64) -> Result<Swept, sqlx::Error> {
    let before = now - RETENTION_SECS;
    let sessions = sessions::delete_ended_before(db.pool(), now - SESSION_RETENTION_SECS).await?
        + revoked_sessions::delete_before(db.pool(), now - SESSION_RETENTION_SECS).await?;
    let tokens = email_tokens::delete_spent_before(db.pool(), before).await?;
    let pending_signups = pending_signups::delete_expired_before(db.pool(), now).await?;
    let email_changes = email_changes::delete_expired_before(db.pool(), now).await?
        + email_change_undos::delete_expired_before(db.pool(), now).await?;
    let challenges = login_challenges::delete_expired_before(db.pool(), now).await?
        + webauthn_ceremonies::delete_expired_before(db.pool(), now).await?;
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
        pending_signups,
        email_changes,
        challenges,
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
                    pending_signups = swept.pending_signups,
                    email_changes = swept.email_changes,
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

#[cfg(test)]
mod tests {
    use app::api::values::SessionId;

    use super::*;
    use crate::{auth::revocation::RevokedSessions, config::Settings};

    fn with_access_token_ttl(secs: i64) -> Option<Settings> {
        let secs = secs.to_string();
        Settings::from_lookup(|name| match name {
            "APP_ENV" => Some("development".into()),
            "ACCESS_TOKEN_TTL_SECS" => Some(secs.clone()),
            _ => None,
        })
        .ok()
    }

    #[test]
    fn the_longest_access_token_lifetime_is_the_configurations() {
        assert!(with_access_token_ttl(LONGEST_ACCESS_TOKEN_TTL_SECS).is_some());
        assert!(with_access_token_ttl(LONGEST_ACCESS_TOKEN_TTL_SECS + 1).is_none());
    }

    /// Under the longest lifetime the configuration accepts, a revoked
    /// session's row outlives its entry in the revocation set: the row is
    /// what a starting instance loads and a reconciliation reads.
    #[test]
    fn revoked_sessions_rows_outlive_every_access_token() {
        let settings = with_access_token_ttl(LONGEST_ACCESS_TOKEN_TTL_SECS).unwrap();
        let revoked = RevokedSessions::new(settings.access_token_ttl);
        let session = SessionId::from_uuid(uuid::Uuid::from_u128(1));
        let revoked_at = 1_000_000;
        revoked.remember(session, revoked_at);
        // The sweep deletes rows revoked before `now - SESSION_RETENTION_SECS`:
        // this is the last moment it keeps this one.
        revoked.prune(revoked_at + SESSION_RETENTION_SECS);
        assert!(
            !revoked.contains(session),
            "the entry is gone by the time the row may go"
        );
        let ttl = i64::try_from(settings.access_token_ttl.as_secs()).unwrap();
        assert!(SESSION_RETENTION_SECS >= ttl + RETENTION_MARGIN_SECS);
    }
}
