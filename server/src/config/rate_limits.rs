//! The rate limits' settings: the endpoints that are limited, by name (what
//! the variables, the metrics and the buckets call them), and their rates,
//! `RATE_LIMIT_{POLICY}_PER_IP` and `_PER_TARGET`, each `<count>/<period>`
//! or `off`, and `RATE_LIMITS=off` for all. Here with the rest of the
//! configuration, so that the metrics name a policy, and the configuration
//! reads the rates, without depending on the buckets (`crate::limits`).

use std::{num::NonZeroU32, time::Duration};

use governor::Quota;

use super::error::ConfigError;

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
    /// Passkey ceremonies: their options, and the answers (signatures, so
    /// nothing to guess, but each costs a verification).
    Passkey,
}

impl Policy {
    pub const ALL: [Policy; 11] = [
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
        Self::Passkey,
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
            Self::Passkey => "PASSKEY",
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
            Self::Passkey => "passkey",
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

    pub(crate) fn quota(self) -> Option<Quota> {
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

impl Policy {
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
            // The sign-in page asks for options as it opens (for autofill).
            Self::Passkey => (rate(60, MINUTE), None),
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

/// Settings read from `vars` alone, for tests.
#[cfg(test)]
pub(crate) fn settings_from(vars: &[(&str, &str)]) -> Result<LimitSettings, ConfigError> {
    let vars: std::collections::HashMap<_, _> = vars.iter().copied().collect();
    LimitSettings::from_lookup(|name| vars.get(name).map(|value| value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::{settings_from as settings, *};

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
}
