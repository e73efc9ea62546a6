//! Outgoing email, through a transactional outbox. A handler stores its
//! message in the `mail_outbox` table inside the transaction of the change
//! that caused it, so the message exists exactly when the change does;
//! after the commit it wakes the background worker (`delivery.rs`), which
//! sends through SMTP (`SMTP_URL`) or, without one, writes each message as
//! an `.eml` file into the outbox directory. A crash loses nothing: what
//! was committed is sent after the restart. Sending never blocks or fails
//! the HTTP response.
//!
//! No live secret outlives its use. A message's bodies and link carry a
//! verification or reset token, so they stay in the outbox table only
//! until the message is delivered or given up: the statement that marks it
//! so blanks them, and only its metadata (recipient, kind, subject, times)
//! stays until housekeeping deletes the row. A letter whose link expires
//! ([`Letter::link_expiring_at`]) and that could not be delivered before
//! then is never delivered: the worker gives it up and blanks it. Links and
//! bodies reach the log only in development (`APP_ENV=development`), where
//! a developer follows the link from the console; in production the log
//! names a message by id, kind and file.
//!
//! No address gets more than `MAIL_HOURLY_LIMIT` messages of one kind an
//! hour, so the endpoints that send mail cannot be turned into a way to
//! flood someone's inbox. A message over the limit is dropped quietly (the
//! HTTP answer is the same either way).

pub mod account_letters;
mod delivery;
pub mod outbox;
pub mod templates;

use std::sync::Arc;

use app::api::values::{DisplayName, Email};
use sqlx::{Any, Transaction};
use tokio::sync::Notify;

use crate::{
    config::{Environment, MailSettings},
    db::{Backend, Database},
    metrics::Metrics,
    store::mail_outbox::{self, NewMail},
};

pub use crate::store::mail_outbox::MailKind;

/// One message to one person.
#[derive(Debug, Clone)]
pub struct Letter {
    pub kind: MailKind,
    pub to_address: Email,
    pub to_name: DisplayName,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The link the message is about. In development it is logged when
    /// mail goes to the outbox so a developer can follow it from the
    /// console; never in production.
    pub link: String,
    /// When `link` stops working (Unix seconds), if it does: a message
    /// still undelivered then is never delivered. Set with
    /// [`Letter::link_expiring_at`].
    pub link_expires_at: Option<i64>,
}

impl Letter {
    /// The letter, its link working until `at` (Unix seconds): if it cannot
    /// be delivered by then, it is given up instead.
    #[must_use]
    pub fn link_expiring_at(mut self, at: i64) -> Self {
        self.link_expires_at = Some(at);
        self
    }
}

impl MailKind {
    /// Whether the message carries a link made in the same transaction: a
    /// verification or reset link reaches its owner only through it, so
    /// without the message the change is pointless (and would spend the
    /// links sent before). A change of address counts too: its undo link
    /// is the old address's only way back, so no change is made without
    /// it.
    pub fn carries_new_link(self) -> bool {
        match self {
            Self::VerifyEmail
            | Self::ResetPassword
            | Self::ConfirmEmailChange
            | Self::EmailChanged => true,
            Self::AlreadyRegistered
            | Self::PasswordChanged
            | Self::SecurityNotice
            | Self::AccountDeleted => false,
        }
    }

    /// Whether `MAIL_HOURLY_LIMIT` applies. A security notice (a second
    /// factor added or removed, new recovery codes, one used) never waits
    /// for the next hour: each follows a change only the account's own
    /// proofs can make, so nobody else can fill an inbox with them, and an
    /// intruder who spent the hour's notices on small changes must not then
    /// turn a factor off unannounced.
    pub fn is_capped(self) -> bool {
        self != Self::SecurityNotice
    }
}

/// Whether a letter went into the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    Yes,
    /// Its address already had `MAIL_HOURLY_LIMIT` messages of its kind in
    /// the last hour.
    OverHourlyLimit,
}

#[derive(Clone)]
pub struct Mailer {
    db: Database,
    hourly_limit: i64,
    wake: Arc<Notify>,
    metrics: Metrics,
}

impl Mailer {
    /// [`Mailer::start_in`] production: links and bodies are never logged.
    pub fn start(settings: &MailSettings, db: Database) -> anyhow::Result<Self> {
        Self::start_in(Environment::Production, settings, db, Metrics::disabled())
    }

    /// Prepares the transport and starts the delivery worker, which also
    /// sends whatever an earlier run left in the outbox table. In
    /// development the worker logs each message's link as it writes it to
    /// the outbox directory; in production it does not.
    pub fn start_in(
        environment: Environment,
        settings: &MailSettings,
        db: Database,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let delivery = delivery::Delivery::new(settings, environment, metrics.clone())?;
        let wake = Arc::new(Notify::new());
        tokio::spawn(delivery::run(db.clone(), delivery, Arc::clone(&wake)));
        Ok(Self {
            db,
            hourly_limit: i64::from(settings.hourly_limit),
            wake,
            metrics,
        })
    }

    /// Stores `letter` in the outbox as part of `transaction`, unless its
    /// address is over the hourly limit for its kind. Call it last in the
    /// transaction, then [`Mailer::wake`] after the commit.
    pub async fn enqueue(
        &self,
        transaction: &mut Transaction<'_, Any>,
        letter: &Letter,
        now: i64,
    ) -> Result<Queued, sqlx::Error> {
        if self.db.backend() == Backend::Postgres {
            mail_outbox::lock_recipient(&mut **transaction, &letter.to_address, letter.kind)
                .await?;
        }
        let mail = NewMail {
            id: uuid::Uuid::now_v7(),
            recipient: &letter.to_address,
            recipient_name: &letter.to_name,
            kind: letter.kind,
            subject: &letter.subject,
            text_body: &letter.text,
            html_body: &letter.html,
            link: &letter.link,
        };
        let limit = if letter.kind.is_capped() {
            self.hourly_limit
        } else {
            i64::MAX
        };
        let queued = mail_outbox::insert_capped_expiring(
            &mut **transaction,
            mail,
            letter.link_expires_at,
            now,
            limit,
        )
        .await?;
        if queued {
            self.metrics.mail_queued(letter.kind);
            Ok(Queued::Yes)
        } else {
            tracing::info!(
                kind = %letter.kind,
                "hourly mail limit reached for the address; message not sent"
            );
            Ok(Queued::OverHourlyLimit)
        }
    }

    /// Commits `transaction` with `letter` in the outbox and wakes the
    /// worker. When the letter is over the hourly limit and
    /// [carries a new link](MailKind::carries_new_link), the change is
    /// rolled back instead: the links already sent stay the live ones.
    pub async fn commit_with(
        &self,
        mut transaction: Transaction<'_, Any>,
        letter: &Letter,
        now: i64,
    ) -> Result<Queued, sqlx::Error> {
        let queued = self.enqueue(&mut transaction, letter, now).await?;
        if queued == Queued::Yes {
            transaction.commit().await?;
            self.wake();
        } else if letter.kind.carries_new_link() {
            transaction.rollback().await?;
        } else {
            transaction.commit().await?;
        }
        Ok(queued)
    }

    /// Queues a letter that goes with no other change.
    pub async fn send(&self, letter: &Letter, now: i64) -> Result<Queued, sqlx::Error> {
        let transaction = self.db.pool().begin().await?;
        self.commit_with(transaction, letter, now).await
    }

    /// Tells the worker that committed mail is waiting. Without it the
    /// worker still finds the mail within a couple of seconds.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}
