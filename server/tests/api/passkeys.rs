//! Passkeys, driven by a software authenticator (`soft_passkey`) as a
//! browser would drive a real one: adding one (and what that ends and
//! mails), signing in with it and no email typed, a passkey as the second
//! factor and for step-up, renaming and removing. Attacks tried: a replayed
//! answer (also two at once), an unknown or expired challenge, a cloned
//! authenticator (its counter going backwards), a removed passkey, a
//! disabled account, another account's passkey id, an answer made for another
//! origin, and a malformed credential. A passkey as a second factor and for
//! step-up: `passkey_factors`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use reqwest::Method;
use serde_json::{json, Value};

use crate::{both_backends, helpers::*, soft_passkey::SoftPasskey};

both_backends!(
    adding_a_passkey_ends_other_sessions_mails_and_is_listed,
    a_passkey_signs_in_with_no_email_as_both_factors,
    an_answer_works_once_even_twice_at_once,
    unknown_and_expired_challenges_are_refused,
    a_counter_going_backwards_is_refused_and_recorded,
    a_removed_passkey_or_a_disabled_account_signs_in_no_more,
    another_accounts_passkey_id_is_not_found,
    bad_credentials_are_400_problems_of_their_own,
    passkeys_are_off_where_app_url_is_an_ip_address,
);

pub(crate) const ORIGIN: &str = "http://localhost:3000";

pub(crate) async fn passkey_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[("APP_URL", ORIGIN)]).await
}

pub(crate) async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    app.send_with_token(method, path, token, body.as_ref())
        .await
}

/// A bearer `POST` that answers 200 with options.
pub(crate) async fn options(app: &TestApp, path: &str, token: &str) -> Value {
    let response = send(app, Method::POST, path, token, None).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// Adds a passkey made by `device` to the signed-in account.
pub(crate) async fn add_passkey(
    app: &TestApp,
    session: &Session,
    device: &mut SoftPasskey,
    name: &str,
) -> Value {
    let response = send(
        app,
        Method::POST,
        "/api/me/passkeys/options",
        &session.access_token,
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let creation: Value = response.json().await.unwrap();
    let selection = &creation["options"]["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required", "{creation}");
    let credential = device.create(&creation["options"]).await;
    let response = send(
        app,
        Method::POST,
        "/api/me/passkeys",
        &session.access_token,
        Some(json!({"name": name, "credential": credential})),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

/// A sign-in's options, and the device's answer to them.
async fn answer_sign_in(app: &TestApp, device: &mut SoftPasskey) -> Value {
    let response = app.post_json("/api/auth/passkey/options", &json!({})).await;
    assert_eq!(response.status(), 200);
    let challenge: Value = response.json().await.unwrap();
    let credential = device.get(&challenge["options"]).await;
    json!({"challenge_id": challenge["challenge_id"], "credential": credential})
}

pub(crate) async fn passkey_login(app: &TestApp, device: &mut SoftPasskey) -> reqwest::Response {
    let answer = answer_sign_in(app, device).await;
    app.post_json("/api/auth/passkey/login", &answer).await
}

pub(crate) fn amr(access_token: &str) -> Vec<String> {
    let payload = access_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|method| method.as_str().unwrap().to_owned())
        .collect()
}

async fn activity(app: &TestApp, token: &str) -> Vec<String> {
    let response = send(app, Method::GET, "/api/me/activity", token, None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn adding_a_passkey_ends_other_sessions_mails_and_is_listed(backend: Backend) {
    let app = passkey_app(backend).await;
    let email = app.verified_user("ada").await;
    let session = app.sign_in(&email).await;
    let other = app.sign_in(&email).await;
    let mut device = SoftPasskey::at(ORIGIN);

    let added = add_passkey(&app, &session, &mut device, "  Work laptop ").await;
    assert_eq!(added["name"], "Work laptop");
    assert_eq!(added["last_used_at"], Value::Null);
    assert!(added["created_at"].is_string() && added["backed_up"].is_boolean());

    let response = send(
        &app,
        Method::GET,
        "/api/me/passkeys",
        &session.access_token,
        None,
    )
    .await;
    let list: Value = response.json().await.unwrap();
    assert_eq!(list["passkeys"].as_array().unwrap().len(), 1);
    assert_eq!(list["passkeys"][0]["id"], added["id"]);

    // The caller's session goes on; the other one ended with the epoch.
    assert_eq!(app.refresh(&session.refresh_token).await.status(), 200);
    assert_eq!(app.refresh(&other.refresh_token).await.status(), 401);
    let mail = app.wait_for_mail(&email, 2).await;
    assert!(mail[1].text.contains("Work laptop"), "{:?}", mail[1]);
    assert!(activity(&app, &session.access_token)
        .await
        .contains(&"passkey_added".to_owned()));

    // The next options exclude it, and the same credential is not added
    // again (here: by replaying the answer, whose ceremony is spent).
    let creation = options(&app, "/api/me/passkeys/options", &session.access_token).await;
    let excluded = creation["options"]["publicKey"]["excludeCredentials"]
        .as_array()
        .unwrap();
    assert_eq!(excluded.len(), 1);
}

async fn a_passkey_signs_in_with_no_email_as_both_factors(backend: Backend) {
    let app = passkey_app(backend).await;
    let session = app.signed_in("grace").await;
    let mut device = SoftPasskey::at(ORIGIN);
    add_passkey(&app, &session, &mut device, "Phone").await;

    let response = passkey_login(&app, &mut device).await;
    assert_eq!(response.status(), 200);
    assert!(set_cookie(&response).is_some(), "the refresh cookie is set");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], session.email.as_str());
    assert_eq!(amr(body["access_token"].as_str().unwrap()), ["hwk", "user"]);

    let response = send(
        &app,
        Method::GET,
        "/api/me/passkeys",
        &session.access_token,
        None,
    )
    .await;
    let list: Value = response.json().await.unwrap();
    assert!(list["passkeys"][0]["last_used_at"].is_string());
    // And again: the counter moved forward.
    assert_eq!(passkey_login(&app, &mut device).await.status(), 200);
}

async fn an_answer_works_once_even_twice_at_once(backend: Backend) {
    let app = passkey_app(backend).await;
    let session = app.signed_in("linus").await;
    let mut device = SoftPasskey::at(ORIGIN);
    add_passkey(&app, &session, &mut device, "Key").await;

    let answer = answer_sign_in(&app, &mut device).await;
    let (first, second) = tokio::join!(
        app.post_json("/api/auth/passkey/login", &answer),
        app.post_json("/api/auth/passkey/login", &answer),
    );
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400]);
    let loser = if first.status() == 400 { first } else { second };
    assert_problem(loser, 400, "invalid_challenge").await;

    let replay = app.post_json("/api/auth/passkey/login", &answer).await;
    assert_problem(replay, 400, "invalid_challenge").await;
}

async fn unknown_and_expired_challenges_are_refused(backend: Backend) {
    let app = passkey_app(backend).await;
    let session = app.signed_in("barbara").await;
    let mut device = SoftPasskey::at(ORIGIN);
    add_passkey(&app, &session, &mut device, "Key").await;

    let mut answer = answer_sign_in(&app, &mut device).await;
    let real = answer["challenge_id"].clone();
    answer["challenge_id"] = json!("not-a-challenge");
    let response = app.post_json("/api/auth/passkey/login", &answer).await;
    assert_problem(response, 400, "invalid_challenge").await;

    answer["challenge_id"] = real;
    app.execute("UPDATE webauthn_ceremonies SET expires_at = 0")
        .await;
    let response = app.post_json("/api/auth/passkey/login", &answer).await;
    assert_problem(response, 400, "invalid_challenge").await;

    // Adding one answers a stale or spent ceremony the same way.
    let creation = options(&app, "/api/me/passkeys/options", &session.access_token).await;
    let credential = SoftPasskey::at(ORIGIN).create(&creation["options"]).await;
    app.execute("UPDATE webauthn_ceremonies SET expires_at = 0")
        .await;
    let response = send(
        &app,
        Method::POST,
        "/api/me/passkeys",
        &session.access_token,
        Some(json!({"name": "Late", "credential": credential})),
    )
    .await;
    assert_problem(response, 400, "invalid_challenge").await;
}

async fn a_counter_going_backwards_is_refused_and_recorded(backend: Backend) {
    let app = passkey_app(backend).await;
    let session = app.signed_in("ken").await;
    let mut device = SoftPasskey::at(ORIGIN);
    add_passkey(&app, &session, &mut device, "Key").await;

    let copy = device.snapshot();
    assert_eq!(passkey_login(&app, &mut device).await.status(), 200);
    // The copy signs with the counter the original already used.
    device.restore(copy);
    let response = passkey_login(&app, &mut device).await;
    assert_problem(response, 400, "passkey_counter_regressed").await;
    assert!(activity(&app, &session.access_token)
        .await
        .contains(&"passkey_counter_regressed".to_owned()));
}

async fn a_removed_passkey_or_a_disabled_account_signs_in_no_more(backend: Backend) {
    let app = passkey_app(backend).await;
    let session = app.signed_in("dennis").await;
    let other = app.sign_in(&session.email).await;
    let mut device = SoftPasskey::at(ORIGIN);
    let added = add_passkey(&app, &session, &mut device, "Key").await;
    let other = app.sign_in(&other.email).await;

    // Disabled: the right passkey, and still no session.
    app.execute(&format!(
        "UPDATE users SET disabled_at = 1 WHERE id = '{}'",
        session.user_id
    ))
    .await;
    let response = passkey_login(&app, &mut device).await;
    assert_problem(response, 403, "account_disabled").await;
    app.execute(&format!(
        "UPDATE users SET disabled_at = NULL WHERE id = '{}'",
        session.user_id
    ))
    .await;

    let path = format!("/api/me/passkeys/{}", added["id"].as_str().unwrap());
    let response = send(&app, Method::DELETE, &path, &session.access_token, None).await;
    assert_eq!(response.status(), 204);
    let response = send(&app, Method::DELETE, &path, &session.access_token, None).await;
    assert_problem(response, 404, "not_found").await;

    let response = passkey_login(&app, &mut device).await;
    assert_problem(response, 400, "unknown_passkey").await;
    assert_eq!(app.refresh(&other.refresh_token).await.status(), 401);
    assert!(activity(&app, &session.access_token)
        .await
        .contains(&"passkey_removed".to_owned()));
}

async fn another_accounts_passkey_id_is_not_found(backend: Backend) {
    let app = passkey_app(backend).await;
    let owner = app.signed_in("owner").await;
    let intruder = app.signed_in("intruder").await;
    let mut device = SoftPasskey::at(ORIGIN);
    let added = add_passkey(&app, &owner, &mut device, "Key").await;
    let path = format!("/api/me/passkeys/{}", added["id"].as_str().unwrap());

    let response = send(
        &app,
        Method::PATCH,
        &path,
        &intruder.access_token,
        Some(json!({"name": "Mine now"})),
    )
    .await;
    assert_problem(response, 404, "not_found").await;
    let response = send(&app, Method::DELETE, &path, &intruder.access_token, None).await;
    assert_problem(response, 404, "not_found").await;
    let response = send(
        &app,
        Method::GET,
        "/api/me/passkeys",
        &intruder.access_token,
        None,
    )
    .await;
    let list: Value = response.json().await.unwrap();
    assert_eq!(list["passkeys"], json!([]));

    // The owner renames it; a blank name is a field error.
    let response = send(
        &app,
        Method::PATCH,
        &path,
        &owner.access_token,
        Some(json!({"name": "YubiKey"})),
    )
    .await;
    assert_eq!(response.status(), 200);
    let renamed: Value = response.json().await.unwrap();
    assert_eq!(renamed["name"], "YubiKey");
    let response = send(
        &app,
        Method::PATCH,
        &path,
        &owner.access_token,
        Some(json!({"name": "   "})),
    )
    .await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "name");
}

async fn bad_credentials_are_400_problems_of_their_own(backend: Backend) {
    let app = passkey_app(backend).await;
    let session = app.signed_in("radia").await;
    let mut device = SoftPasskey::at(ORIGIN);
    add_passkey(&app, &session, &mut device, "Key").await;

    for credential in [json!({"id": 5}), json!("nope"), Value::Null] {
        let response = app.post_json("/api/auth/passkey/options", &json!({})).await;
        let challenge: Value = response.json().await.unwrap();
        let response = app
            .post_json(
                "/api/auth/passkey/login",
                &json!({"challenge_id": challenge["challenge_id"], "credential": credential}),
            )
            .await;
        assert_problem(response, 400, "malformed_credential").await;
    }
    let response = app
        .post_json("/api/auth/passkey/login", &json!({"challenge_id": "x"}))
        .await;
    assert_problem(response, 400, "malformed_credential").await;

    // Signed on a page of another origin (a phishing copy).
    let mut phished = device.moved_to("http://localhost:4000");
    let response = passkey_login(&app, &mut phished).await;
    let problem = assert_problem(response, 400, "passkey_rejected").await;
    assert!(problem["detail"].as_str().unwrap().contains("verified"));

    // A passkey of no account (this one was never added).
    let mut unknown = SoftPasskey::at(ORIGIN);
    let creation = options(&app, "/api/me/passkeys/options", &session.access_token).await;
    unknown.create(&creation["options"]).await;
    let response = passkey_login(&app, &mut unknown).await;
    assert_problem(response, 400, "unknown_passkey").await;
}

async fn passkeys_are_off_where_app_url_is_an_ip_address(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.post_json("/api/auth/passkey/options", &json!({})).await;
    assert_problem(response, 503, "service_unavailable").await;
}
