//! Delivery through SMTP, and that mail never holds up a response.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use crate::{both_backends, helpers::*, smtp_sink};

both_backends!(
    mail_goes_through_smtp_when_configured,
    an_unreachable_mail_server_does_not_fail_registration,
    a_flood_of_logins_does_not_stall_other_requests,
);

async fn mail_goes_through_smtp_when_configured(backend: Backend) {
    let mut sink = smtp_sink::start().await;
    let app = spawn_app_with(
        backend,
        &[
            ("SMTP_URL", &sink.url),
            ("MAIL_FROM", "Accounts <accounts@example.com>"),
        ],
    )
    .await;
    let email = unique_email("smtp");
    assert_eq!(
        app.register(&email, STRONG_PASSWORD, "Smtp").await.status(),
        202
    );

    let message = tokio::time::timeout(Duration::from_secs(10), sink.messages.recv())
        .await
        .expect("a message within 10 s")
        .expect("the sink is running");
    let parsed = mail_parser::MessageParser::default()
        .parse(message.as_bytes())
        .expect("an RFC 5322 message");
    assert_eq!(parsed.subject(), Some("Verify your email address"));
    assert_eq!(
        parsed
            .to()
            .and_then(|to| to.first())
            .and_then(|a| a.address()),
        Some(email.as_str())
    );
    assert_eq!(
        parsed
            .from()
            .and_then(|from| from.first())
            .and_then(|a| a.address()),
        Some("accounts@example.com")
    );
    let text = parsed.body_text(0).unwrap();
    assert!(
        text.contains("http://127.0.0.1:3000/verify-email?token="),
        "{text}"
    );
    assert!(app.mail_to(&email).is_empty(), "nothing in the outbox");
}

async fn an_unreachable_mail_server_does_not_fail_registration(backend: Backend) {
    // Bind and drop a listener to find a port where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(backend, &[("SMTP_URL", &url)]).await;
    let response = app
        .register(&unique_email("offline"), STRONG_PASSWORD, "Offline")
        .await;
    assert_eq!(response.status(), 202);
    assert_eq!(app.get("/api/ready").await.status(), 200);
}

async fn a_flood_of_logins_does_not_stall_other_requests(backend: Backend) {
    // Queued, not shed (shedding has tests of its own in `limits`), and
    // every one checked (the lockout has tests of its own in `lockout`).
    let app = Arc::new(
        spawn_app_with(
            backend,
            &[("PASSWORD_HASH_QUEUE", "64"), ("LOCKOUT_THRESHOLD", "100")],
        )
        .await,
    );
    let email = app.verified_user("flood").await;
    let finished = Arc::new(AtomicUsize::new(0));
    const LOGINS: usize = 24;

    let flood: Vec<_> = (0..LOGINS)
        .map(|_| {
            let app = Arc::clone(&app);
            let email = email.clone();
            let finished = Arc::clone(&finished);
            tokio::spawn(async move {
                let status = app.login(&email, "Wrong-Password-000").await.status();
                finished.fetch_add(1, Ordering::SeqCst);
                status
            })
        })
        .collect();

    // Wait until the server is busy hashing, then ask it something cheap.
    tokio::task::yield_now().await;
    let health = app.get("/api/health").await;
    assert_eq!(health.status(), 200);
    assert!(
        finished.load(Ordering::SeqCst) < LOGINS,
        "the health check waited for every password hash"
    );

    for login in flood {
        assert_eq!(login.await.unwrap(), 401);
    }
}
