//! The mail outbox: the hourly cap per address and kind, retries of failed
//! deliveries, and the leases that keep workers from sending one message
//! twice at once.

use std::time::{Duration, Instant};

use app::api::values::{DisplayName, Email};
use serde_json::{json, Value};
use server::store::mail_outbox::{self, MailKind, NewMail};
use uuid::Uuid;

use crate::{both_backends, helpers::*, smtp_sink};

both_backends!(
    an_address_gets_at_most_the_hourly_limit_of_each_kind,
    concurrent_requests_do_not_slip_past_the_limit,
    a_reset_request_over_the_limit_keeps_the_link_already_sent,
    a_failed_delivery_is_retried_until_it_goes_through,
    claims_are_leased_and_failures_wait_their_turn,
);

const VERIFY_SUBJECT: &str = "Verify your email address";

async fn forgot(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_json("/api/auth/forgot-password", &json!({"email": email}))
        .await
}

/// Waits until the worker has nothing left to send.
async fn wait_until_sent(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pending = app
            .count("SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL")
            .await;
        if pending == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} message(s) still unsent"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn subjects(app: &TestApp, to: &str) -> Vec<String> {
    app.mail_to(to)
        .into_iter()
        .map(|message| message.subject)
        .collect()
}

async fn an_address_gets_at_most_the_hourly_limit_of_each_kind(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("flooded");
    let mut answers = Vec::new();
    for _ in 0..5 {
        let response = app.register(&email, STRONG_PASSWORD, "Flooded").await;
        assert_eq!(response.status(), 202);
        answers.push(response.json::<Value>().await.unwrap());
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "the answer must not tell that mail was held back: {answers:?}"
    );
    // Another address is unaffected, and so is another kind of message.
    let other = unique_email("other");
    assert_eq!(
        app.register(&other, STRONG_PASSWORD, "Other")
            .await
            .status(),
        202
    );
    wait_until_sent(&app).await;
    assert_eq!(subjects(&app, &email), [VERIFY_SUBJECT; 3]);
    assert_eq!(subjects(&app, &other), [VERIFY_SUBJECT]);

    // The sign-ups held back stored nothing; the ones whose links went out
    // work.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM pending_signups WHERE email = '{email}'"
        ))
        .await,
        3
    );
    let token = app.verification_token(&email, 3).await;
    let response = app.verify_email(&token, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);

    // Another kind of message has a cap of its own.
    assert_eq!(forgot(&app, &email).await.status(), 202);
    app.reset_token(&email, 4).await;
    assert_eq!(
        subjects(&app, &email),
        [
            VERIFY_SUBJECT,
            VERIFY_SUBJECT,
            VERIFY_SUBJECT,
            "Reset your password"
        ]
    );
}

async fn concurrent_requests_do_not_slip_past_the_limit(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("raced");
    assert_eq!(
        app.register(&email, STRONG_PASSWORD, "Raced")
            .await
            .status(),
        202
    );
    let body = json!({"email": email});
    let resends = (0..8).map(|_| app.post_json("/api/auth/resend-verification", &body));
    for response in futures::future::join_all(resends).await {
        assert_eq!(response.status(), 202);
    }
    wait_until_sent(&app).await;
    assert_eq!(subjects(&app, &email), [VERIFY_SUBJECT; 3]);
}

async fn a_reset_request_over_the_limit_keeps_the_link_already_sent(backend: Backend) {
    let app = spawn_app_with(backend, &[("MAIL_HOURLY_LIMIT", "1")]).await;
    let email = app.verified_user("once").await;
    assert_eq!(forgot(&app, &email).await.status(), 202);
    let token = app.reset_token(&email, 2).await;
    let answer: Value = forgot(&app, &email).await.json().await.unwrap();
    let unknown: Value = forgot(&app, &unique_email("nobody"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer, unknown);

    // Requests are answered in order by one task: once a later one's mail
    // is out, the one held back has been dealt with.
    let marker = app.verified_user("marker").await;
    forgot(&app, &marker).await;
    app.reset_token(&marker, 2).await;
    wait_until_sent(&app).await;
    assert_eq!(app.mail_to(&email).len(), 2, "one verification, one reset");
    // The request held back did not spend the link that was sent.
    let response = app
        .post_json(
            "/api/auth/reset-password",
            &json!({"token": token, "password": "Violet-Anchor-Meadow-57"}),
        )
        .await;
    assert_eq!(response.status(), 200);
}

async fn a_failed_delivery_is_retried_until_it_goes_through(backend: Backend) {
    // A port where nothing listens yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(
        backend,
        &[
            ("SMTP_URL", &format!("smtp://127.0.0.1:{port}")),
            ("MAIL_FROM", "Accounts <accounts@example.com>"),
        ],
    )
    .await;
    let email = unique_email("retried");
    assert_eq!(
        app.register(&email, STRONG_PASSWORD, "Retried")
            .await
            .status(),
        202
    );

    // The first attempt fails; the message waits for its next turn.
    let deadline = Instant::now() + Duration::from_secs(20);
    while app
        .count(
            "SELECT COUNT(*) FROM mail_outbox WHERE attempts = 1 AND last_error IS NOT NULL \
             AND sent_at IS NULL AND failed_at IS NULL AND claimed_until IS NULL \
             AND next_attempt_at >= created_at + 10",
        )
        .await
        == 0
    {
        assert!(Instant::now() < deadline, "no failed attempt recorded");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    // The server comes up; the retry is brought forward rather than waited
    // for.
    let mut sink = smtp_sink::start_on(port).await;
    app.execute("UPDATE mail_outbox SET next_attempt_at = 0")
        .await;
    let message = tokio::time::timeout(Duration::from_secs(20), sink.messages.recv())
        .await
        .expect("the retry within 20 s")
        .expect("the sink is running");
    let parsed = mail_parser::MessageParser::default()
        .parse(message.as_bytes())
        .expect("an RFC 5322 message");
    assert_eq!(parsed.subject(), Some(VERIFY_SUBJECT));
    assert_eq!(
        parsed
            .to()
            .and_then(|to| to.first())
            .and_then(|a| a.address()),
        Some(email.as_str())
    );
    // The Message-ID names the outbox row, so a copy sent twice is
    // recognisable.
    let id: String = sqlx::query_scalar("SELECT id FROM mail_outbox")
        .fetch_one(app.database.pool())
        .await
        .unwrap();
    assert_eq!(
        parsed.message_id(),
        Some(format!("{id}@example.com").as_str())
    );

    wait_until_sent(&app).await;
    assert_eq!(
        app.count("SELECT attempts FROM mail_outbox WHERE sent_at IS NOT NULL")
            .await,
        1
    );
}

/// The store functions the worker uses, on a database no worker reads.
async fn claims_are_leased_and_failures_wait_their_turn(backend: Backend) {
    let fresh = FreshDatabase::create(backend).await;
    let database = fresh.connect().await;
    let pool = database.pool();
    let email = Email::parse("lease@example.com").unwrap();
    let name = DisplayName::parse("Lease").unwrap();
    let mail = |id| NewMail {
        id,
        recipient: &email,
        recipient_name: &name,
        kind: MailKind::ResetPassword,
        subject: "Reset your password",
        text_body: "text",
        html_body: "<p>html</p>",
        link: "https://example.com/reset-password?token=x",
    };
    let now = 1_800_000_000;
    let first = Uuid::now_v7();
    let second = Uuid::now_v7();
    for id in [first, second] {
        assert!(mail_outbox::insert_capped(pool, mail(id), now, 3)
            .await
            .unwrap());
    }

    // Oldest first; of workers racing for it, one gets it.
    assert_eq!(mail_outbox::next_due(pool, now).await.unwrap(), Some(first));
    let claims = (0..6).map(|_| mail_outbox::claim(pool, first, now, now + 15));
    let won: Vec<_> = futures::future::join_all(claims)
        .await
        .into_iter()
        .filter_map(|claim| claim.unwrap())
        .collect();
    assert_eq!(won.len(), 1);
    assert_eq!(won[0].id, first);
    assert_eq!(won[0].kind, MailKind::ResetPassword);
    assert_eq!(won[0].recipient, email);
    assert_eq!(won[0].attempts, 0);

    // While the claim lasts, the worker moves on to the next message…
    assert_eq!(
        mail_outbox::next_due(pool, now + 15).await.unwrap(),
        Some(second)
    );
    // …and once it has run out (its worker died), another takes over.
    let taken_over = mail_outbox::claim(pool, first, now + 16, now + 31)
        .await
        .unwrap();
    assert!(taken_over.is_some());

    // A failure waits for its next attempt.
    mail_outbox::record_failure(pool, first, "connection refused", now + 16, Some(now + 26))
        .await
        .unwrap();
    assert!(mail_outbox::claim(pool, first, now + 20, now + 35)
        .await
        .unwrap()
        .is_none());
    assert!(mail_outbox::claim(pool, second, now + 20, now + 35)
        .await
        .unwrap()
        .is_some());
    mail_outbox::mark_sent(pool, second, now + 21)
        .await
        .unwrap();
    assert_eq!(
        mail_outbox::next_due(pool, now + 26).await.unwrap(),
        Some(first)
    );
    let retried = mail_outbox::claim(pool, first, now + 26, now + 41)
        .await
        .unwrap()
        .expect("due again");
    assert_eq!(retried.attempts, 1);

    // Given up, the message stays with its error, and is never due again.
    mail_outbox::record_failure(pool, first, "mailbox unavailable", now + 27, None)
        .await
        .unwrap();
    assert_eq!(
        mail_outbox::next_due(pool, now + 100_000).await.unwrap(),
        None
    );
    let (attempts, failed_at, last_error): (i64, Option<i64>, Option<String>) =
        sqlx::query_as("SELECT attempts, failed_at, last_error FROM mail_outbox WHERE id = $1")
            .bind(first.to_string())
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(attempts, 2);
    assert_eq!(failed_at, Some(now + 27));
    assert_eq!(last_error.as_deref(), Some("mailbox unavailable"));

    // A late failure report does not undo a delivery.
    mail_outbox::record_failure(pool, second, "late", now + 30, Some(now + 40))
        .await
        .unwrap();
    let (attempts, sent_at): (i64, Option<i64>) =
        sqlx::query_as("SELECT attempts, sent_at FROM mail_outbox WHERE id = $1")
            .bind(second.to_string())
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((attempts, sent_at), (0, Some(now + 21)));

    // The cap counts the last hour only.
    assert!(
        !mail_outbox::insert_capped(pool, mail(Uuid::now_v7()), now + 3599, 2)
            .await
            .unwrap()
    );
    assert!(
        mail_outbox::insert_capped(pool, mail(Uuid::now_v7()), now + 3600, 2)
            .await
            .unwrap()
    );

    // Housekeeping removes what is finished.
    assert_eq!(
        mail_outbox::delete_finished_before(pool, now + 22, now + 28)
            .await
            .unwrap(),
        2
    );
    database.close().await;
}
