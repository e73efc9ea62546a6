//! Moving an account to another email address: the link to the new
//! address, the notice with its undo link to the old one, and the undo.
//! Attacks tried: telling a taken address from a free one, signing in with
//! the new address before it is confirmed, the same link twice at once, a
//! sign-up taking the address before the confirmation, a confirmation
//! racing an undo, chaining changes to outrun the undo, replayed, replaced
//! and expired links, and a stale proof of who the user is.

use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::{both_backends, helpers::*};

both_backends!(
    a_change_is_confirmed_from_the_new_address_and_told_to_the_old,
    sign_in_keeps_the_old_address_until_the_new_one_is_confirmed,
    undoing_ends_every_session_and_mails_a_reset_to_the_old_address,
    a_taken_address_is_answered_like_a_free_one,
    the_same_link_confirmed_twice_at_once_changes_once,
    an_address_taken_before_the_confirmation_is_a_conflict_that_changes_nothing,
    a_confirmation_racing_an_undo_leaves_the_old_address,
    an_undo_spends_the_undo_links_of_later_changes,
    replaced_expired_and_bad_links_do_nothing,
    asking_needs_a_recent_proof_and_a_valid_address,
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

async fn undo(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/auth/undo-email-change", &json!({"token": token}))
        .await
}

/// Asks for and confirms a change of `session`'s account from `old` to
/// `new_email`; returns the undo token mailed to the old address.
async fn change(app: &TestApp, session: &Session, old: &str, new_email: &str) -> String {
    let asked = app.mail_to(new_email).len();
    assert_eq!(
        ask(app, &session.access_token, new_email).await.status(),
        202
    );
    let token = app.confirm_email_token(new_email, asked + 1).await;
    let told = app.mail_to(old).len();
    let response = confirm(app, &token).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    app.undo_email_token(old, told + 1).await
}

async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.get_with_token("/api/me", token).await
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
    assert_eq!(
        ask(&app, &session.access_token, &new_email).await.status(),
        202
    );
    let token = app.confirm_email_token(&new_email, 1).await;

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
    // A second factor, which the undo leaves alone.
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
    let user_id = &session.user_id;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM users WHERE id = '{user_id}' AND email = '{}'",
            session.email
        ))
        .await,
        1
    );
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
        "the second factors stay"
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

async fn the_same_link_confirmed_twice_at_once_changes_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("twice").await;
    let new_email = unique_email("twice.new");
    assert_eq!(
        ask(&app, &session.access_token, &new_email).await.status(),
        202
    );
    let token = app.confirm_email_token(&new_email, 1).await;

    let responses = join_all((0..6).map(|_| confirm(&app, &token))).await;
    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 400, 400, 400, 400, 400]);
    let user_id = &session.user_id;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM email_change_undos WHERE user_id = '{user_id}'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM security_events WHERE user_id = '{user_id}' AND kind = 'email_changed'"
        ))
        .await,
        1
    );
}

/// A sign-up confirmed between the request and the confirmation takes the
/// address: the UNIQUE constraint refuses the change, which answers 409
/// and leaves everything as it was.
async fn an_address_taken_before_the_confirmation_is_a_conflict_that_changes_nothing(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("slow").await;
    let contested = unique_email("contested");
    assert_eq!(
        ask(&app, &session.access_token, &contested).await.status(),
        202
    );
    let token = app.confirm_email_token(&contested, 1).await;

    assert_eq!(
        app.register(&contested, STRONG_PASSWORD, "Quick")
            .await
            .status(),
        202
    );
    let signup = app.verification_token(&contested, 2).await;
    assert_eq!(
        app.verify_email(&signup, STRONG_PASSWORD).await.status(),
        200
    );

    let problem = assert_problem(confirm(&app, &token).await, 409, "email_taken").await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("another account"));
    let user: Value = me(&app, &session.access_token).await.json().await.unwrap();
    assert_eq!(user["email"], session.email.as_str());
    assert_eq!(
        app.login(&session.email, STRONG_PASSWORD).await.status(),
        200
    );
    assert_eq!(
        app.mail_to(&session.email).len(),
        1,
        "its sign-up's link, and no notice of a change not made"
    );
    let user_id = &session.user_id;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM security_events WHERE user_id = '{user_id}' AND kind = 'email_changed'"
        ))
        .await,
        0
    );
}

/// A → B is confirmed; B → C waits. The undo of A → B and the confirmation
/// of B → C race: whichever runs first, the account ends at A with no
/// change waiting and no undo link left that could move it away.
async fn a_confirmation_racing_an_undo_leaves_the_old_address(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("racer").await;
    let b = unique_email("b");
    let c = unique_email("c");
    let undo_ab = change(&app, &session, &session.email, &b).await;
    assert_eq!(ask(&app, &session.access_token, &c).await.status(), 202);
    let confirm_bc = app.confirm_email_token(&c, 1).await;

    let (undone, confirmed) = tokio::join!(undo(&app, &undo_ab), confirm(&app, &confirm_bc));
    assert_eq!(undone.status(), 200);
    assert!(
        matches!(confirmed.status().as_u16(), 200 | 400),
        "{}",
        confirmed.status()
    );
    let user_id = &session.user_id;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM users WHERE id = '{user_id}' AND email = '{}'",
            session.email
        ))
        .await,
        1
    );
    for table in ["email_changes", "email_change_undos"] {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM {table} WHERE user_id = '{user_id}'"
            ))
            .await,
            0,
            "{table}"
        );
    }
}

/// Chaining A → B → C and then using the later undo cannot outrun the
/// earlier one: the undo of A → B spends the undo of B → C.
async fn an_undo_spends_the_undo_links_of_later_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("chain").await;
    let b = unique_email("chain.b");
    let c = unique_email("chain.c");
    let undo_ab = change(&app, &session, &session.email, &b).await;
    let undo_bc = change(&app, &session, &b, &c).await;

    assert_eq!(undo(&app, &undo_ab).await.status(), 200);
    assert_problem(undo(&app, &undo_bc).await, 400, "invalid_link").await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM users WHERE id = '{}' AND email = '{}'",
            session.user_id, session.email
        ))
        .await,
        1
    );
}

async fn replaced_expired_and_bad_links_do_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("linker").await;
    let first = unique_email("first");
    let second = unique_email("second");
    assert_eq!(ask(&app, &session.access_token, &first).await.status(), 202);
    let replaced = app.confirm_email_token(&first, 1).await;
    // Asking again replaces the link.
    assert_eq!(
        ask(&app, &session.access_token, &second).await.status(),
        202
    );
    let current = app.confirm_email_token(&second, 1).await;
    assert_problem(confirm(&app, &replaced).await, 400, "invalid_link").await;

    app.execute(&format!(
        "UPDATE email_changes SET expires_at = 1 WHERE user_id = '{}'",
        session.user_id
    ))
    .await;
    assert_problem(confirm(&app, &current).await, 400, "invalid_link").await;

    for body in [
        json!({}),
        json!({"token": ""}),
        json!({"token": "x".repeat(600)}),
    ] {
        for path in ["/api/auth/confirm-email", "/api/auth/undo-email-change"] {
            assert_problem(app.post_json(path, &body).await, 400, "invalid_link").await;
        }
    }
    // An undo link past its week.
    let third = unique_email("third");
    let undo_token = change(&app, &session, &session.email, &third).await;
    app.execute(&format!(
        "UPDATE email_change_undos SET expires_at = 1 WHERE user_id = '{}'",
        session.user_id
    ))
    .await;
    assert_problem(undo(&app, &undo_token).await, 400, "invalid_link").await;
    let user: Value = me(&app, &session.access_token).await.json().await.unwrap();
    assert_eq!(user["email"], third.as_str());
}

async fn asking_needs_a_recent_proof_and_a_valid_address(backend: Backend) {
    let app = spawn_app_with(backend, &[("REAUTH_MAX_AGE_SECS", "60")]).await;
    let session = app.signed_in("steady").await;
    for bad in ["", "not an address", "me@localhost"] {
        let problem = assert_problem(
            ask(&app, &session.access_token, bad).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "email");
    }
    let response = app
        .client
        .post(app.url("/api/me/email"))
        .json(&json!({"email": unique_email("anon")}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 401, "authentication_required").await;

    app.execute(&format!(
        "UPDATE sessions SET auth_time = auth_time - 61 WHERE user_id = '{}'",
        session.user_id
    ))
    .await;
    let stale: Value = app
        .refresh(&session.refresh_token)
        .await
        .json()
        .await
        .unwrap();
    let stale = stale["access_token"].as_str().unwrap();
    let new_email = unique_email("stale");
    assert_problem(
        ask(&app, stale, &new_email).await,
        401,
        "insufficient_user_authentication",
    )
    .await;
    assert!(app.mail_to(&new_email).is_empty());
}
