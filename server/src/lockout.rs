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
//!
//! Checking and counting are one statement: every try is counted as a
//! failure *before* its password is checked, by an upsert that refuses the
//! try while the key is locked and sets the lock itself when the count
//! reaches the threshold; the right password then clears the count. So a
//! burst of parallel guesses at the moment a lock ends gets one try, not
//! one per request that read "unlocked" before the others counted. A try
//! refused before its password is checked (no CPU left to hash it: 503)
//! is given back, with the lock it set, in one statement of its own.
//!
//! A browser that signed in to the account before carries a signed device
//! cookie ([`DeviceCookies`], OWASP's "device cookies"). Its sign-ins to
//! that account count toward the device's own key instead of the
//! address's, so an attacker who locks the address from elsewhere does not
//! lock its owner out of their own browser; a stolen device cookie is
//! locked on its own after the same number of failures. Per-IP rate limits
//! still apply to everyone.

use std::time::Duration;

use app::api::{values::normalize_email, ProblemCode};
use sqlx::AnyConnection;

use crate::{
    auth::{device_cookie::DeviceCookies, password::HashError},
    config::LockoutSettings,
    db::Database,
    error::{in_words, ApiError},
    store::sign_in_failures::{self, Failure},
};

/// Whether a sign-in may go ahead, and what follows from its outcome.
#[derive(Clone)]
pub struct Lockout {
    db: Database,
    settings: LockoutSettings,
    devices: DeviceCookies,
    /// The counting upsert, made once from the settings (see [`begin_sql`]).
    begin_sql: std::sync::Arc<str>,
}

/// Whose failures a sign-in counts toward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    /// The typed address, normalized: known or not, it is counted alike.
    pub fn address(typed_email: &str) -> Self {
        Self(normalize_email(typed_email))
    }

    fn device(id: &str) -> Self {
        Self(format!("device {id}"))
    }

    /// A signed-in session's re-authentications: counted apart, so that
    /// neither a lock of the address blocks its owner's session nor the
    /// session's failures lock the address.
    pub fn session(id: app::api::values::SessionId) -> Self {
        Self(format!("session {id}"))
    }

    pub fn is_device(&self) -> bool {
        self.0.starts_with("device ")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A try counted by [`Lockout::begin`], to settle with its outcome.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub key: Key,
    /// This try's failure, should the password be wrong.
    pub failure: Failure,
}

impl Lockout {
    pub fn new(db: Database, settings: LockoutSettings, devices: DeviceCookies) -> Self {
        let begin_sql = begin_sql(&settings).into();
        Self {
            db,
            settings,
            devices,
            begin_sql,
        }
    }

    pub fn settings(&self) -> LockoutSettings {
        self.settings
    }

    pub fn devices(&self) -> &DeviceCookies {
        &self.devices
    }

    /// The key a sign-in for `typed_email` counts toward: the device's own
    /// when `device_cookie` is a valid one issued to this address, the
    /// address's otherwise.
    pub fn key(&self, typed_email: &str, device_cookie: Option<&str>) -> Key {
        device_cookie
            .and_then(|cookie| self.devices.verify(cookie, typed_email))
            .map_or_else(|| Key::address(typed_email), |id| Key::device(&id))
    }

    /// Counts this try as a failure before its password is checked, in one
    /// statement that refuses it (429 `sign_in_locked`) while the key is
    /// locked, and locks the key itself once the count reaches the
    /// threshold. Run on `db` so the caller can ask its other questions on
    /// the same connection.
    pub async fn begin(
        &self,
        db: &mut AnyConnection,
        key: Key,
        now: i64,
    ) -> Result<Attempt, ApiError> {
        let quiet_since = now - self.settings.window.as_secs() as i64;
        let first_lock = self
            .settings
            .delay_after(1)
            .map(|delay| now + delay.as_secs() as i64);
        let counted: Option<(i64, Option<i64>)> = sqlx::query_as(&self.begin_sql)
            .bind(key.as_str())
            .bind(now)
            .bind(first_lock)
            .bind(quiet_since)
            .bind(quiet_since)
            .bind(now)
            .bind(quiet_since)
            .bind(quiet_since)
            .bind(now)
            .bind(quiet_since)
            .bind(quiet_since)
            .bind(now)
            .fetch_optional(&mut *db)
            .await?;
        match counted {
            Some((failures, locked_until)) => Ok(Attempt {
                failure: Failure {
                    failures,
                    locked_until: locked_until
                        .filter(|_| self.settings.delay_after(failures).is_some()),
                },
                key,
            }),
            None => {
                let until = sign_in_failures::locked_until(&mut *db, key.as_str())
                    .await?
                    .unwrap_or(now + 1);
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
        }
    }

    /// `checked`, the outcome of checking the try's password, as it is;
    /// but a try refused before its password was checked (the hashing
    /// queue was full: 503 `overloaded`) is given back first, so that a
    /// server short of CPU does not lock its users out. Nothing was learned
    /// of the password, so the try buys a guesser nothing.
    pub async fn unless_refused<T>(
        &self,
        attempt: &Attempt,
        checked: Result<T, HashError>,
    ) -> Result<T, ApiError> {
        if matches!(checked, Err(HashError::Overloaded)) {
            sign_in_failures::give_back(
                self.db.pool(),
                attempt.key.as_str(),
                attempt.failure.locked_until,
            )
            .await?;
        }
        Ok(checked?)
    }

    /// The right password: the count starts over.
    pub async fn succeeded(&self, attempt: &Attempt) -> Result<(), sqlx::Error> {
        sign_in_failures::clear(self.db.pool(), attempt.key.as_str()).await
    }
}

/// The upsert of [`Lockout::begin`]. The count restarts at 1 after a quiet
/// spell (no failure and no lock since `$4`); the lock, when the new count
/// reaches the threshold, lasts the delay for that count, written out as a
/// table of the settings' doublings so that the statement needs no power
/// function (which SQLite lacks). The conflict branch runs only while the
/// key is not locked: a locked key returns no row.
fn begin_sql(settings: &LockoutSettings) -> String {
    let threshold = settings.threshold;
    let mut delays = String::from("CASE (F) - THRESHOLD");
    let mut step = 0;
    while let Some(delay) = settings.delay_after(threshold + step) {
        delays.push_str(&format!(" WHEN {step} THEN {}", delay.as_secs()));
        if delay >= settings.max_delay || step > 64 {
            break;
        }
        step += 1;
    }
    delays.push_str(&format!(" ELSE {} END", settings.max_delay.as_secs()));
    let count = |quiet: &str, lock_quiet: &str| {
        format!(
            "(CASE WHEN sign_in_failures.last_failed_at < {quiet} \
                   AND (sign_in_failures.locked_until IS NULL \
                        OR sign_in_failures.locked_until < {lock_quiet}) \
              THEN 1 ELSE sign_in_failures.failures + 1 END)"
        )
    };
    let delays = delays
        .replace("(F)", &count("$7", "$8"))
        .replace("THRESHOLD", &threshold.to_string());
    format!(
        "INSERT INTO sign_in_failures (email, failures, last_failed_at, locked_until) \
         VALUES ($1, 1, $2, $3) \
         ON CONFLICT (email) DO UPDATE SET \
           failures = {count_a}, \
           last_failed_at = $6, \
           locked_until = CASE WHEN {count_b} >= {threshold} \
                               THEN $9 + {delays} \
                               ELSE sign_in_failures.locked_until END \
         WHERE sign_in_failures.locked_until IS NULL OR sign_in_failures.locked_until <= $12 \
         RETURNING failures, locked_until",
        count_a = count("$4", "$5"),
        count_b = count("$10", "$11"),
    )
}
