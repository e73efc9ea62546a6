//! Outgoing email. Handlers hand messages to a queue and move on: sending
//! never blocks or fails the HTTP response that caused it. A background
//! worker delivers through SMTP (`SMTP_URL`) or, without one, writes each
//! message as an `.eml` file into the outbox directory.

pub mod outbox;
pub mod templates;

use anyhow::Context as _;
use lettre::{
    message::{Mailbox, MultiPart},
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor,
};
use tokio::sync::mpsc;

use app::api::values::{DisplayName, Email};

use crate::config::MailSettings;

/// Messages waiting beyond this are dropped (and logged) rather than
/// letting a dead mail server grow memory without bound.
const QUEUE_CAPACITY: usize = 1_024;

/// One message to one person.
#[derive(Debug, Clone)]
pub struct Letter {
    pub to_address: Email,
    pub to_name: DisplayName,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The link the message is about, logged when mail goes to the outbox
    /// so a developer can follow it from the console.
    pub link: String,
}

#[derive(Clone)]
pub struct Mailer {
    queue: mpsc::Sender<Letter>,
}

enum Delivery {
    /// The transport, and the directory it writes to.
    Outbox(AsyncFileTransport<Tokio1Executor>, std::path::PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Mailer {
    /// Prepares the transport and starts the delivery worker.
    pub fn start(settings: &MailSettings) -> anyhow::Result<Self> {
        let from: Mailbox = settings.from.parse().context("invalid MAIL_FROM")?;
        let delivery = match &settings.smtp_url {
            Some(url) => Delivery::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("invalid SMTP_URL")?
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&settings.outbox_dir).with_context(|| {
                    format!(
                        "could not create the mail outbox {}",
                        settings.outbox_dir.display()
                    )
                })?;
                Delivery::Outbox(
                    AsyncFileTransport::new(&settings.outbox_dir),
                    settings.outbox_dir.clone(),
                )
            }
        };
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(deliver_all(receiver, delivery, from));
        Ok(Self { queue })
    }

    /// Queues a message; never waits and never fails the caller.
    pub fn send(&self, email: Letter) {
        if let Err(error) = self.queue.try_send(email) {
            tracing::error!(%error, "mail queue full or closed; message dropped");
        }
    }
}

async fn deliver_all(mut receiver: mpsc::Receiver<Letter>, delivery: Delivery, from: Mailbox) {
    while let Some(email) = receiver.recv().await {
        let subject = email.subject.clone();
        if let Err(error) = deliver(&delivery, &from, email).await {
            tracing::error!(error = format!("{error:#}"), subject, "could not send mail");
        }
    }
}

async fn deliver(delivery: &Delivery, from: &Mailbox, email: Letter) -> anyhow::Result<()> {
    let to = Mailbox::new(
        Some(email.to_name.to_string()),
        email
            .to_address
            .as_str()
            .parse()
            .context("invalid recipient address")?,
    );
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&email.subject)
        .multipart(MultiPart::alternative_plain_html(email.text, email.html))
        .context("could not build the message")?;
    match delivery {
        Delivery::Outbox(transport, dir) => {
            let id = transport.send(message).await?;
            // File times are only as fine as the kernel's clock tick, so
            // messages written within one tick would tie: a name that starts
            // with the writing order keeps the outbox in the order sent.
            let written = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            let file = format!("{written:024}-{id}.eml");
            tokio::fs::rename(dir.join(format!("{id}.eml")), dir.join(&file)).await?;
            tracing::info!(
                to = %email.to_address,
                subject = email.subject,
                link = email.link,
                file,
                "mail written to the outbox"
            );
        }
        Delivery::Smtp(transport) => {
            transport.send(message).await?;
            tracing::info!(subject = email.subject, "mail sent");
        }
    }
    Ok(())
}
