//! The mail a test server sent: its outbox, read as the development mailbox
//! shows it, and the tokens of the links in it.

use std::time::{Duration, Instant};

use app::api::types::MailboxMessage;

use super::TestApp;

impl TestApp {
    /// Every message in the outbox for `to`, oldest first.
    pub fn mail_to(&self, to: &str) -> Vec<MailboxMessage> {
        let mut messages = server::mail::outbox::read(&self.outbox, usize::MAX).unwrap_or_default();
        messages.retain(|message| message.to == to);
        messages.reverse();
        messages
    }

    /// Waits (mail is sent in the background) until `to` has `count` messages.
    pub async fn wait_for_mail(&self, to: &str, count: usize) -> Vec<MailboxMessage> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.mail_to(to);
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} message(s) to {to}, found {}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `to` has a message with `subject`; returns where the
    /// first such is among them (1-based, as `nth` below).
    pub async fn wait_for_subject(&self, to: &str, subject: &str) -> usize {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(index) = self
                .mail_to(to)
                .iter()
                .position(|message| message.subject == subject)
            {
                return index + 1;
            }
            assert!(
                Instant::now() < deadline,
                "no message to {to} with the subject {subject:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The token of the verification link in the `nth` message to `to`.
    pub async fn verification_token(&self, to: &str, nth: usize) -> String {
        self.link_token(to, nth, "/verify-email?token=").await
    }

    /// The token of the reset link in the `nth` message to `to`.
    pub async fn reset_token(&self, to: &str, nth: usize) -> String {
        self.link_token(to, nth, "/reset-password?token=").await
    }

    /// The token of the link, in the `nth` message to `to`, that confirms
    /// a change of address.
    pub async fn confirm_email_token(&self, to: &str, nth: usize) -> String {
        self.link_token(to, nth, "/confirm-email?token=").await
    }

    /// The token of the link, in the `nth` message to `to`, that undoes a
    /// change of address.
    pub async fn undo_email_token(&self, to: &str, nth: usize) -> String {
        self.link_token(to, nth, "/undo-email-change?token=").await
    }

    async fn link_token(&self, to: &str, nth: usize, kind: &str) -> String {
        let messages = self.wait_for_mail(to, nth).await;
        let message = &messages[nth - 1];
        let link = message
            .links
            .iter()
            .find(|link| link.contains(kind))
            .unwrap_or_else(|| panic!("no {kind} link in {message:?}"));
        let url = url::Url::parse(link).expect("the link is a URL");
        url.query_pairs()
            .find(|(name, _)| name == "token")
            .map(|(_, value)| value.into_owned())
            .expect("the link carries a token")
    }
}
