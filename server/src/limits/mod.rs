//! Rate limits on every endpoint that checks a credential or sends mail:
//! a token bucket per client IP and one per target (the address typed into
//! the form, or the signed-in account), each endpoint with buckets of its
//! own so that a burst of sign-ins does not spend the budget for
//! registrations. The target is whatever the caller typed, whether or not an
//! account has it, so a 429 never tells a known address from an unknown one.
//!
//! Every instance keeps its buckets in memory: they blunt floods cheaply,
//! before any database work. On PostgreSQL, where several instances serve
//! one database behind a load balancer, each request that the memory lets
//! through then spends a token of a bucket in the database too
//! ([`shared`]), so that two instances allow what one would, not twice as
//! much. On SQLite (one instance) memory is all there is. What must also
//! hold across restarts (failed sign-ins per account) is counted for good
//! by [`crate::lockout`].
//!
//! What an attacker may try, and what answers it:
//! - Spread a burst over the instances (the load balancer's round robin
//!   does it for free): the shared bucket counts them all, in one
//!   conditional statement per bucket, so parallel requests on different
//!   instances cannot both take its last token.
//! - Wait for the moment a bucket refills and burst: the bucket refills one
//!   token per interval (GCRA), never all at once.
//! - Learn which addresses were typed from the database: a shared bucket is
//!   named by a SHA-256 of its policy, scope and key.

mod shared;

use std::{
    net::{IpAddr, Ipv6Addr},
    sync::Arc,
    time::Duration,
};

use governor::{
    clock::{Clock as _, DefaultClock},
    DefaultKeyedRateLimiter,
};

use shared::SharedBuckets;

pub use crate::config::rate_limits::{LimitSettings, Policy, Rate};
use crate::{
    db::{Backend, Database},
    error::ApiError,
    metrics::{LimitScope, Metrics},
};

/// IPv6 clients are limited per /64: one subscriber usually holds a whole
/// one, and would otherwise have 2^64 buckets.
fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(Ipv6Addr::new(
                    segments[0],
                    segments[1],
                    segments[2],
                    segments[3],
                    0,
                    0,
                    0,
                    0,
                ))
            }
        },
    }
}

struct Buckets {
    policy: Policy,
    per_ip: Option<(DefaultKeyedRateLimiter<IpAddr>, Rate)>,
    per_target: Option<(DefaultKeyedRateLimiter<String>, Rate)>,
}

/// An in-memory bucket at `rate`, unless the rate is off.
fn bucket<K: Clone + std::hash::Hash + Eq>(
    rate: &Option<Rate>,
) -> Option<(DefaultKeyedRateLimiter<K>, Rate)> {
    rate.and_then(|rate| {
        rate.quota()
            .map(|quota| (DefaultKeyedRateLimiter::keyed(quota), rate))
    })
}

/// The buckets of this instance, and the shared ones; cheap to clone.
#[derive(Clone)]
pub struct RateLimits {
    buckets: Option<Arc<Vec<Buckets>>>,
    /// On PostgreSQL: the buckets every instance shares.
    shared: Option<SharedBuckets>,
    /// Counts refusals per policy and bucket.
    metrics: Metrics,
}

impl RateLimits {
    pub fn new(settings: &LimitSettings, metrics: Metrics) -> Self {
        if !settings.enabled {
            return Self {
                buckets: None,
                shared: None,
                metrics,
            };
        }
        let buckets = settings
            .rates
            .iter()
            .map(|(policy, per_ip, per_target)| Buckets {
                policy: *policy,
                per_ip: bucket(per_ip),
                per_target: bucket(per_target),
            })
            .collect();
        Self {
            buckets: Some(Arc::new(buckets)),
            shared: None,
            metrics,
        }
    }

    /// Shares the buckets with every instance on the same database, when
    /// that is PostgreSQL (SQLite has one instance).
    pub fn shared_in(mut self, db: &Database) -> Self {
        if self.buckets.is_some() && db.backend() == Backend::Postgres {
            self.shared = Some(SharedBuckets::new(db.clone()));
        }
        self
    }

    /// Spends one request of `policy` for `ip` and, if given, `target`; a
    /// 429 `rate_limited` with `Retry-After` when either bucket is empty.
    pub async fn check(
        &self,
        policy: Policy,
        ip: IpAddr,
        target: Option<&str>,
    ) -> Result<(), ApiError> {
        let Some(buckets) = self.buckets.as_deref() else {
            return Ok(());
        };
        let Some(buckets) = buckets.iter().find(|buckets| buckets.policy == policy) else {
            return Ok(());
        };
        let ip = ip_key(ip);
        let target = target.map(|target| target.trim().to_lowercase());
        let clock = DefaultClock::default();
        if let Some((limiter, _)) = &buckets.per_ip {
            if let Err(not_until) = limiter.check_key(&ip) {
                return Err(self.refuse(
                    policy,
                    LimitScope::Ip,
                    not_until.wait_time_from(clock.now()),
                ));
            }
        }
        if let (Some((limiter, _)), Some(target)) = (&buckets.per_target, &target) {
            if let Err(not_until) = limiter.check_key(target) {
                return Err(self.refuse(
                    policy,
                    LimitScope::Target,
                    not_until.wait_time_from(clock.now()),
                ));
            }
        }
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        if let Some((_, rate)) = &buckets.per_ip {
            if let Err(wait) = shared
                .take(policy, LimitScope::Ip, &ip.to_string(), *rate)
                .await?
            {
                return Err(self.refuse(policy, LimitScope::Ip, wait));
            }
        }
        if let (Some((_, rate)), Some(target)) = (&buckets.per_target, &target) {
            if let Err(wait) = shared
                .take(policy, LimitScope::Target, target, *rate)
                .await?
            {
                return Err(self.refuse(policy, LimitScope::Target, wait));
            }
        }
        Ok(())
    }

    fn refuse(&self, policy: Policy, scope: LimitScope, wait: Duration) -> ApiError {
        if scope == LimitScope::Target {
            tracing::warn!(?policy, "rate limit reached for one target");
        }
        self.metrics.rate_limited(policy, scope);
        ApiError::rate_limited(wait)
    }

    /// Forgets full buckets every minute, so that memory (and the shared
    /// table) follows the clients of the last minutes rather than every
    /// client ever seen. With several instances each does it; deleting a
    /// full bucket is idempotent.
    pub fn spawn_maintenance(&self) {
        let Some(buckets) = self.buckets.clone() else {
            return;
        };
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(60));
            loop {
                interval.tick().await;
                for bucket in buckets.iter() {
                    if let Some((limiter, _)) = &bucket.per_ip {
                        limiter.retain_recent();
                        limiter.shrink_to_fit();
                    }
                    if let Some((limiter, _)) = &bucket.per_target {
                        limiter.retain_recent();
                        limiter.shrink_to_fit();
                    }
                }
                if let Some(shared) = &shared {
                    if let Err(error) = shared.forget_full().await {
                        tracing::warn!(%error, "could not delete the full shared buckets; will retry");
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::rate_limits::settings_from as settings;

    #[tokio::test]
    async fn buckets_refuse_past_their_burst_per_ip_and_per_target() {
        let limits = RateLimits::new(
            &settings(&[
                ("RATE_LIMIT_LOGIN_PER_IP", "3/hour"),
                ("RATE_LIMIT_LOGIN_PER_TARGET", "2/hour"),
            ])
            .unwrap(),
            Metrics::disabled(),
        );
        let alice: IpAddr = "192.0.2.1".parse().unwrap();
        let bob: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limits
            .check(Policy::Login, alice, Some("a@x.test"))
            .await
            .is_ok());
        assert!(limits
            .check(Policy::Login, alice, Some("A@x.test "))
            .await
            .is_ok());
        let refused = limits
            .check(Policy::Login, bob, Some("a@x.test"))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), app::api::ProblemCode::RateLimited);
        // Alice's third request is her last this hour, whatever the target.
        assert!(limits
            .check(Policy::Login, alice, Some("b@x.test"))
            .await
            .is_ok());
        assert!(limits
            .check(Policy::Login, alice, Some("c@x.test"))
            .await
            .is_err());
        // Other endpoints keep buckets of their own.
        assert!(limits.check(Policy::Register, alice, None).await.is_ok());
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(ip_key(one), ip_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ip_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[tokio::test]
    async fn off_means_off() {
        let limits = RateLimits::new(
            &settings(&[("RATE_LIMITS", "off")]).unwrap(),
            Metrics::disabled(),
        );
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..1000 {
            assert!(limits
                .check(Policy::Login, ip, Some("a@x.test"))
                .await
                .is_ok());
        }
    }
}
