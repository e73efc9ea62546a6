//! A passkey as the second factor of a password sign-in and for step-up
//! (re-authentication). Attacks tried: another account's passkey answering
//! options stripped of the account's list, at sign-in and at step-up, and a
//! stale session acting before it steps up.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    both_backends,
    helpers::*,
    passkeys::{add_passkey, amr, options, passkey_app, send, ORIGIN},
    soft_passkey::SoftPasskey,
    two_factor,
};

both_backends!(
    a_passkey_is_a_second_factor_after_the_password,
    a_passkey_steps_up_a_stale_session_but_not_another_accounts,
);

async fn a_passkey_is_a_second_factor_after_the_password(backend: Backend) {
    let app = passkey_app(backend).await;
    let session = app.signed_in("margaret").await;
    two_factor::enable(&app, &session).await;
    let mut device = SoftPasskey::at(ORIGIN);
    add_passkey(&app, &session, &mut device, "Key").await;

    let response = app.login(&session.email, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 202);
    let challenge: Value = response.json().await.unwrap();
    assert!(challenge["methods"]
        .as_array()
        .unwrap()
        .contains(&json!("passkey")));
    let token = challenge["challenge"].as_str().unwrap();

    let response = app
        .post_json(
            "/api/auth/login/second-factor/passkey-options",
            &json!({"challenge": token}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let options: Value = response.json().await.unwrap();
    assert_eq!(options["challenge_id"], token);
    let allowed = options["options"]["publicKey"]["allowCredentials"]
        .as_array()
        .unwrap();
    assert_eq!(allowed.len(), 1);

    // Another account's passkey, answering options stripped of the list.
    let stranger = app.signed_in("stranger").await;
    let mut strangers_device = SoftPasskey::at(ORIGIN);
    add_passkey(&app, &stranger, &mut strangers_device, "Theirs").await;
    let mut open = options["options"].clone();
    open["publicKey"]["allowCredentials"] = json!([]);
    let credential = strangers_device.get(&open).await;
    let response = app
        .post_json(
            "/api/auth/login/second-factor/passkey",
            &json!({"challenge_id": token, "credential": credential}),
        )
        .await;
    assert_problem(response, 400, "passkey_of_another_account").await;

    // The ceremony was spent by that answer: ask again, then finish.
    let response = app
        .post_json(
            "/api/auth/login/second-factor/passkey-options",
            &json!({"challenge": token}),
        )
        .await;
    let options: Value = response.json().await.unwrap();
    let credential = device.get(&options["options"]).await;
    let response = app
        .post_json(
            "/api/auth/login/second-factor/passkey",
            &json!({"challenge_id": token, "credential": credential}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        amr(body["access_token"].as_str().unwrap()),
        ["pwd", "hwk", "user"]
    );
}

async fn a_passkey_steps_up_a_stale_session_but_not_another_accounts(backend: Backend) {
    let app = passkey_app(backend).await;
    let session = app.signed_in("frances").await;
    let mut device = SoftPasskey::at(ORIGIN);
    add_passkey(&app, &session, &mut device, "Key").await;
    app.execute(&format!(
        "UPDATE sessions SET auth_time = auth_time - 10000 WHERE user_id = '{}'",
        session.user_id
    ))
    .await;
    let response = app.refresh(&session.refresh_token).await;
    let body: Value = response.json().await.unwrap();
    let stale = body["access_token"].as_str().unwrap().to_owned();
    let response = send(&app, Method::POST, "/api/me/passkeys/options", &stale, None).await;
    assert_problem(response, 401, "insufficient_user_authentication").await;

    // Another account's passkey cannot prove this user.
    let stranger = app.signed_in("stranger").await;
    let mut strangers_device = SoftPasskey::at(ORIGIN);
    add_passkey(&app, &stranger, &mut strangers_device, "Theirs").await;
    let response = step_up(&app, &stale, &mut strangers_device, true).await;
    assert_problem(response, 400, "passkey_of_another_account").await;

    // The account's own passkey does, as both factors.
    let response = step_up(&app, &stale, &mut device, false).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let fresh = body["access_token"].as_str().unwrap();
    assert_eq!(amr(fresh), ["hwk", "user"]);
    let response = send(&app, Method::POST, "/api/me/passkeys/options", fresh, None).await;
    assert_eq!(response.status(), 200);
}

/// Re-authenticates with `device`'s answer; `any_passkey` strips the
/// options' list of the account's passkeys, so that another account's
/// answers.
async fn step_up(
    app: &TestApp,
    token: &str,
    device: &mut SoftPasskey,
    any_passkey: bool,
) -> reqwest::Response {
    let challenge = options(app, "/api/auth/reauthenticate/passkey-options", token).await;
    let mut asked = challenge["options"].clone();
    if any_passkey {
        asked["publicKey"]["allowCredentials"] = json!([]);
    }
    let credential = device.get(&asked).await;
    let body = json!({"challenge_id": challenge["challenge_id"], "credential": credential});
    send(
        app,
        Method::POST,
        "/api/auth/reauthenticate/passkey",
        token,
        Some(body),
    )
    .await
}
