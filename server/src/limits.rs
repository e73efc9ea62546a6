//! Rate limits on every endpoint that checks a credential or sends mail:
//! a token bucket per client IP and one per target (the address typed into
//! the form, or the signed-in account), each endpoint with buckets of its
//! own so that a burst of sign-ins does not spend the budget for
//! registrations. The target is whatever the caller typed, whether or not an
//! account has it, so a 429 never tells a known address from an unknown one.
//!
//! Buckets live in memory, per instance: they blunt floods cheaply. What
//! must hold across instances and restarts (failed sign-ins per account) is
//! counted in the database by [`crate::lockout`].

use std::{
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

use governor::{
    clock::{Clock as _, DefaultClock},
    DefaultKeyedRateLimiter, Quota,
};

use crate::{
    config::error::ConfigError,
    error::ApiError,
    metrics::{LimitScope, Metrics},
};

/// The endpoints that are limited, each with buckets of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Login,
    Register,
    ResendVerification,
    VerifyEmail,
    ForgotPassword,
    ResetPassword,
    ChangePassword,
    /// Asking to move an account to another address (mails that address).
    ChangeEmail,
    /// The two links of a change of address: confirm and undo.
    EmailChangeLink,
    Refresh,
}

impl Policy {
    pub const ALL: [Policy; 10] = [
        Self::Login,
        Self::Register,
        Self::ResendVerification,
        Self::VerifyEmail,
        Self::ForgotPassword,
        Self::ResetPassword,
        Self::ChangePassword,
        Self::ChangeEmail,
        Self::EmailChangeLink,
        Self::Refresh,
    ];

    /// The middle of the variable names: `RATE_LIMIT_{name}_PER_IP`.
    pub const fn variable_name(self) -> &'static str {
        match self {
            Self::Login => "LOGIN",
            Self::Register => "REGISTER",
            Self::ResendVerification => "RESEND_VERIFICATION",
            Self::VerifyEmail => "VERIFY_EMAIL",
            Self::ForgotPassword => "FORGOT_PASSWORD",
            Self::ResetPassword => "RESET_PASSWORD",
            Self::ChangePassword => "CHANGE_PASSWORD",
            Self::ChangeEmail => "CHANGE_EMAIL",
            Self::EmailChangeLink => "EMAIL_CHANGE_LINK",
            Self::Refresh => "REFRESH",
        }
    }

    /// Its name in metrics: `rate_limit_refusals_total{policy="login"}`.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Register => "register",
            Self::ResendVerification => "resend_verification",
            Self::VerifyEmail => "verify_email",
            Self::ForgotPassword => "forgot_password",
            Self::ResetPassword => "reset_password",
            Self::ChangePassword => "change_password",
            Self::ChangeEmail => "change_email",
            Self::EmailChangeLink => "email_change_link",
            Self::Refresh => "refresh",
        }
    }

    /// The defaults: (per client IP, per target). A person never meets
    /// them; a script does at once.
    fn defaults(self) -> (Option<Rate>, Option<Rate>) {
        const MINUTE: Duration = Duration::from_secs(60);
        const HOUR: Duration = Duration::from_secs(3600);
        let rate = |count, per| Some(Rate { count, per });
        match self {
            // Failed sign-ins per account are also counted for good by the
            // lockout; these buckets stop the flood before any hashing.
            Self::Login => (rate(30, MINUTE), rate(10, MINUTE)),
            Self::Register | Self::ResendVerification | Self::ForgotPassword => {
                (rate(20, HOUR), rate(5, HOUR))
            }
            // Links carry 256 random bits: nothing to guess per target.
            Self::VerifyEmail | Self::ResetPassword | Self::EmailChangeLink => {
                (rate(60, HOUR), None)
            }
            Self::ChangePassword | Self::ChangeEmail => (rate(30, HOUR), rate(10, HOUR)),
            // Every open tab renews about once per access-token lifetime.
            Self::Refresh => (rate(120, MINUTE), None),
        }
    }
}

/// `count` requests per `per`, all of which may come at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    /// Reads `10/min`, `5/hour`, `3/30s`; `off` means no limit.
    pub fn parse(value: &str) -> Result<Option<Self>, String> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let explain = || {
            format!("expected `<count>/<period>` such as `10/min`, `5/hour` or `3/30s`, or `off`; got `{value}`")
        };
        let (count, period) = value.split_once('/').ok_or_else(explain)?;
        let count: u32 = count.trim().parse().map_err(|_| explain())?;
        if count == 0 {
            return Err(explain());
        }
        let period = period.trim();
        let split = period
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(period.len());
        let (amount, unit) = period.split_at(split);
        let amount: u64 = if amount.is_empty() {
            1
        } else {
            amount.parse().map_err(|_| explain())?
        };
        let unit_secs = match unit {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            "d" | "day" => 86_400,
            _ => return Err(explain()),
        };
        let per = Duration::from_secs(amount.saturating_mul(unit_secs));
        if per.is_zero() || per > Duration::from_secs(86_400) {
            return Err(explain());
        }
        Ok(Some(Self { count, per }))
    }

    fn quota(self) -> Option<Quota> {
        let count = NonZeroU32::new(self.count)?;
        let period = self.per.checked_div(self.count)?;
        Some(Quota::with_period(period)?.allow_burst(count))
    }
}

/// The configured rates, per policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSettings {
    /// `RATE_LIMITS=off` turns every bucket off (benchmarks, load tests).
    pub enabled: bool,
    pub rates: Vec<(Policy, Option<Rate>, Option<Rate>)>,
}

impl LimitSettings {
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let enabled = match var("RATE_LIMITS").as_deref().map(str::trim) {
            None | Some("on") => true,
            Some("off") => false,
            Some(_) => {
                return Err(ConfigError::new(
                    "RATE_LIMITS",
                    "expected `on` (the default) or `off`",
                ))
            }
        };
        let mut rates = Vec::new();
        for policy in Policy::ALL {
            let (default_ip, default_target) = policy.defaults();
            let read = |suffix: &'static str, default: Option<Rate>| {
                let name = format!("RATE_LIMIT_{}_{suffix}", policy.variable_name());
                match var(&name) {
                    None => Ok(default),
                    Some(value) => Rate::parse(&value).map_err(|reason| ConfigError {
                        variable: leak(name),
                        reason,
                    }),
                }
            };
            rates.push((
                policy,
                read("PER_IP", default_ip)?,
                read("PER_TARGET", default_target)?,
            ));
        }
        Ok(Self { enabled, rates })
    }
}

/// Configuration errors name their variable with a `&'static str`; the few
/// built names are made once at start-up.
fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

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
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_target: Option<DefaultKeyedRateLimiter<String>>,
}

/// The buckets of this instance; cheap to clone.
#[derive(Clone)]
pub struct RateLimits {
    buckets: Option<Arc<Vec<Buckets>>>,
    /// Counts refusals per policy and bucket.
    metrics: Metrics,
}

impl RateLimits {
    pub fn new(settings: &LimitSettings, metrics: Metrics) -> Self {
        if !settings.enabled {
            return Self {
                buckets: None,
                metrics,
            };
        }
        let buckets = settings
            .rates
            .iter()
            .map(|(policy, per_ip, per_target)| Buckets {
                policy: *policy,
                per_ip: per_ip
                    .and_then(Rate::quota)
                    .map(DefaultKeyedRateLimiter::keyed),
                per_target: per_target
                    .and_then(Rate::quota)
                    .map(DefaultKeyedRateLimiter::keyed),
            })
            .collect();
        Self {
            buckets: Some(Arc::new(buckets)),
            metrics,
        }
    }

    /// Spends one request of `policy` for `ip` and, if given, `target`; a
    /// 429 `rate_limited` with `Retry-After` when either bucket is empty.
    pub fn check(&self, policy: Policy, ip: IpAddr, target: Option<&str>) -> Result<(), ApiError> {
        let Some(buckets) = self.buckets.as_deref() else {
            return Ok(());
        };
        let Some(buckets) = buckets.iter().find(|buckets| buckets.policy == policy) else {
            return Ok(());
        };
        let clock = DefaultClock::default();
        if let Some(limiter) = &buckets.per_ip {
            if let Err(not_until) = limiter.check_key(&ip_key(ip)) {
                self.metrics.rate_limited(policy, LimitScope::Ip);
                return Err(ApiError::rate_limited(
                    not_until.wait_time_from(clock.now()),
                ));
            }
        }
        if let (Some(limiter), Some(target)) = (&buckets.per_target, target) {
            let key = target.trim().to_lowercase();
            if let Err(not_until) = limiter.check_key(&key) {
                tracing::warn!(?policy, "rate limit reached for one target");
                self.metrics.rate_limited(policy, LimitScope::Target);
                return Err(ApiError::rate_limited(
                    not_until.wait_time_from(clock.now()),
                ));
            }
        }
        Ok(())
    }

    /// Forgets full buckets, so that memory follows the clients of the last
    /// minutes rather than every client ever seen.
    pub fn spawn_maintenance(&self) {
        let Some(buckets) = self.buckets.clone() else {
            return;
        };
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(60));
            loop {
                interval.tick().await;
                for bucket in buckets.iter() {
                    if let Some(limiter) = &bucket.per_ip {
                        limiter.retain_recent();
                        limiter.shrink_to_fit();
                    }
                    if let Some(limiter) = &bucket.per_target {
                        limiter.retain_recent();
                        limiter.shrink_to_fit();
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<LimitSettings, ConfigError> {
        let vars: HashMap<_, _> = vars.iter().copied().collect();
        LimitSettings::from_lookup(|name| vars.get(name).map(|value| value.to_string()))
    }

    #[test]
    fn rates_read_as_written() {
        let rate = |count, secs| {
            Ok(Some(Rate {
                count,
                per: Duration::from_secs(secs),
            }))
        };
        assert_eq!(Rate::parse("10/min"), rate(10, 60));
        assert_eq!(Rate::parse(" 5 / hour "), rate(5, 3600));
        assert_eq!(Rate::parse("3/30s"), rate(3, 30));
        assert_eq!(Rate::parse("off"), Ok(None));
        for bad in ["", "10", "0/min", "10/fortnight", "x/min", "10/0s", "5/2d"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_policy_has_variables_and_bad_ones_are_named() {
        let defaults = settings(&[]).unwrap();
        assert!(defaults.enabled);
        assert_eq!(defaults.rates.len(), Policy::ALL.len());
        let changed = settings(&[("RATE_LIMIT_LOGIN_PER_TARGET", "2/min")]).unwrap();
        assert!(changed.rates.contains(&(
            Policy::Login,
            Some(Rate {
                count: 30,
                per: Duration::from_secs(60)
            }),
            Some(Rate {
                count: 2,
                per: Duration::from_secs(60)
            })
        )));
        let error = settings(&[("RATE_LIMIT_REFRESH_PER_IP", "lots")]).unwrap_err();
        assert_eq!(error.variable, "RATE_LIMIT_REFRESH_PER_IP");
        assert!(!settings(&[("RATE_LIMITS", "off")]).unwrap().enabled);
        assert!(settings(&[("RATE_LIMITS", "maybe")]).is_err());
    }

    #[test]
    fn buckets_refuse_past_their_burst_per_ip_and_per_target() {
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
        assert!(limits.check(Policy::Login, alice, Some("a@x.test")).is_ok());
        assert!(limits
            .check(Policy::Login, alice, Some("A@x.test "))
            .is_ok());
        let refused = limits
            .check(Policy::Login, bob, Some("a@x.test"))
            .unwrap_err();
        assert_eq!(refused.code(), app::api::ProblemCode::RateLimited);
        // Alice's third request is her last this hour, whatever the target.
        assert!(limits.check(Policy::Login, alice, Some("b@x.test")).is_ok());
        assert!(limits
            .check(Policy::Login, alice, Some("c@x.test"))
            .is_err());
        // Other endpoints keep buckets of their own.
        assert!(limits.check(Policy::Register, alice, None).is_ok());
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(ip_key(one), ip_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ip_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn off_means_off() {
        let limits = RateLimits::new(
            &settings(&[("RATE_LIMITS", "off")]).unwrap(),
            Metrics::disabled(),
        );
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..1000 {
            assert!(limits.check(Policy::Login, ip, Some("a@x.test")).is_ok());
        }
    }
}
