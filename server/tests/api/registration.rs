//! Registration, email verification and resending the link.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::{both_backends, helpers::*};

both_backends!(
    registering_accepts_and_mails_a_verification_link,
    registering_a_taken_address_looks_the_same_and_notifies_the_owner,
    invalid_registrations_list_every_bad_field,
    weak_passwords_are_refused_with_a_reason,
    emails_are_trimmed_and_lowercased,
    verification_tokens_are_single_use_and_stored_hashed,
    unknown_and_expired_verification_tokens_are_refused,
    resending_answers_202_and_mails_only_unverified_accounts,
    passwords_are_stored_as_argon2id,
    registering_a_pending_address_again_takes_it_over,
    accounts_left_unverified_for_a_week_are_deleted,
);

async fn registering_accepts_and_mails_a_verification_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("ada");
    let response = app.register(&email, STRONG_PASSWORD, "Ada Lovelace").await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].is_string());

    let messages = app.wait_for_mail(&email, 1).await;
    let link = messages[0]
        .links
        .iter()
        .find(|link| link.starts_with("http://127.0.0.1:3000/verify-email?token="))
        .expect("a link to the verification page under APP_URL");
    let token = link.split("token=").nth(1).unwrap();
    let bits = URL_SAFE_NO_PAD.decode(token).expect("base64url").len() * 8;
    assert!(bits >= 128, "only {bits} bits");
}

async fn registering_a_taken_address_looks_the_same_and_notifies_the_owner(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("grace").await;

    let first: Value = app
        .register(&unique_email("someone"), STRONG_PASSWORD, "Someone")
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .register(&email, "Another-Password-77x", "Impostor")
        .await;
    assert_eq!(response.status(), 202);
    let again: Value = response.json().await.unwrap();
    assert_eq!(
        first, again,
        "the answer must not reveal that the address is taken"
    );

    let messages = app.wait_for_mail(&email, 2).await;
    let notice = &messages[1];
    assert!(
        notice.subject.contains("already have an account"),
        "{notice:?}"
    );
    assert!(
        !notice.text.contains("verify-email"),
        "no verification link: {notice:?}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 2);

    // The original password still works; the impostor's does not.
    assert_eq!(app.login(&email, STRONG_PASSWORD).await.status(), 200);
    assert_eq!(
        app.login(&email, "Another-Password-77x").await.status(),
        401
    );
}

async fn invalid_registrations_list_every_bad_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": "short", "name": "  "}),
            vec!["email", "password", "name"],
        ),
        (json!({}), vec!["email", "password", "name"]),
        (
            json!({"email": "a@example.com", "password": "x".repeat(129), "name": "A"}),
            vec!["password"],
        ),
        (
            json!({"email": "a@example.com", "password": STRONG_PASSWORD, "name": "n".repeat(101)}),
            vec!["name"],
        ),
    ];
    for (body, fields) in cases {
        let response = app.post_json("/api/auth/register", &body).await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        let reported: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|error| {
                assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
                error["field"].as_str().unwrap()
            })
            .collect();
        assert_eq!(reported, fields, "{body}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
}

async fn weak_passwords_are_refused_with_a_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    for password in ["password123", "qwertyuiop", "12345678", "Ada Lovelace"] {
        let response = app
            .register(&unique_email("ada"), password, "Ada Lovelace")
            .await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "password", "{password}");
        assert!(problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too easy to guess"));
    }
}

async fn emails_are_trimmed_and_lowercased(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("mixed");
    let shouted = format!("  {}  ", email.to_uppercase());
    assert_eq!(
        app.register(&shouted, STRONG_PASSWORD, " Mixed Case ")
            .await
            .status(),
        202
    );
    let token = app.verification_token(&email, 1).await;
    app.post_json("/api/auth/verify-email", &json!({"token": token}))
        .await;
    let response = app.login(&email.to_uppercase(), STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], email);
    assert_eq!(body["user"]["name"], "Mixed Case");
}

async fn verification_tokens_are_single_use_and_stored_hashed(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("lin");
    app.register(&email, STRONG_PASSWORD, "Lin").await;
    let token = app.verification_token(&email, 1).await;

    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM email_tokens")
        .fetch_all(app.database.pool())
        .await
        .unwrap();
    assert_eq!(stored, [hex::encode(Sha256::digest(token.as_bytes()))]);
    assert_eq!(
        app.count("SELECT expires_at - created_at FROM email_tokens")
            .await,
        24 * 60 * 60,
        "verification links last 24 hours"
    );

    // Unverified: the right password is not enough yet.
    assert_problem(
        app.login(&email, STRONG_PASSWORD).await,
        403,
        "email_not_verified",
    )
    .await;
    // The wrong one is still just wrong.
    assert_problem(
        app.login(&email, "Wrong-Password-123").await,
        401,
        "invalid_credentials",
    )
    .await;

    let response = app
        .post_json("/api/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].is_string());

    let again = app
        .post_json("/api/auth/verify-email", &json!({"token": token}))
        .await;
    assert_problem(again, 400, "invalid_link").await;

    let response = app.login(&email, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email_verified"], true);
}

async fn unknown_and_expired_verification_tokens_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    for token in ["", "nonsense", &"x".repeat(2_000)] {
        let response = app
            .post_json("/api/auth/verify-email", &json!({"token": token}))
            .await;
        assert_problem(response, 400, "invalid_link").await;
    }

    let email = unique_email("old");
    app.register(&email, STRONG_PASSWORD, "Old").await;
    let token = app.verification_token(&email, 1).await;
    app.execute("UPDATE email_tokens SET expires_at = expires_at - 86401")
        .await;
    let response = app
        .post_json("/api/auth/verify-email", &json!({"token": token}))
        .await;
    assert_problem(response, 400, "invalid_link").await;
    assert_problem(
        app.login(&email, STRONG_PASSWORD).await,
        403,
        "email_not_verified",
    )
    .await;
}

async fn resending_answers_202_and_mails_only_unverified_accounts(backend: Backend) {
    let app = spawn_app(backend).await;
    let resend = |email: String| {
        let app = &app;
        async move {
            app.post_json("/api/auth/resend-verification", &json!({"email": email}))
                .await
        }
    };

    let unknown = unique_email("nobody");
    let response = resend(unknown.clone()).await;
    assert_eq!(response.status(), 202);
    let unknown_body: Value = response.json().await.unwrap();

    let pending = unique_email("pending");
    app.register(&pending, STRONG_PASSWORD, "Pending").await;
    app.wait_for_mail(&pending, 1).await;
    let response = resend(pending.to_uppercase()).await;
    assert_eq!(response.status(), 202);
    assert_eq!(response.json::<Value>().await.unwrap(), unknown_body);
    // The second link works even though the first was never used.
    let token = app.verification_token(&pending, 2).await;
    let response = app
        .post_json("/api/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(response.status(), 200);

    let verified = app.verified_user("done").await;
    assert_eq!(resend(verified.clone()).await.status(), 202);

    // Give the mail worker every chance to (wrongly) send something.
    let marker = unique_email("marker");
    app.register(&marker, STRONG_PASSWORD, "Marker").await;
    app.wait_for_mail(&marker, 1).await;
    assert!(app.mail_to(&unknown).is_empty());
    assert_eq!(app.mail_to(&verified).len(), 1);

    // Even nonsense gets the same answer: "always 202".
    for email in ["nope", ""] {
        let response = app
            .post_json("/api/auth/resend-verification", &json!({"email": email}))
            .await;
        assert_eq!(response.status(), 202);
        assert_eq!(response.json::<Value>().await.unwrap(), unknown_body);
    }
}

async fn passwords_are_stored_as_argon2id(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register(&unique_email("hash"), STRONG_PASSWORD, "Hash")
        .await;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(app.database.pool())
        .await
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(STRONG_PASSWORD));
}

/// Whoever registered an address first gains nothing once its owner
/// registers too: the newest registration is the one the link confirms.
async fn registering_a_pending_address_again_takes_it_over(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("victim");
    let squatter_password = "Squatter-Password-13x";
    assert_eq!(
        app.register(&email, squatter_password, "Squatter")
            .await
            .status(),
        202
    );
    let first_link = app.verification_token(&email, 1).await;

    let response = app.register(&email, STRONG_PASSWORD, "Owner").await;
    assert_eq!(response.status(), 202);
    let second_link = app.verification_token(&email, 2).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);

    assert_problem(
        app.post_json("/api/auth/verify-email", &json!({"token": first_link}))
            .await,
        400,
        "invalid_link",
    )
    .await;
    assert_eq!(
        app.post_json("/api/auth/verify-email", &json!({"token": second_link}))
            .await
            .status(),
        200
    );
    assert_problem(
        app.login(&email, squatter_password).await,
        401,
        "invalid_credentials",
    )
    .await;
    let response = app.login(&email, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["name"], "Owner");
}

async fn accounts_left_unverified_for_a_week_are_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let stale = unique_email("stale");
    let fresh = unique_email("fresh");
    app.register(&stale, STRONG_PASSWORD, "Stale").await;
    app.register(&fresh, STRONG_PASSWORD, "Fresh").await;
    let verified = app.verified_user("kept").await;
    app.execute(&format!(
        "UPDATE users SET created_at = created_at - {} WHERE email IN ('{stale}', '{verified}')",
        7 * 24 * 60 * 60 + 1
    ))
    .await;
    let swept = server::housekeeping::sweep(&app.database, server::clock::unix_now())
        .await
        .unwrap();
    assert_eq!(swept.unverified_accounts, 1);
    let remaining = app.count("SELECT COUNT(*) FROM users").await;
    assert_eq!(
        remaining, 2,
        "the fresh pending one and the verified one stay"
    );
}
