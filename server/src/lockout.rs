//! Sign-in lockout: failed sign-ins are counted per typed address in the
//! database, so the count holds on every instance and across restarts.
//! After `threshold` failures in a row (none more than `window` apart),
//! the address waits `delay` before the next try, doubling with each
//! further failure up to `max_delay`. The owner is never locked out for
//! good: the right password after the wait works, and a password reset
//! clears the count.
//!
//! Unknown addresses are counted and locked exactly like known ones, so a
//! lockout tells nothing about which addresses have accounts.

use std::time::Duration;

use app::api::{values::normalize_email, ProblemCode};
use sqlx::{Any, Executor};

use crate::{
    config::error::ConfigError,
    db::Database,
    error::{in_words, ApiError},
    store::sign_in_failures,
};

/// What [`Lockout::ensure_unlocked`] found for an address it let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlocked {
    /// No failures on record.
    Clean,
    /// Failures on record (and perhaps a lock that has ended).
    WithFailures,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutSettings {
    /// Failures in a row after which the address must wait.
    pub threshold: i64,
    /// A quiet spell this long (after the last failure and any lock) starts
    /// the count again.
    pub window: Duration,
    /// The first wait; each further failure doubles it.
    pub delay: Duration,
    pub max_delay: Duration,
}

impl LockoutSettings {
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| {
            match var(name) {
                None => Ok(default),
                Some(value) => match value.trim().parse::<u64>() {
                    Ok(number) if range.contains(&number) => Ok(number),
                    _ => Err(ConfigError::new(
                        name,
                        format!(
                            "expected a whole number from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    )),
                },
            }
        };
        let settings = Self {
            threshold: number("LOCKOUT_THRESHOLD", 10, 1..=1000)? as i64,
            window: Duration::from_secs(number("LOCKOUT_WINDOW_SECS", 15 * 60, 1..=86_400)?),
            delay: Duration::from_secs(number("LOCKOUT_DELAY_SECS", 60, 1..=86_400)?),
            max_delay: Duration::from_secs(number(
                "LOCKOUT_MAX_DELAY_SECS",
                60 * 60,
                1..=7 * 86_400,
            )?),
        };
        if settings.max_delay < settings.delay {
            return Err(ConfigError::new(
                "LOCKOUT_MAX_DELAY_SECS",
                "must not be shorter than LOCKOUT_DELAY_SECS",
            ));
        }
        Ok(settings)
    }

    /// The wait after `failures` failures in a row, if any.
    pub fn delay_after(&self, failures: i64) -> Option<Duration> {
        let beyond = failures.checked_sub(self.threshold)?;
        if beyond < 0 {
            return None;
        }
        let factor = 1u32
            .checked_shl(u32::try_from(beyond).unwrap_or(u32::MAX))
            .unwrap_or(u32::MAX);
        Some(
            self.delay
                .checked_mul(factor)
                .map_or(self.max_delay, |delay| delay.min(self.max_delay)),
        )
    }
}

/// Whether a sign-in may go ahead, and what follows from its outcome.
#[derive(Clone)]
pub struct Lockout {
    db: Database,
    settings: LockoutSettings,
}

/// What a failure led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub failures: i64,
    /// Set when this failure locked the address, until then.
    pub locked_until: Option<i64>,
}

impl Lockout {
    pub fn new(db: Database, settings: LockoutSettings) -> Self {
        Self { db, settings }
    }

    pub fn settings(&self) -> LockoutSettings {
        self.settings
    }

    /// 429 `sign_in_locked` while the address waits; checked before any
    /// password is hashed, on `db`, so that the caller can ask its
    /// other questions on the same connection.
    pub async fn ensure_unlocked<'e>(
        &self,
        db: impl Executor<'e, Database = Any>,
        typed_email: &str,
        now: i64,
    ) -> Result<Unlocked, ApiError> {
        let key = normalize_email(typed_email);
        match sign_in_failures::record_of(db, &key).await? {
            None => Ok(Unlocked::Clean),
            Some(Some(until)) if until > now => {
                let wait = u64::try_from(until - now).unwrap_or(1).max(1);
                Err(ApiError::retry_later(
                    ProblemCode::SignInLocked,
                    format!(
                        "Too many failed sign-ins for this address. Try again in {}, \
                         or reset your password.",
                        in_words(wait)
                    ),
                    Duration::from_secs(wait),
                ))
            }
            Some(_) => Ok(Unlocked::WithFailures),
        }
    }

    /// Counts a wrong password (or an unknown address) and locks the
    /// address once the count reaches the threshold.
    pub async fn failed(&self, typed_email: &str, now: i64) -> Result<Failure, sqlx::Error> {
        let key = normalize_email(typed_email);
        let quiet_since = now - self.settings.window.as_secs() as i64;
        let failures = sign_in_failures::record(self.db.pool(), &key, now, quiet_since).await?;
        let locked_until = match self.settings.delay_after(failures) {
            Some(delay) => {
                let until = now + delay.as_secs() as i64;
                sign_in_failures::lock(self.db.pool(), &key, until).await?;
                Some(until)
            }
            None => None,
        };
        Ok(Failure {
            failures,
            locked_until,
        })
    }

    /// The right password, or a reset: the count starts over. A sign-in
    /// passes what [`ensure_unlocked`](Self::ensure_unlocked) found, and an
    /// address with nothing on record costs no statement.
    pub async fn cleared(&self, email: &str, found: Unlocked) -> Result<(), sqlx::Error> {
        if found == Unlocked::Clean {
            return Ok(());
        }
        sign_in_failures::clear(self.db.pool(), &normalize_email(email)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LockoutSettings {
        LockoutSettings::from_lookup(|_| None).unwrap()
    }

    #[test]
    fn waits_start_at_the_threshold_and_double_up_to_the_cap() {
        let settings = settings();
        assert_eq!(settings.threshold, 10);
        assert_eq!(settings.delay_after(9), None);
        assert_eq!(settings.delay_after(10), Some(Duration::from_secs(60)));
        assert_eq!(settings.delay_after(11), Some(Duration::from_secs(120)));
        assert_eq!(settings.delay_after(13), Some(Duration::from_secs(480)));
        assert_eq!(settings.delay_after(16), Some(Duration::from_secs(3600)));
        assert_eq!(settings.delay_after(500), Some(Duration::from_secs(3600)));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("LOCKOUT_THRESHOLD", "0"),
            ("LOCKOUT_WINDOW_SECS", "soon"),
            ("LOCKOUT_MAX_DELAY_SECS", "5"),
        ] {
            let error = LockoutSettings::from_lookup(|variable| {
                (variable == name).then(|| value.to_owned())
            })
            .unwrap_err();
            assert_eq!(error.variable, name);
        }
    }
}
