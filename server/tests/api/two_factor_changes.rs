//! Changing the second factors: replacing the recovery codes (the old ones
//! stop working), turning the authenticator app off (the password alone
//! signs in again), and an admin turning off the app of an owner who lost
//! it. Attacks tried: a used-up code after its replacement, a user calling
//! the admins' endpoint, an unknown account, turning off what is off, and
//! signing in with the password alone while the owner turns the app on,
//! an address whose colon a key URI's label cannot hold, and changes made
//! unannounced once the hour's mail to the address is spent, and new
//! recovery codes made as the app is turned off (kept, they would work
//! without it).

use reqwest::Method;
use serde_json::Value;

use crate::{
    both_backends,
    helpers::*,
    takeover::{assert_all_dead, sign_ins_racing},
    two_factor::{challenge, confirm, enable, enroll, second_factor, send},
};

both_backends!(
    turning_the_app_off_and_replacing_codes,
    an_admin_turns_off_a_lost_app,
    sign_ins_racing_the_app_being_turned_on_leave_nothing_alive,
    an_address_with_a_colon_turns_the_app_on_and_signs_in,
    every_change_to_the_factors_is_told_past_the_hourly_mail_limit,
    new_codes_made_as_the_app_is_turned_off_are_not_kept,
);

async fn turning_the_app_off_and_replacing_codes(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("undo").await;
    let (_, codes) = enable(&app, &session).await;
    let response = send(
        &app,
        Method::POST,
        "/api/me/recovery-codes",
        &session.access_token,
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let fresh: Value = response.json().await.unwrap();
    assert_ne!(fresh["codes"][0], codes[0].as_str());
    // The old codes no longer work.
    let pending = challenge(&app, &session.email).await;
    assert_problem(
        second_factor(&app, &pending, "recovery_code", &codes[0]).await,
        422,
        "validation_failed",
    )
    .await;

    let response = send(
        &app,
        Method::DELETE,
        "/api/me/totp",
        &session.access_token,
        None,
    )
    .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.login(&session.email, STRONG_PASSWORD).await.status(),
        200
    );
    let response = send(
        &app,
        Method::DELETE,
        "/api/me/totp",
        &session.access_token,
        None,
    )
    .await;
    assert_problem(response, 409, "second_factor_not_enabled").await;
    let response = send(
        &app,
        Method::POST,
        "/api/me/recovery-codes",
        &session.access_token,
        None,
    )
    .await;
    assert_problem(response, 409, "second_factor_not_enabled").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM recovery_codes").await, 0);
}

async fn an_admin_turns_off_a_lost_app(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("helpdesk").await;
    let user = app.signed_in("forgetful").await;
    enable(&app, &user).await;
    let path = format!("/api/users/{}/totp", user.user_id);
    // Not for anyone but an admin.
    let response = send(&app, Method::DELETE, &path, &user.access_token, None).await;
    assert_problem(response, 403, "forbidden").await;
    let response = send(&app, Method::DELETE, &path, &admin.access_token, None).await;
    assert_eq!(response.status(), 204);
    // The owner's sessions ended; the password alone signs in again.
    assert_eq!(app.refresh(&user.refresh_token).await.status(), 401);
    assert_eq!(app.login(&user.email, STRONG_PASSWORD).await.status(), 200);
    let response = send(&app, Method::DELETE, &path, &admin.access_token, None).await;
    assert_problem(response, 409, "second_factor_not_enabled").await;
    let unknown = format!("/api/users/{}/totp", uuid::Uuid::new_v4());
    let response = send(&app, Method::DELETE, &unknown, &admin.access_token, None).await;
    assert_problem(response, 404, "not_found").await;
}

/// Someone who knows the password keeps signing in while the owner turns
/// the app on: a sign-in that checked the password (and found no second
/// factor) before the change committed must not open a session on the
/// password alone after it. Each either opened one that the change ended,
/// or asked for a code, or was refused; only the owner's own session lives
/// on.
///
/// On PostgreSQL the order is forced: the change is held after it took
/// the account's row (its notice waits for the outbox's lock of the
/// address, held here), every sign-in queues for that row once past its
/// password and its look for a second factor, and only then does the
/// change go on. On SQLite the writers take turns in no set order.
async fn sign_ins_racing_the_app_being_turned_on_leave_nothing_alive(backend: Backend) {
    const SIGN_INS: usize = 8;
    let app = spawn_app(backend).await;
    let owner = app.signed_in("owner").await;
    let mut authenticator = enroll(&app, &owner).await;
    let mut hold = app.database.pool().begin().await.unwrap();
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("mail_outbox:security_notice:{}", owner.email))
            .execute(&mut *hold)
            .await
            .unwrap();
    }
    let waiting = |count: usize| app.wait_for_lock_waiters(backend, count);
    let (_, racers) = tokio::join!(confirm(&app, &owner, &mut authenticator), async {
        waiting(1).await;
        sign_ins_racing(&app, &owner.email, SIGN_INS, async {
            waiting(1 + SIGN_INS).await;
            hold.commit().await.unwrap();
        })
        .await
    });
    assert_all_dead(&app, &racers).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE user_id = '{}' AND revoked_at IS NULL",
            owner.user_id
        ))
        .await,
        1,
        "only the owner's session"
    );
}

/// A quoted local part may hold a colon, which separates a key URI's
/// issuer from its account: the app is still turned on, and its codes
/// still sign in (a 500 once).
async fn an_address_with_a_colon_turns_the_app_on_and_signs_in(backend: Backend) {
    let app = spawn_app(backend).await;
    // Straight into the row: the test mailbox reads such an address back
    // without its quotes.
    let email = "\"ada:lovelace\"@example.com";
    let registered = app.verified_user("ada").await;
    app.execute(&format!(
        "UPDATE users SET email = '{email}' WHERE email = '{registered}'"
    ))
    .await;
    let session = app.sign_in(email).await;
    let (mut authenticator, _) = enable(&app, &session).await;
    let pending = challenge(&app, email).await;
    let response = second_factor(&app, &pending, "code", &authenticator.next_code()).await;
    assert_eq!(response.status(), 200);
}

/// `MAIL_HOURLY_LIMIT` (3 here) drops other mail past the hour's share;
/// a notice of a change to the factors always goes, or an intruder could
/// spend the share on small changes and then make the one that matters
/// unannounced.
async fn every_change_to_the_factors_is_told_past_the_hourly_mail_limit(backend: Backend) {
    let app = spawn_app_with(backend, &[("MAIL_HOURLY_LIMIT", "3")]).await;
    let session = app.signed_in("told").await;
    enable(&app, &session).await;
    for _ in 0..4 {
        let response = send(
            &app,
            Method::POST,
            "/api/me/recovery-codes",
            &session.access_token,
            None,
        )
        .await;
        assert_eq!(response.status(), 200);
    }
    // Its sign-up, then five notices: the app turned on, four new sets of codes.
    let mail = app.wait_for_mail(&session.email, 6).await;
    let notices = mail
        .iter()
        .filter(|message| message.subject == "A change to how your account is protected")
        .count();
    assert_eq!(notices, 5);
}

/// The owner makes new recovery codes while an admin turns the app off.
/// On PostgreSQL the order is forced: turning off has taken the account's
/// row and removed the app and its codes, and waits (on the mail lock the
/// test holds) to commit; then the codes are asked for, after their check
/// that the app is on saw it still there. They must not be kept: an
/// account without the app would hold codes that work.
async fn new_codes_made_as_the_app_is_turned_off_are_not_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("helpdesk").await;
    let email = app.verified_user("switching").await;
    let making = app.sign_in(&email).await;
    enable(&app, &making).await;
    let mut hold = app.database.pool().begin().await.unwrap();
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("mail_outbox:security_notice:{email}"))
            .execute(&mut *hold)
            .await
            .unwrap();
    }

    let path = "/api/me/recovery-codes";
    let turn_off = format!("/api/users/{}/totp", making.user_id);
    let (off, made) = tokio::join!(
        send(&app, Method::DELETE, &turn_off, &admin.access_token, None),
        async {
            app.wait_for_lock_waiters(backend, 1).await;
            let (made, ()) = tokio::join!(
                send(&app, Method::POST, path, &making.access_token, None),
                async {
                    app.wait_for_lock_waiters(backend, 2).await;
                    hold.commit().await.unwrap();
                }
            );
            made
        }
    );

    assert_eq!(off.status(), 204);
    if backend == Backend::Postgres {
        assert_problem(made, 409, "second_factor_not_enabled").await;
    }
    let user_id = &making.user_id;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM totp_factors WHERE user_id = '{user_id}'"
        ))
        .await,
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = '{user_id}'"
        ))
        .await,
        0,
        "codes without the app"
    );
}
