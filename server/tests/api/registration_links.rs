//! The confirmation links of sign-ups (see `registration.rs`): stored
//! hashed and good once, five tries of the sign-up's password per link even
//! in a burst, and unknown or expired links refused.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::{both_backends, helpers::*};

both_backends!(
    links_are_stored_hashed_and_single_use,
    five_wrong_passwords_spend_the_link,
    a_burst_of_guesses_gets_no_more_than_five_checks,
    unknown_and_expired_links_are_refused,
);

async fn links_are_stored_hashed_and_single_use(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("hashed");
    app.register(&email, STRONG_PASSWORD, "Hashed").await;
    let token = app.verification_token(&email, 1).await;

    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM pending_signups")
        .fetch_all(app.database.pool())
        .await
        .unwrap();
    assert_eq!(stored, [hex::encode(Sha256::digest(token.as_bytes()))]);
    assert_eq!(
        app.count("SELECT expires_at - created_at FROM pending_signups")
            .await,
        24 * 60 * 60,
        "sign-ups last 24 hours"
    );

    assert_eq!(
        app.verify_email(&token, STRONG_PASSWORD).await.status(),
        200
    );
    let again = app.verify_email(&token, STRONG_PASSWORD).await;
    assert_problem(again, 400, "invalid_link").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
}

async fn five_wrong_passwords_spend_the_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("spent");
    app.register(&email, STRONG_PASSWORD, "Spent").await;
    let token = app.verification_token(&email, 1).await;
    for _ in 0..5 {
        let response = app.verify_email(&token, "Wrong-Password-0001").await;
        assert_problem(response, 422, "validation_failed").await;
    }
    assert_problem(
        app.verify_email(&token, STRONG_PASSWORD).await,
        400,
        "invalid_link",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);

    // A fresh link for the same sign-up has its own five tries.
    app.post_json("/api/auth/resend-verification", &json!({"email": email}))
        .await;
    let fresh = app.verification_token(&email, 2).await;
    assert_eq!(
        app.verify_email(&fresh, STRONG_PASSWORD).await.status(),
        200
    );
}

/// Each try is counted before its password is checked, in one statement:
/// twenty guesses at once get five checks, and the right password sent in
/// the same burst cannot win once the five are used.
async fn a_burst_of_guesses_gets_no_more_than_five_checks(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("burst");
    app.register(&email, STRONG_PASSWORD, "Burst").await;
    let token = app.verification_token(&email, 1).await;
    let guesses = (0..20).map(|n| {
        let app = &app;
        let token = token.clone();
        async move {
            app.verify_email(&token, &format!("Guess-Number-{n:04}"))
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|status| **status == 422).count();
    let refused = statuses.iter().filter(|status| **status == 400).count();
    assert_eq!((checked, refused), (5, 15), "{statuses:?}");
    assert_eq!(
        app.count("SELECT tries FROM pending_signups").await,
        5,
        "no try went uncounted"
    );
    assert_problem(
        app.verify_email(&token, STRONG_PASSWORD).await,
        400,
        "invalid_link",
    )
    .await;
}

async fn unknown_and_expired_links_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    for token in ["", "nonsense", &"x".repeat(2_000)] {
        let response = app.verify_email(token, STRONG_PASSWORD).await;
        assert_problem(response, 400, "invalid_link").await;
    }
    // A well-formed token that was never issued.
    let unknown = URL_SAFE_NO_PAD.encode([7u8; 32]);
    assert_problem(
        app.verify_email(&unknown, STRONG_PASSWORD).await,
        400,
        "invalid_link",
    )
    .await;

    let email = unique_email("old");
    app.register(&email, STRONG_PASSWORD, "Old").await;
    let token = app.verification_token(&email, 1).await;
    app.execute("UPDATE pending_signups SET expires_at = expires_at - 86401")
        .await;
    assert_problem(
        app.verify_email(&token, STRONG_PASSWORD).await,
        400,
        "invalid_link",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
}
