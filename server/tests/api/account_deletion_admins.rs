//! Deleting accounts where admins are involved (see `account_deletion.rs`
//! for what a deletion leaves behind): the last admin deleting themselves,
//! the last two at once, an admin deleting another account (and someone
//! who is not an admin trying to), an admin deleting themselves by id, and
//! a user who deletes their account to edit an admin's activity, and a
//! write of the account's that its deletion overtakes.

use futures::future::join_all;
use serde_json::Value;

use crate::{
    account_deletion::{delete_me, delete_user},
    both_backends, email_change,
    helpers::*,
    two_factor::{enable, send},
};

both_backends!(
    the_last_admin_cannot_delete_their_account,
    the_last_two_admins_deleting_themselves_at_once_leave_one,
    an_admin_deletes_an_account,
    an_admin_cannot_delete_themselves_by_id,
    deleting_an_account_scrubs_only_whole_addresses_it_had,
    a_write_racing_its_accounts_deletion_is_a_404,
);

async fn the_last_admin_cannot_delete_their_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("only").await;
    let problem = assert_problem(
        delete_me(&app, &admin.access_token).await,
        409,
        "last_admin",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("admin"));
    assert_eq!(
        app.get_with_token("/api/me", &admin.access_token)
            .await
            .status(),
        200
    );
    // With another admin, it can go.
    let second = app.signed_in_admin("second").await;
    assert_eq!(delete_me(&app, &admin.access_token).await.status(), 204);
    assert_problem(
        delete_me(&app, &second.access_token).await,
        409,
        "last_admin",
    )
    .await;
}

async fn the_last_two_admins_deleting_themselves_at_once_leave_one(backend: Backend) {
    let app = spawn_app(backend).await;
    for round in 0..3 {
        let first = app.signed_in_admin(&format!("first{round}")).await;
        let second = app.signed_in_admin(&format!("second{round}")).await;
        let answers = join_all([
            delete_me(&app, &first.access_token),
            delete_me(&app, &second.access_token),
        ])
        .await;
        let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
        statuses.sort();
        assert_eq!(statuses, [204, 409], "round {round}");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL")
                .await,
            1
        );
        // The survivor makes room for the next round.
        app.execute("DELETE FROM users").await;
    }
}

async fn an_admin_deletes_an_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("deleter").await;
    let user = app.signed_in("deleted").await;
    let bystander = app.signed_in("bystander").await;

    // Not an admin: refused before anything.
    assert_problem(
        delete_user(&app, &bystander.access_token, &user.user_id).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        delete_user(&app, &admin.access_token, &user.user_id)
            .await
            .status(),
        204
    );
    assert_problem(
        app.get_with_token("/api/me", &user.access_token).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM users WHERE id = '{}'",
            user.user_id
        ))
        .await,
        0
    );
    let goodbye = app.wait_for_mail(&user.email, 2).await;
    assert!(goodbye[1]
        .text
        .contains("An administrator deleted your account"));

    // Recorded in the admin's own activity.
    let body: Value = app
        .get_with_token("/api/me/activity", &admin.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert!(body["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|event| event["kind"] == "account_deleted"));

    // Gone, unknown or not an id: 404.
    for id in [
        user.user_id.clone(),
        uuid::Uuid::new_v4().to_string(),
        "not-an-id".to_owned(),
    ] {
        assert_problem(
            delete_user(&app, &admin.access_token, &id).await,
            404,
            "not_found",
        )
        .await;
    }
    assert_eq!(
        app.get_with_token("/api/me", &bystander.access_token)
            .await
            .status(),
        200
    );
}

async fn an_admin_cannot_delete_themselves_by_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("selfish").await;
    let _other = app.signed_in_admin("other").await;
    let problem = assert_problem(
        delete_user(&app, &admin.access_token, &admin.user_id).await,
        409,
        "own_account",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("account page"));
    assert_eq!(
        app.get_with_token("/api/me", &admin.access_token)
            .await
            .status(),
        200
    );
}

/// A deleted account's addresses are scrubbed from other accounts'
/// activity, but only the addresses it had, and only whole: an account
/// whose address is the tail of someone else's, or one that merely asked
/// to move to an address someone else had, must not rewrite an admin's
/// record of them when deleted.
async fn deleting_an_account_scrubs_only_whole_addresses_it_had(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("keeper").await;
    let alice = app.signed_in("alice").await;
    enable(&app, &alice).await;
    let path = format!("/api/users/{}/totp", alice.user_id);
    let response = send(
        &app,
        reqwest::Method::DELETE,
        &path,
        &admin.access_token,
        None,
    )
    .await;
    assert_eq!(response.status(), 204);
    let record = format!("turned off the authenticator app of {}", alice.email);
    let admins_activity = || async {
        app.get_with_token("/api/me/activity", &admin.access_token)
            .await
            .json::<Value>()
            .await
            .unwrap()
            .to_string()
    };
    assert!(admins_activity().await.contains(&record));

    // An account at alice's address without its first letter, deleted.
    let tail = alice.email[1..].to_owned();
    let response = app.register(&tail, STRONG_PASSWORD, "Tail").await;
    assert_eq!(response.status(), 202);
    let token = app.verification_token(&tail, 1).await;
    assert_eq!(
        app.verify_email(&token, STRONG_PASSWORD).await.status(),
        200
    );
    let tails = app.sign_in(&tail).await;
    assert_eq!(delete_me(&app, &tails.access_token).await.status(), 204);
    assert!(admins_activity().await.contains(&record), "a tail scrubbed");

    // Alice moves on; her old address, now nobody's, is asked for by
    // another account, which is then deleted.
    // (The admin's change ended her sessions.)
    let alice_again = app.sign_in(&alice.email).await;
    email_change::change(&app, &alice_again, &alice.email, &unique_email("alice-new")).await;
    let mallory = app.signed_in("mallory").await;
    let response = email_change::ask(&app, &mallory.access_token, &alice.email).await;
    assert_eq!(response.status(), 202);
    assert_eq!(delete_me(&app, &mallory.access_token).await.status(), 204);
    assert!(
        admins_activity().await.contains(&record),
        "an address only asked for scrubbed"
    );
}

/// An account deleted while one of its requests writes a row naming it
/// (past the token check, before the insert): the write finds the account
/// gone and says so, a 404, not a 500. The deletion holds the account's row
/// (on SQLite, the database) until the write waits for it.
async fn a_write_racing_its_accounts_deletion_is_a_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("vanishing").await;
    let mut deletion = app.database.pool().begin().await.unwrap();
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(&user.user_id)
        .execute(&mut *deletion)
        .await
        .unwrap();
    let person = serde_json::json!({"name": "Orphan"});
    let (response, ()) = tokio::join!(
        app.send_with_token(
            reqwest::Method::POST,
            "/api/people",
            &user.access_token,
            Some(&person),
        ),
        async {
            app.wait_for_lock_waiters(backend, 1).await;
            deletion.commit().await.unwrap();
        }
    );
    assert_problem(response, 404, "not_found").await;
}
