//! A waiting change of address belongs to the session that asked for it.
//! The attack: with a borrowed session, ask to move the account to one's
//! own address; the owner notices and resets the password, changes it
//! from another device, signs out everywhere or ends that session from the
//! list; the link in the intruder's mailbox must then be dead, or the
//! intruder confirms it within its 30 minutes, takes the account's
//! address, and resets its password from there. The asking session's own
//! sign-out (or its expiry, or the session cap) ends nothing: the owner
//! may ask on one device and open the link on another.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    both_backends,
    email_change::{asked, at_its_address, confirm},
    helpers::*,
    sessions::session_id_of,
};

both_backends!(
    the_owner_ending_the_asking_session_kills_its_waiting_change,
    the_asking_sessions_own_sign_out_keeps_its_waiting_change,
);

const NEW_PASSWORD: &str = "Violet-Anchor-Meadow-57";

#[derive(Debug, Clone, Copy)]
enum Ending {
    PasswordReset,
    PasswordChangedElsewhere,
    SignOutEverywhere,
    EndedFromTheList,
}

async fn the_owner_ending_the_asking_session_kills_its_waiting_change(backend: Backend) {
    let app = spawn_app(backend).await;
    for ending in [
        Ending::PasswordReset,
        Ending::PasswordChangedElsewhere,
        Ending::SignOutEverywhere,
        Ending::EndedFromTheList,
    ] {
        let email = app.verified_user("borrowed").await;
        let intruder = app.sign_in(&email).await;
        let owner = app.sign_in(&email).await;
        let theirs = unique_email("intruder");
        let link = asked(&app, &intruder.access_token, &theirs).await;

        let password = end(&app, &owner, &intruder, ending).await;

        // Not shown as waiting either.
        let response = app.login(&email, password).await;
        assert_eq!(response.status(), 200, "{ending:?}");
        let body: Value = response.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap();
        let shown: Value = app
            .get_with_token("/api/me/email", token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(shown["pending"], Value::Null, "{ending:?}");
        assert_problem(confirm(&app, &link).await, 400, "invalid_link").await;
        assert_eq!(at_its_address(&app, &intruder).await, 1, "{ending:?}");
    }
}

async fn the_asking_sessions_own_sign_out_keeps_its_waiting_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("two devices").await;
    let laptop = app.sign_in(&email).await;
    let new_email = unique_email("moved");
    let link = asked(&app, &laptop.access_token, &new_email).await;

    let response = app
        .post_with_cookie("/api/auth/logout", Some(&laptop.refresh_token), None)
        .await;
    assert_eq!(response.status(), 204);

    let response = confirm(&app, &link).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(at_its_address(&app, &laptop).await, 0, "moved");
}

/// Ends the intruder's session as `ending` says; returns the password
/// the account has after it.
async fn end(app: &TestApp, owner: &Session, intruder: &Session, ending: Ending) -> &'static str {
    let status = match ending {
        Ending::PasswordReset => {
            let before = app.mail_to(&owner.email).len();
            let response = app
                .post_json("/api/auth/forgot-password", &json!({"email": owner.email}))
                .await;
            assert_eq!(response.status(), 202);
            let token = app.reset_token(&owner.email, before + 1).await;
            app.post_json(
                "/api/auth/reset-password",
                &json!({"token": token, "password": NEW_PASSWORD}),
            )
            .await
            .status()
        }
        Ending::PasswordChangedElsewhere => app
            .send_with_token(
                Method::POST,
                "/api/me/password",
                &owner.access_token,
                Some(&json!({"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD})),
            )
            .await
            .status(),
        Ending::SignOutEverywhere => app
            .send_with_token(
                Method::POST,
                "/api/auth/logout-all",
                &owner.access_token,
                None,
            )
            .await
            .status(),
        Ending::EndedFromTheList => {
            let id = session_id_of(&intruder.access_token);
            app.send_with_token(
                Method::DELETE,
                &format!("/api/me/sessions/{id}"),
                &owner.access_token,
                None,
            )
            .await
            .status()
        }
    };
    assert!(status.is_success(), "{ending:?}: {status}");
    match ending {
        Ending::PasswordReset | Ending::PasswordChangedElsewhere => NEW_PASSWORD,
        Ending::SignOutEverywhere | Ending::EndedFromTheList => STRONG_PASSWORD,
    }
}
