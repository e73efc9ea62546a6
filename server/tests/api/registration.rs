//! Sign-up, its confirmation (bound to the password chosen at sign-up),
//! and resending the link (the links themselves in `registration_links.rs`).
//! The takeover attempts are in `takeover.rs`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde_json::{json, Value};

use crate::{both_backends, helpers::*};

both_backends!(
    registering_accepts_and_mails_a_verification_link,
    the_mail_carries_no_typed_name,
    registering_a_taken_address_looks_the_same_and_notifies_the_owner,
    invalid_registrations_list_every_bad_field,
    weak_passwords_are_refused_with_a_reason,
    emails_are_trimmed_and_lowercased,
    confirming_needs_the_sign_ups_password_and_signs_in,
    a_pending_sign_up_signs_in_like_an_unknown_address,
    resending_renews_the_newest_sign_up_and_answers_the_same,
    passwords_are_stored_as_argon2id,
    an_address_keeps_its_three_newest_sign_ups,
    expired_sign_ups_are_swept,
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
    // No account exists until the link is followed.
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM pending_signups").await, 1);
}

/// Anyone can type anything into the name field and send it to any
/// address: the mail must not carry it.
async fn the_mail_carries_no_typed_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("target");
    let typed = "Call 555-0100 to claim your prize";
    app.register(&email, STRONG_PASSWORD, typed).await;
    let messages = app.wait_for_mail(&email, 1).await;
    assert!(!messages[0].text.contains("555-0100"), "{:?}", messages[0]);
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
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM pending_signups WHERE email = '{email}'"
        ))
        .await,
        0,
        "nothing is stored for a taken address"
    );

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
    assert_eq!(app.count("SELECT COUNT(*) FROM pending_signups").await, 0);
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
    assert_eq!(
        app.verify_email(&token, STRONG_PASSWORD).await.status(),
        200
    );
    let response = app.login(&email.to_uppercase(), STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], email);
    assert_eq!(body["user"]["name"], "Mixed Case");
}

async fn confirming_needs_the_sign_ups_password_and_signs_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("lin");
    app.register(&email, STRONG_PASSWORD, "Lin").await;
    let token = app.verification_token(&email, 1).await;

    // A wrong password: a field error, and the link stays usable.
    let response = app.verify_email(&token, "Not-The-Password-42").await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "password", "{problem}");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("4 tries left"));
    let response = app.verify_email(&token, "").await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "password", "{problem}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);

    // The right one creates the account and signs it in, as a login does.
    let response = app.verify_email(&token, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = set_cookie(&response).expect("a refresh cookie, as after login");
    assert!(cookie.has("HttpOnly"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["user"]["email"], email);
    assert_eq!(body["user"]["name"], "Lin");
    assert_eq!(body["user"]["email_verified"], true);
    let access_token = body["access_token"].as_str().unwrap();
    let me = app.get_with_token("/api/me", access_token).await;
    assert_eq!(me.status(), 200);
    assert_eq!(app.refresh(&cookie.value).await.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM pending_signups").await, 0);
}

/// Sign-in answers a pending sign-up exactly as it answers an address
/// nobody used: the register-then-login probe learns nothing.
async fn a_pending_sign_up_signs_in_like_an_unknown_address(backend: Backend) {
    let app = spawn_app(backend).await;
    let pending = unique_email("pending");
    app.register(&pending, STRONG_PASSWORD, "Pending").await;
    app.wait_for_mail(&pending, 1).await;

    let unknown = app.login(&unique_email("nobody"), STRONG_PASSWORD).await;
    let unknown = assert_problem(unknown, 401, "invalid_credentials").await;
    let right = app.login(&pending, STRONG_PASSWORD).await;
    assert!(set_cookie(&right).is_none());
    let right = assert_problem(right, 401, "invalid_credentials").await;
    let wrong = app.login(&pending, "Wrong-Password-123").await;
    let wrong = assert_problem(wrong, 401, "invalid_credentials").await;
    for problem in [&right, &wrong] {
        assert_eq!(problem["detail"], unknown["detail"]);
        assert_eq!(problem["title"], unknown["title"]);
    }
}

async fn resending_renews_the_newest_sign_up_and_answers_the_same(backend: Backend) {
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
    app.register(&pending, "First-Choice-Password-1", "Pending")
        .await;
    app.register(&pending, STRONG_PASSWORD, "Pending").await;
    let older_link = app.verification_token(&pending, 2).await;
    let response = resend(pending.to_uppercase()).await;
    assert_eq!(response.status(), 202);
    assert_eq!(response.json::<Value>().await.unwrap(), unknown_body);
    // The fresh link is for the newest sign-up, whose own link stopped
    // working.
    let token = app.verification_token(&pending, 3).await;
    assert_problem(
        app.verify_email(&older_link, STRONG_PASSWORD).await,
        400,
        "invalid_link",
    )
    .await;
    assert_eq!(
        app.verify_email(&token, STRONG_PASSWORD).await.status(),
        200
    );

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
    let email = app.verified_user("hash").await;
    for table in ["pending_signups", "users"] {
        if table == "pending_signups" {
            app.register(&unique_email("pending"), STRONG_PASSWORD, "Hash")
                .await;
        }
        let hashes: Vec<String> = sqlx::query_scalar(&format!("SELECT password_hash FROM {table}"))
            .fetch_all(app.database.pool())
            .await
            .unwrap();
        assert!(!hashes.is_empty(), "{table} of {email}");
        for hash in hashes {
            assert!(
                hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
                "{hash}"
            );
            assert!(!hash.contains(STRONG_PASSWORD));
        }
    }
}

async fn an_address_keeps_its_three_newest_sign_ups(backend: Backend) {
    let app = spawn_app_with(backend, &[("MAIL_HOURLY_LIMIT", "10")]).await;
    let email = unique_email("many");
    for n in 0..5 {
        app.register(&email, &format!("Sign-Up-Password-{n}x"), "Many")
            .await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM pending_signups").await,
        3,
        "only the newest three stay"
    );
    let oldest = app.verification_token(&email, 1).await;
    assert_problem(
        app.verify_email(&oldest, "Sign-Up-Password-0x").await,
        400,
        "invalid_link",
    )
    .await;
    let newest = app.verification_token(&email, 5).await;
    assert_eq!(
        app.verify_email(&newest, "Sign-Up-Password-4x")
            .await
            .status(),
        200
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM pending_signups").await,
        0,
        "the address's other sign-ups are dropped with the confirmation"
    );
}

async fn expired_sign_ups_are_swept(backend: Backend) {
    let app = spawn_app(backend).await;
    let stale = unique_email("stale");
    let fresh = unique_email("fresh");
    app.register(&stale, STRONG_PASSWORD, "Stale").await;
    app.register(&fresh, STRONG_PASSWORD, "Fresh").await;
    app.verified_user("kept").await;
    app.execute(&format!(
        "UPDATE pending_signups SET expires_at = expires_at - 86401 WHERE email = '{stale}'"
    ))
    .await;
    let swept = server::housekeeping::sweep(&app.database, server::clock::unix_now())
        .await
        .unwrap();
    assert_eq!(swept.pending_signups, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM pending_signups").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
}
