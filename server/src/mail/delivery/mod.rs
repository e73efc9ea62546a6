//! The worker that empties the outbox table. It claims one due message at a
//! time with a lease, delivers it, and marks it sent; a failure is retried
//! with exponential backoff and given up (kept, with its error) after
//! [`MAX_ATTEMPTS`]. Several instances may run a worker each: the lease
//! keeps them from sending one message at the same time, and a lease left
//! by a crashed worker runs out so that another takes the message over.
//!
//! Delivery is at least once. Into the outbox directory it is exactly once:
//! the file is named after the message and appears atomically, so a retry
//! that finds it only marks the message sent. Over SMTP a retry after a
//! crash between sending and marking can send a message twice; it keeps
//! its Message-ID, which names the outbox row, so the copy is recognisable.
//!
//! A message whose link expired before it could be delivered is never
//! delivered: the claim passes them over, and every [`POLL_INTERVAL`] the
//! worker gives them up in one conditional statement (which leaves alone a
//! message some worker is delivering). A delivered or given-up message loses its
//! bodies and link in the statement that records it (see the store).
//!
//! What reaches the log: in development, the link (and recipient and
//! subject) of each message written to the outbox directory, so a
//! developer can follow it from the console; in production only the
//! message's id, kind and file name. A token in a log outlives it
//! everywhere the log is shipped.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use lettre::{
    message::{Mailbox, MultiPart},
    AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor,
};
use tokio::sync::Notify;

use super::outbox;
use crate::{
    clock::unix_now,
    config::{Environment, MailSettings},
    db::Database,
    metrics::{MailFailure, Metrics},
    store::mail_outbox::{self, ClaimedMail},
};

/// How often the worker looks for due mail when nobody wakes it: retries
/// come due, and other instances may have queued mail.
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// Failed deliveries after which a message is given up.
pub const MAX_ATTEMPTS: i64 = 10;
const FIRST_RETRY_SECS: i64 = 10;
const MAX_RETRY_SECS: i64 = 60 * 60;
/// SMTP: the limit of one command, and of a whole delivery.
const SMTP_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
const SMTP_DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a claim outlasts the longest delivery, so that no other worker
/// takes a message still being sent.
const LEASE_MARGIN_SECS: i64 = 10;

enum Transport {
    Outbox(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

pub(super) struct Delivery {
    transport: Transport,
    from: Mailbox,
    /// Development only: whether a message's link may be logged.
    log_links: bool,
    /// Counts deliveries and failures.
    metrics: Metrics,
}

impl Delivery {
    pub(super) fn new(
        settings: &MailSettings,
        environment: Environment,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let from: Mailbox = settings.from.parse().context("invalid MAIL_FROM")?;
        let transport = match &settings.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("invalid SMTP_URL")?
                    .timeout(Some(SMTP_COMMAND_TIMEOUT))
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&settings.outbox_dir).with_context(|| {
                    format!(
                        "could not create the mail outbox {}",
                        settings.outbox_dir.display()
                    )
                })?;
                Transport::Outbox(settings.outbox_dir.clone())
            }
        };
        Ok(Self {
            transport,
            from,
            log_links: environment.is_development(),
            metrics,
        })
    }

    /// How long a claim lasts: after a crash, how soon another worker
    /// retries the message.
    fn lease_secs(&self) -> i64 {
        let longest = match self.transport {
            // A local file: no time limit is needed, and a crashed write is
            // worth retrying soon.
            Transport::Outbox(_) => 0,
            Transport::Smtp(_) => SMTP_DELIVERY_TIMEOUT.as_secs() as i64,
        };
        longest + LEASE_MARGIN_SECS
    }
}

/// Delivers due mail until the process ends, looking again whenever woken
/// and every [`POLL_INTERVAL`].
pub(super) async fn run(db: Database, delivery: Delivery, wake: Arc<Notify>) {
    let mut last_give_up: Option<Instant> = None;
    loop {
        // At most once a poll interval, not at every wake: an expired
        // message is passed over anyway, and on SQLite even an update that
        // matches nothing takes the write lock.
        if last_give_up.is_none_or(|at| at.elapsed() >= POLL_INTERVAL) {
            last_give_up = Some(Instant::now());
            give_up_expired(&db, &delivery.metrics).await;
        }
        loop {
            match deliver_next(&db, &delivery).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => {
                    tracing::warn!(%error, "could not read the mail outbox; will retry");
                    break;
                }
            }
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL_INTERVAL) => {}
        }
    }
}

/// Gives up the mail whose link expired before it could be delivered.
async fn give_up_expired(db: &Database, metrics: &Metrics) {
    match mail_outbox::give_up_expired(db.pool(), unix_now()).await {
        Ok(0) => {}
        Ok(given_up) => {
            metrics.mail_failed(MailFailure::Expired, given_up);
            tracing::warn!(
                given_up,
                "mail not delivered before its link expired; given up"
            )
        }
        Err(error) => tracing::warn!(%error, "could not give up expired mail; will retry"),
    }
}

/// Claims and delivers one due message; `false` when none is due.
async fn deliver_next(db: &Database, delivery: &Delivery) -> Result<bool, sqlx::Error> {
    let now = unix_now();
    let Some(id) = mail_outbox::next_due(db.pool(), now).await? else {
        return Ok(false);
    };
    let Some(mail) = mail_outbox::claim(db.pool(), id, now, now + delivery.lease_secs()).await?
    else {
        // Another worker claimed it first.
        return Ok(true);
    };
    let outcome = deliver(delivery, &mail).await;
    let now = unix_now();
    match outcome {
        Ok(()) => {
            mail_outbox::mark_sent(db.pool(), mail.id, now).await?;
            delivery.metrics.mail_sent(mail.kind);
        }
        Err(failure) => {
            let attempts = mail.attempts + 1;
            let error = format!("{:#}", failure.error);
            let retry_in =
                (failure.retry && attempts < MAX_ATTEMPTS).then(|| retry_delay(attempts));
            mail_outbox::record_failure(
                db.pool(),
                mail.id,
                &error,
                now,
                retry_in.map(|secs| now + secs),
            )
            .await?;
            let failure = match retry_in {
                Some(_) => MailFailure::Retry,
                None => MailFailure::GivenUp,
            };
            delivery.metrics.mail_failed(failure, 1);
            match retry_in {
                Some(secs) => tracing::warn!(
                    id = %mail.id,
                    kind = %mail.kind,
                    attempts,
                    retry_in_secs = secs,
                    error,
                    "could not send mail; will retry"
                ),
                None => tracing::error!(
                    id = %mail.id,
                    kind = %mail.kind,
                    attempts,
                    error,
                    "could not send mail; giving up"
                ),
            }
        }
    }
    Ok(true)
}

/// The wait before the next attempt after `attempts` failed ones: 10 s,
/// doubling each time, at most an hour.
fn retry_delay(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).max(0))
        .unwrap_or(u32::MAX)
        .min(16);
    (FIRST_RETRY_SECS << doublings).min(MAX_RETRY_SECS)
}

struct Failure {
    error: anyhow::Error,
    /// Whether another attempt could succeed.
    retry: bool,
}

impl Failure {
    fn transient(error: impl Into<anyhow::Error>) -> Self {
        Self {
            error: error.into(),
            retry: true,
        }
    }
}

async fn deliver(delivery: &Delivery, mail: &ClaimedMail) -> Result<(), Failure> {
    let message = build(&delivery.from, mail).map_err(|error| Failure {
        error,
        retry: false,
    })?;
    match &delivery.transport {
        Transport::Outbox(dir) => {
            let dir = dir.clone();
            let id = mail.id;
            let bytes = message.formatted();
            let written = tokio::task::spawn_blocking(move || outbox::write(&dir, id, &bytes))
                .await
                .map_err(Failure::transient)?
                .map_err(Failure::transient)?;
            if written {
                log_written(&written_line(mail, delivery.log_links));
            }
        }
        Transport::Smtp(transport) => {
            tokio::time::timeout(SMTP_DELIVERY_TIMEOUT, transport.send(message))
                .await
                .context("the SMTP server did not answer in time")
                .map_err(Failure::transient)?
                .map_err(Failure::transient)?;
            tracing::info!(id = %mail.id, kind = %mail.kind, "mail sent");
        }
    }
    Ok(())
}

/// What the log says of a message written to the outbox directory.
#[derive(Debug)]
struct WrittenLine<'a> {
    id: uuid::Uuid,
    kind: mail_outbox::MailKind,
    file: String,
    /// Development only.
    revealed: Option<Revealed<'a>>,
}

/// What a developer needs to follow a message from the console, and what
/// must never reach a production log.
#[derive(Debug)]
struct Revealed<'a> {
    to: &'a app::api::values::Email,
    subject: &'a str,
    link: &'a str,
}

fn written_line(mail: &ClaimedMail, log_links: bool) -> WrittenLine<'_> {
    WrittenLine {
        id: mail.id,
        kind: mail.kind,
        file: outbox::file_name(mail.id),
        revealed: log_links.then_some(Revealed {
            to: &mail.recipient,
            subject: &mail.subject,
            link: &mail.link,
        }),
    }
}

fn log_written(line: &WrittenLine<'_>) {
    match &line.revealed {
        Some(revealed) => tracing::info!(
            id = %line.id,
            kind = %line.kind,
            to = %revealed.to,
            subject = revealed.subject,
            link = revealed.link,
            file = line.file,
            "mail written to the outbox"
        ),
        None => tracing::info!(
            id = %line.id,
            kind = %line.kind,
            file = line.file,
            "mail written to the outbox"
        ),
    }
}

/// The message, with a Message-ID made of the outbox row's id.
fn build(from: &Mailbox, mail: &ClaimedMail) -> anyhow::Result<Message> {
    let to = Mailbox::new(
        Some(mail.recipient_name.to_string()),
        mail.recipient
            .as_str()
            .parse()
            .context("invalid recipient address")?,
    );
    Message::builder()
        .message_id(Some(format!("<{}@{}>", mail.id, from.email.domain())))
        .from(from.clone())
        .to(to)
        .subject(&mail.subject)
        .multipart(MultiPart::alternative_plain_html(
            mail.text_body.clone(),
            mail.html_body.clone(),
        ))
        .context("could not build the message")
}

#[cfg(test)]
mod tests;
