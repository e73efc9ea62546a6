//! The lockout's settings (`LOCKOUT_*`): how many failed sign-ins in a
//! row lock an address, for how long, and when the count starts again.
//! What they do is `crate::lockout`'s.

use std::time::Duration;

use super::error::ConfigError;

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
