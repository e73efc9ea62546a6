//! Configuration, read once at start-up from the environment (and from a
//! `.env` file in development). A bad value stops the server with a message
//! that names the variable, rather than surfacing later as a strange failure.

use std::{fmt, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use ipnet::IpNet;
use url::Url;

pub mod error;
mod lockout;
mod mail;
mod production;
pub mod rate_limits;
mod values;
pub use error::ConfigError;
pub use lockout::LockoutSettings;
pub use mail::MailSettings;
pub use rate_limits::LimitSettings;
use values::{check_jwt_secret, parse_app_url, parse_network, parse_origin, validate_database_url};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

impl Environment {
    pub fn is_development(self) -> bool {
        self == Self::Development
    }
}

impl FromStr for Environment {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Self::Development),
            "production" | "prod" => Ok(Self::Production),
            other => Err(format!(
                "expected `development` or `production`, got `{other}`"
            )),
        }
    }
}

/// Everything the server needs to know about its surroundings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    /// The public URL of the web app; links in emails point here and its
    /// origin is the one browsers are trusted from.
    pub app_url: Url,
    pub database_url: String,
    /// Where the default SQLite database and other local state live.
    pub data_dir: PathBuf,
    pub site_addr: SocketAddr,
    /// Where `GET /metrics` is served (`METRICS_ADDR`), apart from the
    /// public port; unset, no metrics are kept.
    pub metrics_addr: Option<SocketAddr>,
    pub jwt_secret: JwtSecretSource,
    /// The key that encrypts authenticator-app secrets at rest
    /// (`TOTP_ENCRYPTION_KEY`, 32 bytes in base64). Without it, development
    /// derives one from the signing secret; production then offers no
    /// second factor, and refuses to start if an account has one.
    pub totp_key: Option<EncryptionKey>,
    pub access_token_ttl: Duration,
    /// A session's absolute lifetime; rotation never extends it.
    pub refresh_token_ttl: Duration,
    /// How long an already-rotated refresh token is still honoured, for tabs
    /// of one browser racing on one cookie jar.
    pub refresh_reuse_grace: Duration,
    /// How recently the user must have proved who they are for a sensitive
    /// action (`REAUTH_MAX_AGE_SECS`).
    pub reauth_max_age: Duration,
    /// The absolute lifetime of a session opened without "keep me signed in".
    pub session_ttl: Duration,
    /// A session unused (no sign-in, no renewal) this long ends.
    pub session_idle_timeout: Duration,
    /// At most this many live sessions per account
    /// (`MAX_SESSIONS_PER_USER`); opening one more ends the least recently
    /// used.
    pub max_sessions_per_user: u32,
    /// Origins, besides the app's own, allowed to call refresh and logout.
    pub allowed_origins: Vec<String>,
    pub mail: MailSettings,
    /// Proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`);
    /// without any, the client is the socket's peer.
    pub trusted_proxies: Vec<IpNet>,
    pub limits: LimitSettings,
    pub lockout: LockoutSettings,
    /// Password hashes that may wait for a core before new ones are refused
    /// with 503 `overloaded`.
    pub hash_queue: usize,
    /// The share of a core each busy hashing thread is guaranteed when
    /// requests keep the CPU busy (`PASSWORD_HASH_CPU_SHARE`; 0: idle time
    /// only).
    pub hash_cpu_share: f64,
    /// A client must send a request's headers within this time.
    pub header_read_timeout: Duration,
    /// A request still unanswered after this gets a 503.
    pub request_timeout: Duration,
}

/// A 32-byte key; never printed.
#[derive(Clone)]
pub struct EncryptionKey(pub [u8; 32]);

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("EncryptionKey(…)")
    }
}

/// Where the key that signs access tokens comes from.
#[derive(Clone)]

pub enum JwtSecretSource {
    /// `JWT_SECRET`, already checked to be long and varied enough.
    Provided(Vec<u8>),
    /// Development without `JWT_SECRET`: a random key kept in the data
    /// directory, so that restarts keep sessions valid.
    GeneratedInDataDir,
}

impl fmt::Debug for JwtSecretSource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Provided(_) => formatter.write_str("Provided([redacted])"),
            Self::GeneratedInDataDir => formatter.write_str("GeneratedInDataDir"),
        }
    }
}

const DEFAULT_APP_URL: &str = "http://127.0.0.1:3000";
const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";
const DEFAULT_DATA_DIR: &str = "data";
const DEFAULT_ACCESS_TOKEN_TTL_SECS: u64 = 15 * 60;
const DEFAULT_REFRESH_TOKEN_TTL_SECS: u64 = 30 * 24 * 60 * 60;
const DEFAULT_REFRESH_REUSE_GRACE_SECS: u64 = 10;
const DEFAULT_SESSION_TTL_SECS: u64 = 12 * 60 * 60;
const DEFAULT_SESSION_IDLE_TIMEOUT_SECS: u64 = 7 * 24 * 60 * 60;
/// Enough for every browser and device a person uses, and a bound on what
/// a script signing in again and again can pile up.
const DEFAULT_MAX_SESSIONS_PER_USER: u32 = 50;
/// Password hashes waiting for a core, beyond those running; at ~30 ms a
/// hash on two cores, the last in line waits about a quarter of a second.
const DEFAULT_HASH_QUEUE: usize = 16;
/// Off: measured on one core (2026-12-07), a share of 0.42 kept sign-ins
/// going under read saturation (0.39–0.41 of their rate alone, none past
/// 5 s, instead of none at all), but the reads, which then have the rest of
/// the core, answered 2.3–3.6× slower at p99, and 1.8–3.0× during a login
/// flood (README, Benchmarks). Operators who would rather keep sign-ins
/// alive set it.
const DEFAULT_HASH_CPU_SHARE: f64 = 0.0;
const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;
/// HS256 keys shorter than the hash output weaken the signature.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl Settings {
    /// Reads the process environment, after loading `.env` if there is one.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is the normal case in production.
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds settings from any source of variables, so tests need not touch
    /// the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let environment = match var("APP_ENV") {
            Some(value) => value
                .parse()
                .map_err(|reason| ConfigError::new("APP_ENV", reason))?,
            // Safe unless told otherwise: the development tools (the
            // mailbox with live links) must never be on by accident.
            None => Environment::Production,
        };

        let app_url_given = var("APP_URL").is_some();
        let app_url = parse_app_url(&var("APP_URL").unwrap_or_else(|| DEFAULT_APP_URL.into()))?;

        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.into()));

        let database_url = match var("DATABASE_URL") {
            Some(url) => validate_database_url(url)?,
            None => format!("sqlite://{}?mode=rwc", data_dir.join("app.db").display()),
        };

        let site_addr = var("LEPTOS_SITE_ADDR")
            .unwrap_or_else(|| DEFAULT_SITE_ADDR.into())
            .parse()
            .map_err(|_| {
                ConfigError::new(
                    "LEPTOS_SITE_ADDR",
                    "expected an address such as 127.0.0.1:3000",
                )
            })?;

        let metrics_addr = var("METRICS_ADDR")
            .map(|value| values::parse_metrics_addr(&value, site_addr))
            .transpose()?;

        let totp_key =
            match var("TOTP_ENCRYPTION_KEY") {
                Some(key) => Some(values::parse_key_32(&key).map(EncryptionKey).ok_or_else(
                    || {
                        ConfigError::new(
                            "TOTP_ENCRYPTION_KEY",
                            "expected 32 random bytes in base64 (e.g. `openssl rand -base64 32`)",
                        )
                    },
                )?),
                None => None,
            };
        let jwt_secret = match var("JWT_SECRET") {
            Some(secret) => JwtSecretSource::Provided(check_jwt_secret(secret)?),
            None if environment.is_development() => JwtSecretSource::GeneratedInDataDir,
            None => {
                return Err(ConfigError::new(
                    "JWT_SECRET",
                    "is required in production (at least 32 random bytes, e.g. `openssl rand -base64 48`)",
                ))
            }
        };

        let seconds = |name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| {
            let Some(value) = var(name) else {
                return Ok(Duration::from_secs(default));
            };
            match value.trim().parse::<u64>() {
                Ok(secs) if range.contains(&secs) => Ok(Duration::from_secs(secs)),
                _ => Err(ConfigError::new(
                    name,
                    format!(
                        "expected a whole number of seconds from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )),
            }
        };
        let access_token_ttl = seconds(
            "ACCESS_TOKEN_TTL_SECS",
            DEFAULT_ACCESS_TOKEN_TTL_SECS,
            1..=24 * 60 * 60,
        )?;
        let refresh_token_ttl = seconds(
            "REFRESH_TOKEN_TTL_SECS",
            DEFAULT_REFRESH_TOKEN_TTL_SECS,
            60..=365 * 24 * 60 * 60,
        )?;
        let refresh_reuse_grace = seconds(
            "REFRESH_REUSE_GRACE_SECS",
            DEFAULT_REFRESH_REUSE_GRACE_SECS,
            0..=300,
        )?;
        let reauth_max_age = seconds("REAUTH_MAX_AGE_SECS", 300, 1..=86_400)?;
        let session_ttl = seconds(
            "SESSION_TTL_SECS",
            DEFAULT_SESSION_TTL_SECS,
            60..=365 * 24 * 60 * 60,
        )?;
        let session_idle_timeout = seconds(
            "SESSION_IDLE_TIMEOUT_SECS",
            DEFAULT_SESSION_IDLE_TIMEOUT_SECS,
            60..=365 * 24 * 60 * 60,
        )?;
        let max_sessions_per_user = match var("MAX_SESSIONS_PER_USER") {
            Some(value) => match value.trim().parse::<u32>() {
                Ok(limit) if (1..=10_000).contains(&limit) => limit,
                _ => {
                    return Err(ConfigError::new(
                        "MAX_SESSIONS_PER_USER",
                        "expected a whole number of sessions from 1 to 10000",
                    ))
                }
            },
            None => DEFAULT_MAX_SESSIONS_PER_USER,
        };

        let allowed_origins = match var("ALLOWED_ORIGINS") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(parse_origin)
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };

        let mail = MailSettings::from_lookup(var, environment, &data_dir)?;

        let trusted_proxies = match var("TRUSTED_PROXIES") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(parse_network)
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let limits = LimitSettings::from_lookup(var)?;
        let lockout = LockoutSettings::from_lookup(var)?;
        let hash_queue = match var("PASSWORD_HASH_QUEUE") {
            None => DEFAULT_HASH_QUEUE,
            Some(value) => value
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|queue| (1..=10_000).contains(queue))
                .ok_or_else(|| {
                    ConfigError::new(
                        "PASSWORD_HASH_QUEUE",
                        "expected a whole number from 1 to 10000",
                    )
                })?,
        };
        let hash_cpu_share = match var("PASSWORD_HASH_CPU_SHARE") {
            None => DEFAULT_HASH_CPU_SHARE,
            Some(value) => value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|share| (0.0..=1.0).contains(share))
                .ok_or_else(|| {
                    ConfigError::new(
                        "PASSWORD_HASH_CPU_SHARE",
                        "expected a number from 0 (idle time only) to 1 (a whole core)",
                    )
                })?,
        };
        let header_read_timeout = seconds(
            "HEADER_READ_TIMEOUT_SECS",
            DEFAULT_HEADER_READ_TIMEOUT_SECS,
            1..=300,
        )?;
        let request_timeout = seconds(
            "REQUEST_TIMEOUT_SECS",
            DEFAULT_REQUEST_TIMEOUT_SECS,
            1..=600,
        )?;

        let settings = Self {
            environment,
            app_url,
            database_url,
            data_dir,
            site_addr,
            metrics_addr,
            jwt_secret,
            totp_key,
            access_token_ttl,
            refresh_token_ttl,
            refresh_reuse_grace,
            reauth_max_age,
            session_ttl,
            session_idle_timeout,
            max_sessions_per_user,
            allowed_origins,
            mail,
            trusted_proxies,
            limits,
            lockout,
            hash_queue,
            hash_cpu_share,
            header_read_timeout,
            request_timeout,
        };
        if !environment.is_development() {
            production::refuse_unsafe(&settings, app_url_given)?;
        }
        Ok(settings)
    }

    /// The absolute URL of a page of the app, e.g. `/verify-email`, under
    /// `APP_URL` even when that has a path of its own.
    pub fn page_url(&self, page: &str) -> Url {
        let mut base = self.app_url.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.join(page.trim_start_matches('/'))
            .unwrap_or_else(|_| self.app_url.clone())
    }

    /// The origin (scheme, host and port) of [`Settings::app_url`].
    pub fn app_origin(&self) -> String {
        self.app_url.origin().ascii_serialization()
    }
}

#[cfg(test)]
mod tests;
