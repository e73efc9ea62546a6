//! Undoing a change of address takes back the second factors added since
//! the session that asked for the change was opened. The attack: someone
//! with the password signs in, adds a passkey and an authenticator app of
//! their own, and moves the account to their address; the owner undoes the
//! move from the old address. Their passkey must not sign them in again,
//! and their app must not lock the owner out; the owner's older passkey
//! keeps working.

use serde_json::{json, Value};

use crate::{
    both_backends,
    email_change::{change, undo},
    helpers::*,
    passkeys::{add_passkey, passkey_app, passkey_login, ORIGIN},
    soft_passkey::SoftPasskey,
    two_factor::enable,
};

both_backends!(
    an_undo_takes_back_the_factors_the_other_hands_added,
    an_undo_follows_a_chain_of_sessions_back_to_where_it_began,
);

async fn an_undo_takes_back_the_factors_the_other_hands_added(backend: Backend) {
    let app = passkey_app(backend).await;
    let email = app.verified_user("owner").await;
    let owner = app.sign_in(&email).await;
    let mut owners_key = SoftPasskey::at(ORIGIN);
    add_passkey(&app, &owner, &mut owners_key, "Owner's laptop").await;
    // Older than any session opened from here on.
    app.execute("UPDATE passkeys SET created_at = created_at - 60")
        .await;

    // Other hands, with the password: a passkey and an app of their own,
    // then the account moved to their address.
    let intruder = app.sign_in(&email).await;
    let mut intruders_key = SoftPasskey::at(ORIGIN);
    add_passkey(&app, &intruder, &mut intruders_key, "Mine now").await;
    enable(&app, &intruder).await;
    let undo_token = change(&app, &intruder, &email, &unique_email("intruder")).await;

    let response = undo(&app, &undo_token).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    assert_problem(
        passkey_login(&app, &mut intruders_key).await,
        400,
        "unknown_passkey",
    )
    .await;
    assert_eq!(passkey_login(&app, &mut owners_key).await.status(), 200);
    let user_id = &intruder.user_id;
    for table in ["totp_factors", "recovery_codes"] {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM {table} WHERE user_id = '{user_id}'"
            ))
            .await,
            0,
            "{table}"
        );
    }

    // The reset link in the letter that says so; after it, the password
    // alone signs in (no app of someone else's asks for a code).
    let nth = app.wait_for_subject(&email, "Choose a new password").await;
    let letter = &app.mail_to(&email)[nth - 1];
    assert!(
        letter
            .text
            .contains("(a passkey and the authenticator app with its recovery codes)"),
        "{}",
        letter.text
    );
    let reset = app.reset_token(&email, nth).await;
    let new_password = "Cobalt-Fennel-Lantern-84";
    let response = app
        .post_json(
            "/api/auth/reset-password",
            &serde_json::json!({"token": reset, "password": new_password}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.login(&email, new_password).await.status(), 200);
}

/// How the other hands open the session they ask from, after adding a
/// passkey in the first one.
#[derive(Debug, Clone, Copy)]
enum Chain {
    /// Sign in with the passkey they added.
    Passkey,
    /// Change the password, then sign in with it.
    Password,
}

/// The other hands add a passkey in a first session, open a second one
/// with it (or with a password the first one chose), and ask for the move
/// from there. Measured from the second session's opening, the passkey
/// looked older than the intrusion and stayed; the footing of the second
/// session is the first one's, so it goes. The owner's passkey, older
/// still, stays.
async fn an_undo_follows_a_chain_of_sessions_back_to_where_it_began(backend: Backend) {
    let app = passkey_app(backend).await;
    for chain in [Chain::Passkey, Chain::Password] {
        let email = app.verified_user("owner").await;
        let owner = app.sign_in(&email).await;
        let mut owners_key = SoftPasskey::at(ORIGIN);
        add_passkey(&app, &owner, &mut owners_key, "Owner's laptop").await;
        let user_id = &owner.user_id;
        shift(&app, user_id, 120).await;

        let first = app.sign_in(&email).await;
        let mut intruders_key = SoftPasskey::at(ORIGIN);
        add_passkey(&app, &first, &mut intruders_key, "Mine now").await;
        let password = match chain {
            Chain::Passkey => STRONG_PASSWORD,
            Chain::Password => {
                let chosen = "Quartz-Harbor-Violet-93";
                let response = app
                    .send_with_token(
                        reqwest::Method::POST,
                        "/api/me/password",
                        &first.access_token,
                        Some(&json!({"current_password": STRONG_PASSWORD, "new_password": chosen})),
                    )
                    .await;
                assert_eq!(response.status(), 204);
                chosen
            }
        };
        // A minute passes: everything so far is older than what follows.
        shift(&app, user_id, 60).await;

        let response = match chain {
            Chain::Passkey => passkey_login(&app, &mut intruders_key).await,
            Chain::Password => app.login(&email, password).await,
        };
        assert_eq!(response.status(), 200, "{chain:?}");
        let body: Value = response.json().await.unwrap();
        let second = Session {
            email: email.clone(),
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: String::new(),
            user_id: user_id.clone(),
        };
        let undo_token = change(&app, &second, &email, &unique_email("intruder")).await;
        let response = undo(&app, &undo_token).await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

        assert_problem(
            passkey_login(&app, &mut intruders_key).await,
            400,
            "unknown_passkey",
        )
        .await;
        assert_eq!(
            passkey_login(&app, &mut owners_key).await.status(),
            200,
            "{chain:?}"
        );
    }
}

/// Moves the account's sessions, passkeys and chosen password `seconds`
/// into the past, as if that much time had gone by since they were made.
async fn shift(app: &TestApp, user_id: &str, seconds: i64) {
    for table in ["sessions", "passkeys"] {
        app.execute(&format!(
            "UPDATE {table} SET created_at = created_at - {seconds}, \
             footing = footing - {seconds} WHERE user_id = '{user_id}'"
        ))
        .await;
    }
    app.execute(&format!(
        "UPDATE users SET password_footing = password_footing - {seconds} \
         WHERE id = '{user_id}'"
    ))
    .await;
}
