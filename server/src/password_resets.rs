//! Requests for a password-reset link. The request itself answers at once
//! and does nothing that depends on the address: looking the address up,
//! making the link and queuing its mail happen in a background task that
//! reads a bounded queue. So asking for a reset costs the same time and
//! makes the same writes (none, in the request) whether or not the address
//! has an account, and neither the answer nor its timing tells which.
//!
//! What an attacker may try, and what answers it:
//! - Time the answer, or count the writes, for a known and an unknown
//!   address: the request does the same work for both.
//! - Flood someone's inbox: the mail outbox caps each address's messages
//!   of a kind per hour, and rate limits apply before the queue.
//! - Flood the queue: it is bounded; beyond it requests are dropped with a
//!   warning (the answer is the same), and each link request spends the
//!   links sent before, so a dropped one costs its owner only a retry.
//! - Get a link for a disabled account: none is made.

use std::sync::Arc;

use app::{
    api::values::{Email, UserId},
    routes::Page,
};
use tokio::sync::mpsc;

use crate::{
    auth::tokens,
    config::Settings,
    db::Database,
    mail::{templates, Mailer},
    store::{
        email_tokens::{self, Purpose},
        users,
    },
};

/// A reset link works for 30 minutes.
pub const RESET_TTL_SECS: i64 = 30 * 60;

/// Requests waiting for the background task; beyond this, new ones are
/// dropped with a warning.
const QUEUE: usize = 1024;

struct Request {
    email: Email,
    at: i64,
}

#[derive(Clone)]
pub struct PasswordResets {
    queue: mpsc::Sender<Request>,
}

impl PasswordResets {
    /// Starts the task that answers queued requests.
    pub fn start(db: Database, mailer: Mailer, settings: Arc<Settings>) -> Self {
        let (queue, requests) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, mailer, settings, requests));
        Self { queue }
    }

    /// Queues a request for `email`; whatever the address, nothing else
    /// happens here.
    pub fn request(&self, email: Email, now: i64) {
        if self.queue.try_send(Request { email, at: now }).is_err() {
            tracing::warn!("password reset queue full; request dropped");
        }
    }
}

async fn run(
    db: Database,
    mailer: Mailer,
    settings: Arc<Settings>,
    mut requests: mpsc::Receiver<Request>,
) {
    while let Some(request) = requests.recv().await {
        if let Err(error) = answer(&db, &mailer, &settings, request).await {
            tracing::warn!(%error, "could not answer a password reset request");
        }
    }
}

/// Only an enabled account gets a link; asking again spends the links sent
/// before.
async fn answer(
    db: &Database,
    mailer: &Mailer,
    settings: &Settings,
    request: Request,
) -> Result<(), sqlx::Error> {
    let Some(user) = users::find_by_email(db.pool(), &request.email).await? else {
        return Ok(());
    };
    if user.is_disabled() {
        return Ok(());
    }
    let now = request.at;
    let mut transaction = db.pool().begin().await?;
    let link = new_link(&mut transaction, settings, user.id, now).await?;
    let letter = templates::reset_password(&user.email, &user.name, &link)
        .link_expiring_at(now + RESET_TTL_SECS);
    mailer.commit_with(transaction, &letter, now).await?;
    Ok(())
}

/// Makes the account's only live reset link inside `transaction` (the
/// links sent before stop working) and returns it, to be mailed in the
/// same transaction; it works for [`RESET_TTL_SECS`].
pub async fn new_link(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    settings: &Settings,
    user_id: UserId,
    now: i64,
) -> Result<String, sqlx::Error> {
    let token = tokens::generate();
    email_tokens::replace_live(
        transaction,
        &tokens::hash(&token),
        user_id,
        Purpose::ResetPassword,
        now,
        now + RESET_TTL_SECS,
    )
    .await?;
    let mut link = settings.page_url(Page::ResetPassword.path());
    link.query_pairs_mut().append_pair("token", &token);
    Ok(link.into())
}
