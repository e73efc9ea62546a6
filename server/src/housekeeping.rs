//! Removes what can no longer be used: ended sessions with their refresh
//! tokens, and spent email tokens. Rows are kept for a day after they stop
//! working, so that a reused refresh token is still recognised as reuse
//! (and not as an unknown token) for a while.

use std::time::Duration;

use crate::{
    clock::unix_now,
    db::Database,
    store::{email_tokens, sessions},
};

const RETENTION_SECS: i64 = 24 * 60 * 60;
const INTERVAL: Duration = Duration::from_secs(60 * 60);

/// One sweep; returns how many sessions and email tokens were deleted.
pub async fn sweep(db: &Database) -> Result<(u64, u64), sqlx::Error> {
    let before = unix_now() - RETENTION_SECS;
    let sessions = sessions::delete_ended_before(db.pool(), before).await?;
    let tokens = email_tokens::delete_spent_before(db.pool(), before).await?;
    Ok((sessions, tokens))
}

/// Sweeps every hour in the background. With several instances each
/// sweeps; the deletes are idempotent.
pub fn spawn(db: Database) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(INTERVAL);
        loop {
            interval.tick().await;
            match sweep(&db).await {
                Ok((0, 0)) => {}
                Ok((sessions, tokens)) => {
                    tracing::info!(sessions, tokens, "deleted ended sessions and spent tokens")
                }
                Err(error) => tracing::warn!(%error, "housekeeping failed; will retry"),
            }
        }
    });
}
