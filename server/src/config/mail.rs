//! Where mail goes (an SMTP relay, or `.eml` files on purpose), from whom,
//! and how much of it an address may get in an hour. Production refuses to
//! start without a relay unless files were asked for: mail that silently
//! goes nowhere would leave every sign-up unverifiable. Production also
//! refuses a relay reached without TLS (lettre sends a plain `smtp://` in
//! the clear, and `tls=opportunistic` can be stripped on the way; either
//! would show the relay's password and every link), unless it is on this
//! machine.

use std::path::{Path, PathBuf};

use url::Url;

use super::{values::is_loopback, ConfigError, Environment};

const DEFAULT_MAIL_FROM: &str = "Accounts <no-reply@accounts.localhost>";
const DEFAULT_MAIL_HOURLY_LIMIT: u32 = 3;

#[derive(Debug, Clone)]
pub struct MailSettings {
    /// Where messages are written as `.eml` files when there is no SMTP server.
    pub outbox_dir: PathBuf,
    /// `smtp://` or `smtps://` URL of a relay; unset means "write to the outbox".
    pub smtp_url: Option<String>,
    pub from: String,
    /// The most messages of one kind an address gets in an hour; more are
    /// dropped, so that the forms that send mail cannot flood an inbox.
    pub hourly_limit: u32,
}

impl MailSettings {
    /// Reads `SMTP_URL`, `MAIL_FROM`, `MAIL_OUTBOX_DIR` and
    /// `MAIL_HOURLY_LIMIT` through `var` (blank values already dropped).
    pub(super) fn from_lookup(
        var: impl Fn(&str) -> Option<String>,
        environment: Environment,
        data_dir: &Path,
    ) -> Result<Self, ConfigError> {
        let smtp_url = var("SMTP_URL")
            .map(|url| match Url::parse(url.trim()) {
                Ok(parsed) if matches!(parsed.scheme(), "smtp" | "smtps") => {
                    let safe = environment.is_development()
                        || tls_required(&parsed)
                        || is_loopback(&parsed);
                    if safe {
                        Ok(url)
                    } else {
                        Err(ConfigError::new(
                            "SMTP_URL",
                            "must use TLS in production: smtps://… or smtp://…?tls=required (without TLS only to a relay on this machine)",
                        ))
                    }
                }
                _ => Err(ConfigError::new(
                    "SMTP_URL",
                    "expected smtp://[user:password@]host[:port] or smtps://…",
                )),
            })
            .transpose()?;
        let mail_from = var("MAIL_FROM").unwrap_or_else(|| DEFAULT_MAIL_FROM.into());
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::new(
                "MAIL_FROM",
                "expected an address such as `Accounts <no-reply@example.com>`",
            ));
        }
        let outbox_dir = var("MAIL_OUTBOX_DIR");
        if !environment.is_development() && smtp_url.is_none() && outbox_dir.is_none() {
            return Err(ConfigError::new(
                    "SMTP_URL",
                    "is required in production (or set MAIL_OUTBOX_DIR to write mail to files on purpose)",
                ));
        }
        let hourly_limit = match var("MAIL_HOURLY_LIMIT") {
            Some(value) => match value.trim().parse::<u32>() {
                Ok(limit) if (1..=1_000).contains(&limit) => limit,
                _ => {
                    return Err(ConfigError::new(
                        "MAIL_HOURLY_LIMIT",
                        "expected a whole number of messages from 1 to 1000",
                    ))
                }
            },
            None => DEFAULT_MAIL_HOURLY_LIMIT,
        };
        Ok(Self {
            outbox_dir: outbox_dir
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("outbox")),
            smtp_url,
            from: mail_from,
            hourly_limit,
        })
    }
}

/// `smtps://`, or `smtp://` with `tls=required` (STARTTLS or nothing).
fn tls_required(url: &Url) -> bool {
    url.scheme() == "smtps"
        || url
            .query_pairs()
            .any(|(key, value)| key == "tls" && value == "required")
}
