//! The buckets every instance shares on PostgreSQL, one row each in
//! `rate_limit_buckets` (see [`crate::store::rate_limit_buckets`]): a
//! generic cell rate algorithm, so a bucket is one number, its theoretical
//! arrival time, and spending a token is one conditional upsert that reads
//! the database's clock (the instances' clocks may differ).

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{Policy, Rate};
use crate::{db::Database, metrics::LimitScope, store::rate_limit_buckets};

#[derive(Clone)]
pub(super) struct SharedBuckets {
    db: Database,
}

impl SharedBuckets {
    pub(super) fn new(db: Database) -> Self {
        Self { db }
    }

    /// Spends a token of the bucket `key` of `policy`'s `scope`, filled at
    /// `rate`: `Err(wait)` when it is empty.
    pub(super) async fn take(
        &self,
        policy: Policy,
        scope: LimitScope,
        key: &str,
        rate: Rate,
    ) -> Result<Result<(), Duration>, sqlx::Error> {
        let (interval, tolerance) = gcra(rate);
        rate_limit_buckets::take(
            self.db.pool(),
            &bucket_name(policy, scope, key),
            interval,
            tolerance,
        )
        .await
        .map(|taken| taken.map_err(|wait_ms| Duration::from_millis(wait_ms.max(0) as u64)))
    }
}

impl SharedBuckets {
    /// Deletes the buckets that are full again.
    pub(super) async fn forget_full(&self) -> Result<u64, sqlx::Error> {
        rate_limit_buckets::delete_full(self.db.pool()).await
    }
}

/// A rate as GCRA sees it, in milliseconds: the interval at which tokens
/// come back, and how far ahead of now the bucket may run (a full burst
/// of `count` tokens).
fn gcra(rate: Rate) -> (i64, i64) {
    let per = i64::try_from(rate.per.as_millis()).unwrap_or(i64::MAX);
    let interval = (per / i64::from(rate.count.max(1))).max(1);
    (interval, per - interval)
}

/// What a bucket is called in the table: no address typed into a form, no
/// client IP, is stored as it was.
fn bucket_name(policy: Policy, scope: LimitScope, key: &str) -> String {
    let digest = Sha256::digest(format!("{}\n{}\n{key}", policy.label(), scope.label()));
    hex::encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_count_fits_in_the_tolerance() {
        let rate = Rate {
            count: 30,
            per: Duration::from_secs(60),
        };
        // 30 tokens at once: the 30th leaves the bucket 29 intervals ahead.
        assert_eq!(gcra(rate), (2_000, 58_000));
        let one = Rate {
            count: 1,
            per: Duration::from_secs(3600),
        };
        assert_eq!(gcra(one), (3_600_000, 0));
    }

    #[test]
    fn names_are_distinct_per_policy_scope_and_key_and_hide_the_key() {
        let name = bucket_name(Policy::Login, LimitScope::Target, "a@x.test");
        assert_eq!(name.len(), 64);
        assert!(!name.contains("x.test"));
        assert_ne!(
            name,
            bucket_name(Policy::Register, LimitScope::Target, "a@x.test")
        );
        assert_ne!(name, bucket_name(Policy::Login, LimitScope::Ip, "a@x.test"));
        assert_ne!(
            name,
            bucket_name(Policy::Login, LimitScope::Target, "b@x.test")
        );
    }
}
