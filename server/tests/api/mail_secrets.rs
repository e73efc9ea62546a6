//! No live secret at rest: once a message is delivered or given up, its
//! outbox row keeps only metadata (its bodies and link, which carry a
//! token, are blanked), and a message whose link expired before it could be
//! delivered is never delivered.

use std::time::{Duration, Instant};

use app::api::values::{DisplayName, Email};
use server::{
    clock::unix_now,
    store::mail_outbox::{self, MailKind, NewMail, LINK_EXPIRED},
};
use uuid::Uuid;

use crate::{both_backends, helpers::*};

both_backends!(
    a_delivered_message_keeps_only_its_metadata,
    a_message_whose_link_expired_is_never_delivered,
    expired_mail_is_given_up_only_when_nobody_is_delivering_it,
);

/// Polls `sql` (a count) until it is at least 1.
async fn wait_until(app: &TestApp, sql: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.count(sql).await == 0 {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The columns that hold secrets, and those that stay.
type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

async fn row(pool: &sqlx::AnyPool, recipient: &str) -> Row {
    sqlx::query_as(
        "SELECT recipient, kind, subject, text_body, html_body, link, sent_at, failed_at, \
                last_error \
         FROM mail_outbox WHERE recipient = $1",
    )
    .bind(recipient)
    .fetch_one(pool)
    .await
    .expect("the outbox row")
}

async fn a_delivered_message_keeps_only_its_metadata(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("delivered");
    let response = app.register(&email, STRONG_PASSWORD, "Delivered").await;
    assert_eq!(response.status(), 202);

    let messages = app.wait_for_mail(&email, 1).await;
    assert!(
        messages[0]
            .links
            .iter()
            .any(|link| link.contains("/verify-email?token=")),
        "{messages:?}"
    );
    // The file appears just before the row is marked sent.
    wait_until(
        &app,
        &format!(
            "SELECT COUNT(*) FROM mail_outbox WHERE recipient = '{email}' AND sent_at IS NOT NULL"
        ),
        "the message marked sent",
    )
    .await;

    let (recipient, kind, subject, text_body, html_body, link, sent_at, failed_at, _) =
        row(app.database.pool(), &email).await;
    assert_eq!(recipient, email);
    assert_eq!(kind, "verify_email");
    assert_eq!(subject, messages[0].subject, "the subject is metadata");
    assert!(sent_at.is_some());
    assert_eq!(failed_at, None);
    assert_eq!(
        (text_body.as_str(), html_body.as_str(), link.as_str()),
        ("", "", ""),
        "a delivered message keeps no body and no link"
    );
}

fn letter<'a>(email: &'a Email, name: &'a DisplayName, link: &'a str) -> NewMail<'a> {
    NewMail {
        id: Uuid::now_v7(),
        recipient: email,
        recipient_name: name,
        kind: MailKind::ResetPassword,
        subject: "Reset your password",
        text_body: link,
        html_body: link,
        link,
    }
}

async fn a_message_whose_link_expired_is_never_delivered(backend: Backend) {
    let app = spawn_app(backend).await;
    let pool = app.database.pool();
    let name = DisplayName::parse("Late").unwrap();
    let late = Email::parse(&unique_email("late")).unwrap();
    let timely = Email::parse(&unique_email("timely")).unwrap();
    let link = "http://127.0.0.1:3000/reset-password?token=stale";
    let now = unix_now();

    // Queued long ago (the worker was down, say): its link has expired.
    assert!(mail_outbox::insert_capped_expiring(
        pool,
        letter(&late, &name, link),
        Some(now - 1),
        now - 1801,
        3
    )
    .await
    .unwrap());
    // Queued after it, with its link still working: delivered.
    assert!(mail_outbox::insert_capped_expiring(
        pool,
        letter(&timely, &name, link),
        Some(now + 1800),
        now,
        3
    )
    .await
    .unwrap());

    app.wait_for_mail(timely.as_str(), 1).await;
    wait_until(
        &app,
        &format!(
            "SELECT COUNT(*) FROM mail_outbox WHERE recipient = '{late}' AND failed_at IS NOT NULL"
        ),
        "the expired message given up",
    )
    .await;

    let (recipient, kind, _, text_body, html_body, link, sent_at, failed_at, last_error) =
        row(pool, late.as_str()).await;
    assert_eq!(recipient, late.as_str());
    assert_eq!(kind, "reset_password");
    assert_eq!(sent_at, None);
    assert!(failed_at.is_some());
    assert_eq!(last_error.as_deref(), Some(LINK_EXPIRED));
    assert_eq!(
        (text_body.as_str(), html_body.as_str(), link.as_str()),
        ("", "", "")
    );
    assert!(
        app.mail_to(late.as_str()).is_empty(),
        "a message past its link's expiry is never delivered"
    );
    // Given up, it is never due again.
    assert_eq!(
        mail_outbox::next_due(pool, now + 100_000).await.unwrap(),
        None
    );
}

/// The store functions the worker uses, on a database no worker reads.
async fn expired_mail_is_given_up_only_when_nobody_is_delivering_it(backend: Backend) {
    let fresh = FreshDatabase::create(backend).await;
    let database = fresh.connect().await;
    let pool = database.pool();
    let email = Email::parse("expiring@example.com").unwrap();
    let name = DisplayName::parse("Expiring").unwrap();
    let link = "https://example.com/reset-password?token=x";
    let now = 1_800_000_000;
    let expires = now + 1800;
    let (in_flight, waiting, lasting) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    for (id, expires_at) in [
        (in_flight, Some(expires)),
        (waiting, Some(expires)),
        (lasting, None),
    ] {
        let mail = NewMail {
            id,
            ..letter(&email, &name, link)
        };
        assert!(
            mail_outbox::insert_capped_expiring(pool, mail, expires_at, now, 3)
                .await
                .unwrap()
        );
    }

    // A worker claims one just before its link expires and is still
    // delivering it when the link expires: it is not dropped under it.
    assert!(
        mail_outbox::claim(pool, in_flight, expires - 1, expires + 60)
            .await
            .unwrap()
            .is_some()
    );
    // Once expired, the other is neither due nor claimable…
    assert_eq!(
        mail_outbox::next_due(pool, expires).await.unwrap(),
        Some(lasting)
    );
    assert!(mail_outbox::claim(pool, waiting, expires, expires + 60)
        .await
        .unwrap()
        .is_none());
    // …and is given up, alone: the claimed one is being delivered and the
    // lasting one has no expiry.
    assert_eq!(
        mail_outbox::give_up_expired(pool, expires).await.unwrap(),
        1
    );
    assert_eq!(
        mail_outbox::give_up_expired(pool, expires).await.unwrap(),
        0
    );
    mail_outbox::mark_sent(pool, in_flight, expires + 5)
        .await
        .unwrap();

    let state = |id: Uuid| async move {
        let state: (
            String,
            String,
            String,
            Option<i64>,
            Option<i64>,
            Option<String>,
        ) = sqlx::query_as(
            "SELECT text_body, html_body, link, sent_at, failed_at, last_error \
                 FROM mail_outbox WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_one(pool)
        .await
        .unwrap();
        state
    };
    let blank = (String::new(), String::new(), String::new());
    let (text, html, kept_link, sent_at, failed_at, error) = state(in_flight).await;
    assert_eq!((text, html, kept_link), blank.clone());
    assert_eq!((sent_at, failed_at, error), (Some(expires + 5), None, None));
    let (text, html, kept_link, sent_at, failed_at, error) = state(waiting).await;
    assert_eq!((text, html, kept_link), blank.clone());
    assert_eq!(
        (sent_at, failed_at, error.as_deref()),
        (None, Some(expires), Some(LINK_EXPIRED))
    );

    // A message given up after failed attempts loses its bodies and link
    // too; a retry keeps them for the next attempt.
    assert!(mail_outbox::claim(pool, lasting, expires, expires + 60)
        .await
        .unwrap()
        .is_some());
    mail_outbox::record_failure(pool, lasting, "refused", expires, Some(expires + 10))
        .await
        .unwrap();
    let (text, _, kept_link, ..) = state(lasting).await;
    assert_eq!((text.as_str(), kept_link.as_str()), (link, link));
    mail_outbox::claim(pool, lasting, expires + 10, expires + 70)
        .await
        .unwrap()
        .expect("due again");
    mail_outbox::record_failure(pool, lasting, "mailbox unavailable", expires + 11, None)
        .await
        .unwrap();
    let (text, html, kept_link, sent_at, failed_at, error) = state(lasting).await;
    assert_eq!((text, html, kept_link), blank);
    assert_eq!(
        (sent_at, failed_at, error.as_deref()),
        (None, Some(expires + 11), Some("mailbox unavailable"))
    );
    database.close().await;
}
