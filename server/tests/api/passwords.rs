//! Forgotten, reset and changed passwords.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{both_backends, helpers::*, sessions::session_id_of};

both_backends!(
    forgot_password_answers_alike_for_known_and_unknown_addresses,
    a_reset_ends_every_session_on_every_instance_and_works_once,
    asking_again_spends_the_older_link,
    weak_passwords_and_bad_links_are_refused_without_spending_the_link,
    a_pending_sign_up_gets_no_reset_link,
    changing_the_password_keeps_this_session_and_ends_the_others,
    a_refresh_that_waited_for_its_own_sessions_change_goes_on,
    changing_the_password_needs_the_current_one_and_a_strong_new_one,
);

const NEW_PASSWORD: &str = "Violet-Anchor-Meadow-57";

async fn forgot(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_json("/api/auth/forgot-password", &json!({"email": email}))
        .await
}

async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/auth/reset-password",
        &json!({"token": token, "password": password}),
    )
    .await
}

async fn forgot_password_answers_alike_for_known_and_unknown_addresses(backend: Backend) {
    let app = spawn_app(backend).await;
    let known = app.verified_user("known").await;
    let unknown = unique_email("nobody");

    let for_known = forgot(&app, &known).await;
    let for_unknown = forgot(&app, &unknown).await;
    let for_garbage = forgot(&app, "not an address").await;
    assert_eq!(for_known.status(), 202);
    assert_eq!(for_unknown.status(), 202);
    assert_eq!(for_garbage.status(), 202);
    let bodies: Vec<Value> = vec![
        for_known.json().await.unwrap(),
        for_unknown.json().await.unwrap(),
        for_garbage.json().await.unwrap(),
    ];
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[0], bodies[2]);

    // The verification mail, then the reset link; nothing for the unknown.
    let mail = app.wait_for_mail(&known, 2).await;
    assert_eq!(mail[1].subject, "Reset your password");
    assert!(app.mail_to(&unknown).is_empty());
}

async fn a_reset_ends_every_session_on_every_instance_and_works_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("reset").await;
    let laptop = app.sign_in(&email).await;
    let phone = app.sign_in(&email).await;
    let elsewhere = app.another_instance().await;
    for session in [&laptop, &phone] {
        assert_eq!(
            elsewhere
                .get_with_token("/api/me", &session.access_token)
                .await
                .status(),
            200
        );
    }

    assert_eq!(forgot(&app, &email).await.status(), 202);
    let token = app.reset_token(&email, 2).await;
    let response = reset(&app, &token, NEW_PASSWORD).await;
    assert_eq!(response.status(), 200);

    for session in [&laptop, &phone] {
        assert_problem(
            app.get_with_token("/api/me", &session.access_token).await,
            401,
            "invalid_token",
        )
        .await;
        assert_problem(
            app.refresh(&session.refresh_token).await,
            401,
            "invalid_refresh_token",
        )
        .await;
        // The other instance hears of it too (NOTIFY on PostgreSQL; a
        // SQLite deployment is one process, whose restart reloads).
        if backend == Backend::Postgres {
            wait_until_refused(&elsewhere, &session.access_token).await;
        }
    }

    assert_problem(
        app.login(&email, STRONG_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(app.login(&email, NEW_PASSWORD).await.status(), 200);
    // Once only.
    assert_problem(
        reset(&app, &token, "Another-Fine-Password-12").await,
        400,
        "invalid_link",
    )
    .await;
    // The owner is told.
    let mail = app.wait_for_mail(&email, 3).await;
    assert_eq!(mail[2].subject, "Your password was changed");
}

pub async fn wait_until_refused(app: &TestApp, access_token: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let status = app.get_with_token("/api/me", access_token).await.status();
        if status == 401 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "still {status}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

async fn asking_again_spends_the_older_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("twice").await;
    forgot(&app, &email).await;
    let first = app.reset_token(&email, 2).await;
    forgot(&app, &email).await;
    let second = app.reset_token(&email, 3).await;
    assert_ne!(first, second);
    assert_problem(reset(&app, &first, NEW_PASSWORD).await, 400, "invalid_link").await;
    assert_eq!(reset(&app, &second, NEW_PASSWORD).await.status(), 200);
}

async fn weak_passwords_and_bad_links_are_refused_without_spending_the_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("weak").await;
    forgot(&app, &email).await;
    let token = app.reset_token(&email, 2).await;

    let body = assert_problem(
        reset(&app, &token, "password").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "password");
    let body = assert_problem(reset(&app, &token, "short").await, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "password");
    for bad in ["", "nonsense", &"x".repeat(600)] {
        assert_problem(reset(&app, bad, NEW_PASSWORD).await, 400, "invalid_link").await;
    }
    // The link survived the refusals…
    assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status(), 200);

    // …and a link past its 30 minutes is dead.
    forgot(&app, &email).await;
    let late = app.reset_token(&email, 4).await;
    app.execute(
        "UPDATE email_tokens SET expires_at = expires_at - 1801 WHERE purpose = 'reset_password'",
    )
    .await;
    assert_problem(
        reset(&app, &late, "Yet-Another-Password-34").await,
        400,
        "invalid_link",
    )
    .await;
}

/// A sign-up that was never confirmed is no account: it gets no reset
/// link (which would confirm the address without its sign-up's password).
async fn a_pending_sign_up_gets_no_reset_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("pending");
    assert_eq!(
        app.register(&email, STRONG_PASSWORD, "Pending")
            .await
            .status(),
        202
    );
    app.wait_for_mail(&email, 1).await;
    assert_eq!(forgot(&app, &email).await.status(), 202);
    // A marker mail to another address, sent after: once it is out, a
    // reset link would be too.
    let marker = app.verified_user("marker").await;
    forgot(&app, &marker).await;
    app.reset_token(&marker, 2).await;
    assert_eq!(app.mail_to(&email).len(), 1, "only the sign-up's link");
    assert_problem(
        app.login(&email, STRONG_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn change(app: &TestApp, session: &Session, current: &str, new: &str) -> reqwest::Response {
    app.send_with_token(
        Method::POST,
        "/api/me/password",
        &session.access_token,
        Some(&json!({"current_password": current, "new_password": new})),
    )
    .await
}

async fn changing_the_password_keeps_this_session_and_ends_the_others(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("changer").await;
    let here = app.sign_in(&email).await;
    let there = app.sign_in(&email).await;

    let response = change(&app, &here, STRONG_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(response.status(), 204);

    assert_eq!(
        app.get_with_token("/api/me", &here.access_token)
            .await
            .status(),
        200
    );
    assert_eq!(app.refresh(&here.refresh_token).await.status(), 200);
    assert_problem(
        app.get_with_token("/api/me", &there.access_token).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(
        app.refresh(&there.refresh_token).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_problem(
        app.login(&email, STRONG_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(app.login(&email, NEW_PASSWORD).await.status(), 200);
    let mail = app.wait_for_mail(&email, 2).await;
    assert_eq!(mail[1].subject, "Your password was changed");
}

/// The session that changes the password renews its token at the same
/// moment. On PostgreSQL the order is forced: the change has moved this
/// session to the new credential epoch and waits (on a row the test holds)
/// to end the other one, while the renewal waits for this session's row.
/// A renewal that then checked the row's new epoch against the account's
/// epoch as it was when the renewal began (its statement's snapshot) took
/// the session for a stale one: 401, and the browser signed out.
async fn a_refresh_that_waited_for_its_own_sessions_change_goes_on(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("renewing").await;
    let here = app.sign_in(&email).await;
    let there = app.sign_in(&email).await;
    let mut hold = app.database.pool().begin().await.unwrap();
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM sessions WHERE id = $1 FOR UPDATE")
            .bind(session_id_of(&there.access_token))
            .execute(&mut *hold)
            .await
            .unwrap();
    }

    let (changed, renewed) =
        tokio::join!(change(&app, &here, STRONG_PASSWORD, NEW_PASSWORD), async {
            app.wait_for_lock_waiters(backend, 1).await;
            let (renewed, ()) = tokio::join!(app.refresh(&here.refresh_token), async {
                app.wait_for_lock_waiters(backend, 2).await;
                hold.commit().await.unwrap();
            });
            renewed
        });

    assert_eq!(changed.status(), 204);
    assert_eq!(renewed.status(), 200, "{}", renewed.text().await.unwrap());
    let cookie = set_cookie(&renewed).expect("a new refresh cookie").value;
    let body: Value = renewed.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(app.get_with_token("/api/me", token).await.status(), 200);
    assert_eq!(app.refresh(&cookie).await.status(), 200);
    assert_problem(
        app.refresh(&there.refresh_token).await,
        401,
        "invalid_refresh_token",
    )
    .await;
}

async fn changing_the_password_needs_the_current_one_and_a_strong_new_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("careful").await;

    let body = assert_problem(
        change(&app, &session, "Not-My-Password-00", NEW_PASSWORD).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "current_password");
    let body = assert_problem(
        change(&app, &session, "", NEW_PASSWORD).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "current_password");
    for weak in ["short", "password123"] {
        let body = assert_problem(
            change(&app, &session, STRONG_PASSWORD, weak).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "new_password", "{weak}");
    }
    // Nothing changed.
    assert_eq!(
        app.login(&session.email, STRONG_PASSWORD).await.status(),
        200
    );

    let anonymous = app
        .post_json(
            "/api/me/password",
            &json!({"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_problem(anonymous, 401, "authentication_required").await;
}
