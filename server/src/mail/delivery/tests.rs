//! What delivery logs (a message's link only in development) and how its
//! retries back off.

use std::{
    io,
    sync::{Arc, Mutex},
};

use app::api::values::{DisplayName, Email};

use super::*;
use crate::store::mail_outbox::MailKind;

const LINK: &str = "http://127.0.0.1:3000/reset-password?token=secret-token-123";

fn claimed() -> ClaimedMail {
    ClaimedMail {
        id: uuid::Uuid::now_v7(),
        recipient: Email::parse("someone@example.com").unwrap(),
        recipient_name: DisplayName::parse("Someone").unwrap(),
        kind: MailKind::ResetPassword,
        subject: "Reset your password".into(),
        text_body: format!("Choose a new one here:\n\n{LINK}\n"),
        html_body: format!("<a href=\"{LINK}\">Choose</a>"),
        link: LINK.into(),
        attempts: 0,
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What `log_written` writes, in the production format (JSON) or the
/// development one.
fn logged(mail: &ClaimedMail, log_links: bool, json: bool) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let builder = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false);
    let line = written_line(mail, log_links);
    if json {
        tracing::subscriber::with_default(builder.json().finish(), || log_written(&line));
    } else {
        tracing::subscriber::with_default(builder.finish(), || log_written(&line));
    }
    let bytes = captured.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn production_logs_name_the_message_but_not_its_link() {
    let mail = claimed();
    for json in [true, false] {
        let log = logged(&mail, false, json);
        assert!(log.contains("mail written to the outbox"), "{log}");
        assert!(log.contains(&mail.id.to_string()), "{log}");
        assert!(log.contains("reset_password"), "{log}");
        assert!(log.contains(&outbox::file_name(mail.id)), "{log}");
        for secret in [
            "secret-token-123",
            "reset-password?token",
            "someone@example.com",
        ] {
            assert!(!log.contains(secret), "{secret} in {log}");
        }
    }
    assert!(written_line(&mail, false).revealed.is_none());
}

#[test]
fn development_logs_the_link_to_follow() {
    let mail = claimed();
    let log = logged(&mail, true, false);
    assert!(log.contains(LINK), "{log}");
    assert!(log.contains("someone@example.com"), "{log}");
}

#[test]
fn retries_back_off_exponentially_up_to_an_hour() {
    let delays: Vec<i64> = (1..MAX_ATTEMPTS).map(retry_delay).collect();
    assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 1280, 2560]);
    assert_eq!(retry_delay(12), MAX_RETRY_SECS);
    assert_eq!(retry_delay(i64::MAX), MAX_RETRY_SECS);
    assert_eq!(retry_delay(0), FIRST_RETRY_SECS);
}
