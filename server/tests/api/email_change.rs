//! Moving an account to another email address: the link to the new
//! address, the notice with its undo link to the old one, and the undo.
//! Attacks tried here: telling a taken address from a free one, and
//! signing in with the new address before it is confirmed; the races,
//! replays and stale proofs are in `email_change_races.rs`.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{both_backends, helpers::*};

both_backends!(
    a_change_is_confirmed_from_the_new_address_and_told_to_the_old,
    sign_in_keeps_the_old_address_until_the_new_one_is_confirmed,
    undoing_ends_every_session_and_mails_a_reset_to_the_old_address,
    a_taken_address_is_answered_like_a_free_one,
);

pub async fn ask(app: &TestApp, token: &str, email: &str) -> reqwest::Response {
    app.send_with_token(
        Method::POST,
        "/api/me/email",
        token,
        Some(&json!({"email": email})),
    )
    .await
}

pub async fn confirm(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/auth/confirm-email", &json!({"token": token}))
        .await
}

pub async fn undo(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/auth/undo-email-change", &json!({"token": token}))
        .await
}

/// Asks, with `access_token`, to move its account to `new_email` (202);
/// returns the token of the confirmation link mailed there.
pub async fn asked(app: &TestApp, access_token: &str, new_email: &str) -> String {
    let before = app.mail_to(new_email).len();
    assert_eq!(ask(app, access_token, new_email).await.status(), 202);
    app.confirm_email_token(new_email, before + 1).await
}

/// Asks for and confirms a change of `session`'s account from `old` to
/// `new_email`; returns the undo token mailed to the old address.
pub async fn change(app: &TestApp, session: &Session, old: &str, new_email: &str) -> String {
    let token = asked(app, &session.access_token, new_email).await;
    let told = app.mail_to(old).len();
    let response = confirm(app, &token).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    app.undo_email_token(old, told + 1).await
}

pub async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.get_with_token("/api/me", token).await
}

/// How many accounts are the session's with the address it signed in with:
/// 1 while the address is still its own.
pub async fn at_its_address(app: &TestApp, session: &Session) -> i64 {
    let user_id = &session.user_id;
    app.count(&format!(
        "SELECT COUNT(*) FROM users WHERE id = '{user_id}' AND email = '{}'",
        session.email
    ))
    .await
}

async fn activity(app: &TestApp, token: &str) -> Vec<String> {
    let body: Value = app
        .get_with_token("/api/me/activity", token)
        .await
        .json()
        .await
        .unwrap();
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_change_is_confirmed_from_the_new_address_and_told_to_the_old(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("mover").await;
    let other_device = app.sign_in(&session.email).await;
    let new_email = unique_email("moved");

    let response = ask(&app, &session.access_token, &new_email).await;
    assert_eq!(response.status(), 202);
    let token = app.confirm_email_token(&new_email, 1).await;
    let response = confirm(&app, &token).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains(&new_email));

    // The address changed; the session that asked keeps going, the other
    // one ended with the change, on its access and its refresh token.
    let user: Value = me(&app, &session.access_token).await.json().await.unwrap();
    assert_eq!(user["email"], new_email.as_str());
    assert_eq!(user["email_verified"], true);
    assert_problem(
        me(&app, &other_device.access_token).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(app.refresh(&other_device.refresh_token).await.status(), 401);
    assert_eq!(app.refresh(&session.refresh_token).await.status(), 200);

    // The old address is told (after its sign-up's link), with a link to
    // undo it.
    let mail = app.wait_for_mail(&session.email, 2).await;
    assert!(mail[1].text.contains(&new_email), "{}", mail[1].text);
    app.undo_email_token(&session.email, 2).await;

    // The link works once.
    assert_problem(confirm(&app, &token).await, 400, "invalid_link").await;
    let kinds = activity(&app, &session.access_token).await;
    for kind in ["email_change_requested", "email_changed", "session_ended"] {
        assert!(kinds.iter().any(|seen| seen == kind), "{kind}: {kinds:?}");
    }
}

async fn sign_in_keeps_the_old_address_until_the_new_one_is_confirmed(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("patient").await;
    let new_email = unique_email("later");
    let token = asked(&app, &session.access_token, &new_email).await;

    assert_eq!(
        app.login(&session.email, STRONG_PASSWORD).await.status(),
        200
    );
    assert_problem(
        app.login(&new_email, STRONG_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    let user: Value = me(&app, &session.access_token).await.json().await.unwrap();
    assert_eq!(user["email"], session.email.as_str());

    assert_eq!(confirm(&app, &token).await.status(), 200);
    assert_eq!(app.login(&new_email, STRONG_PASSWORD).await.status(), 200);
    assert_problem(
        app.login(&session.email, STRONG_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn undoing_ends_every_session_and_mails_a_reset_to_the_old_address(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("victim").await;
    let new_email = unique_email("thief");
    let undo_token = change(&app, &session, &session.email, &new_email).await;
    // The one who changed it signs in with the new address.
    let thief = app.sign_in(&new_email).await;
    // A second factor older than the session that asked, which the undo
    // leaves alone (newer ones: `email_change_undo`).
    app.execute(&format!(
        "INSERT INTO totp_factors (user_id, secret, created_at, confirmed_at) \
         VALUES ('{}', 'sealed', 1, 1)",
        session.user_id
    ))
    .await;
    app.execute(&format!(
        "INSERT INTO recovery_codes (code_hash, user_id, created_at) VALUES ('h1', '{}', 1)",
        session.user_id
    ))
    .await;

    let response = undo(&app, &undo_token).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    // Every session ended, the one that asked included.
    for ended in [&session, &thief] {
        assert_problem(me(&app, &ended.access_token).await, 401, "invalid_token").await;
        assert_eq!(app.refresh(&ended.refresh_token).await.status(), 401);
    }
    // The old address is back; the password known to whoever made the
    // change no longer works with either address.
    for email in [&session.email, &new_email] {
        assert_problem(
            app.login(email, STRONG_PASSWORD).await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    assert_eq!(at_its_address(&app, &session).await, 1);
    let user_id = &session.user_id;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM totp_factors WHERE user_id = '{user_id}'"
        ))
        .await
            + app
                .count(&format!(
                    "SELECT COUNT(*) FROM recovery_codes WHERE user_id = '{user_id}'"
                ))
                .await,
        2,
        "the older second factors stay"
    );

    // A reset link went to the old address, and works.
    // (The old address's mail: its sign-up, the change, the reset.)
    let reset = app.reset_token(&session.email, 3).await;
    let new_password = "Cobalt-Fennel-Lantern-84";
    let response = app
        .post_json(
            "/api/auth/reset-password",
            &json!({"token": reset, "password": new_password}),
        )
        .await;
    assert_eq!(response.status(), 200);
    // The account has a second factor: the password is right, a code is next.
    assert_eq!(app.login(&session.email, new_password).await.status(), 202);

    // The undo link works once.
    assert_problem(undo(&app, &undo_token).await, 400, "invalid_link").await;
    let events = app
        .count(&format!(
            "SELECT COUNT(*) FROM security_events WHERE user_id = '{user_id}' \
             AND kind = 'email_change_undone'"
        ))
        .await;
    assert_eq!(events, 1);
}

/// The same status and the same body for a free address, another account's
/// address and the asker's own; only the mail differs, and it goes to the
/// address's owner.
async fn a_taken_address_is_answered_like_a_free_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("prober").await;
    let owner = app.verified_user("owner").await;
    let free = unique_email("free");

    let mut answers = Vec::new();
    for address in [&free, &owner, &session.email] {
        let response = ask(&app, &session.access_token, address).await;
        answers.push((response.status(), response.text().await.unwrap()));
    }
    assert_eq!(answers[0].0, 202);
    assert!(
        answers.iter().all(|answer| *answer == answers[0]),
        "{answers:?}"
    );

    // The free address got a link; the taken ones a notice without one.
    app.confirm_email_token(&free, 1).await;
    for taken in [&owner, &session.email] {
        // After its sign-up's link.
        let mail = app.wait_for_mail(taken, 2).await;
        let notice = mail.last().unwrap();
        assert!(
            notice.text.contains("already has an account"),
            "{}",
            notice.text
        );
        assert!(notice.links.iter().all(|link| !link.contains("token=")));
    }
    // Nobody's address changed.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM users WHERE email = '{owner}'"
        ))
        .await,
        1
    );
    let user: Value = me(&app, &session.access_token).await.json().await.unwrap();
    assert_eq!(user["email"], session.email.as_str());
}
