//! Attacks on a change of address (see `email_change.rs` for the flow):
//! the same link twice at once, a sign-up taking the address before the
//! confirmation, a confirmation racing an undo, chaining changes to outrun
//! the undo, replaced, expired and bad links, and a stale proof of who the
//! user is.

use futures::future::join_all;
use serde_json::{json, Value};

use crate::{
    account_deletion::delete_me,
    both_backends,
    email_change::{ask, asked, at_its_address, change, confirm, me, undo},
    helpers::*,
    sessions::session_id_of,
};

both_backends!(
    asking_while_the_account_is_deleted_leaves_no_mail_behind,
    the_same_link_confirmed_twice_at_once_changes_once,
    an_address_taken_before_the_confirmation_is_a_conflict_that_changes_nothing,
    a_confirmation_racing_an_undo_leaves_the_old_address,
    an_undo_spends_the_undo_links_of_later_changes,
    replaced_expired_and_bad_links_do_nothing,
    asking_needs_a_recent_proof_and_a_valid_address,
);

async fn the_same_link_confirmed_twice_at_once_changes_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("twice").await;
    let new_email = unique_email("twice.new");
    let token = asked(&app, &session.access_token, &new_email).await;

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
    let token = asked(&app, &session.access_token, &contested).await;

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
    assert_eq!(at_its_address(&app, &session).await, 1);
    let user_id = &session.user_id;
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

/// Asking to move the account while it is being deleted. On PostgreSQL the
/// order is forced: the deletion has taken the account's row and looked for
/// a waiting change (none), then waits for a session row the test holds,
/// and the request comes. The foreign key's check of the change's row does
/// not wait for that lock: without taking the row itself, the request
/// stored its change and mailed its link, and the link's mail to the new
/// address outlived the account.
async fn asking_while_the_account_is_deleted_leaves_no_mail_behind(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("leaving").await;
    let deleting = app.sign_in(&email).await;
    let asking = app.sign_in(&email).await;
    let named = unique_email("bystander");
    let mut hold = app.database.pool().begin().await.unwrap();
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM sessions WHERE id = $1 FOR UPDATE")
            .bind(session_id_of(&asking.access_token))
            .execute(&mut *hold)
            .await
            .unwrap();
    }

    let (deleted, asked) = tokio::join!(delete_me(&app, &deleting.access_token), async {
        app.wait_for_lock_waiters(backend, 1).await;
        let asking_now = ask(&app, &asking.access_token, &named);
        tokio::pin!(asking_now);
        // The request either waits for the account's row, or gets through.
        let answered = tokio::select! {
            answered = &mut asking_now => Some(answered),
            () = app.wait_for_lock_waiters(backend, 2) => None,
        };
        hold.commit().await.unwrap();
        match answered {
            Some(answered) => answered,
            None => asking_now.await,
        }
    });

    assert_eq!(deleted.status(), 204);
    let status = asked.status();
    assert!(
        [202, 401].contains(&status.as_u16()),
        "{status}: {}",
        asked.text().await.unwrap()
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM mail_outbox WHERE recipient = '{named}'"
        ))
        .await,
        0
    );
}
