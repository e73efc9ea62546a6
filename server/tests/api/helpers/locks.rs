//! Races forced into one order: on PostgreSQL a test can see which
//! statements wait for a lock it holds, and let go only once they do.

use std::time::{Duration, Instant};

use super::{Backend, TestApp};

impl TestApp {
    /// On PostgreSQL, waits until `count` statements of this test's
    /// database wait for a lock; on SQLite, which shows no such thing,
    /// returns at once.
    pub async fn wait_for_lock_waiters(&self, backend: Backend, count: usize) {
        if backend != Backend::Postgres {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while self
            .count(
                "SELECT COUNT(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .await
            < i64::try_from(count).unwrap()
        {
            assert!(
                Instant::now() < deadline,
                "{count} statements never waited for a lock"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
