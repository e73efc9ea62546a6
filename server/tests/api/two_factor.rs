//! Two-factor sign-in: an authenticator app (codes computed here from the
//! secret the server gives, as the app would) and recovery codes; turning
//! them on and off; the second step of a sign-in and of a re-authentication.
//! Attacks tried: a replayed code (also two at once), wrong codes until the
//! challenge is spent, an expired challenge, a used recovery code, a reset
//! between the two steps, and the secret read from the database. Turning
//! the factors off and replacing the codes: `two_factor_changes`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use reqwest::Method;
use serde_json::{json, Value};
use totp_rs::{Builder, Secret};

use crate::{both_backends, helpers::*};

both_backends!(
    turning_the_app_on_ends_other_sessions_and_keeps_the_secret_encrypted,
    signing_in_takes_a_code_after_the_password,
    a_code_works_once_even_twice_at_once,
    five_wrong_codes_spend_the_challenge_and_count_toward_the_lockout,
    an_expired_challenge_or_a_reset_in_between_ends_it,
    a_recovery_code_signs_in_once_and_mails_the_owner,
    reauthenticating_with_a_second_factor_needs_a_code,
);

/// An authenticator app: the secret, and the last time step it showed.
pub(crate) struct App {
    secret: String,
    step: u64,
}

impl App {
    /// The code of the next step not shown yet, at least the current one.
    pub(crate) fn next_code(&mut self) -> String {
        let now = server::clock::unix_now() as u64;
        self.step = self.step.max(now / 30 - 1) + 1;
        self.step = self.step.max(now / 30);
        let totp = Builder::new()
            .with_secret(Secret::try_from_base32(&self.secret).unwrap())
            .build()
            .unwrap();
        totp.generate(self.step * 30).to_string()
    }
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

/// Turns the authenticator app on for a signed-in user; returns the app and
/// the recovery codes.
pub(crate) async fn enable(app: &TestApp, session: &Session) -> (App, Vec<String>) {
    let mut authenticator = enroll(app, session).await;
    let codes = confirm(app, session, &mut authenticator).await;
    (authenticator, codes)
}

/// The first half of turning the app on: the secret, shown to the app.
pub(crate) async fn enroll(app: &TestApp, session: &Session) -> App {
    let response = send(
        app,
        Method::POST,
        "/api/me/totp",
        &session.access_token,
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let enrollment: Value = response.json().await.unwrap();
    App {
        secret: enrollment["secret"].as_str().unwrap().to_owned(),
        step: 0,
    }
}

/// The second half: the app's code confirms it; returns the recovery codes.
pub(crate) async fn confirm(
    app: &TestApp,
    session: &Session,
    authenticator: &mut App,
) -> Vec<String> {
    let code = authenticator.next_code();
    let response = send(
        app,
        Method::POST,
        "/api/me/totp/confirm",
        &session.access_token,
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect()
}

fn claims(access_token: &str) -> Value {
    let payload = access_token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The password step: the challenge of a 202.
pub(crate) async fn challenge(app: &TestApp, email: &str) -> String {
    let response = app.login(email, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 202);
    assert!(
        set_cookie(&response).is_none(),
        "no session before the second factor"
    );
    let body: Value = response.json().await.unwrap();
    assert!(body.get("access_token").is_none());
    body["challenge"].as_str().unwrap().to_owned()
}

pub(crate) async fn second_factor(
    app: &TestApp,
    challenge: &str,
    field: &str,
    code: &str,
) -> reqwest::Response {
    app.post_json(
        "/api/auth/login/second-factor",
        &json!({"challenge": challenge, field: code}),
    )
    .await
}

async fn turning_the_app_on_ends_other_sessions_and_keeps_the_secret_encrypted(backend: Backend) {
    let app = spawn_app(backend).await;
    let here = app.signed_in("careful").await;
    let elsewhere = app.sign_in(&here.email).await;
    let status: Value = send(
        &app,
        Method::GET,
        "/api/me/second-factor",
        &here.access_token,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(status, json!({"totp": false, "recovery_codes_left": 0}));

    let response = send(&app, Method::POST, "/api/me/totp", &here.access_token, None).await;
    let enrollment: Value = response.json().await.unwrap();
    let secret = enrollment["secret"].as_str().unwrap();
    assert!(enrollment["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    assert!(enrollment["qr_svg"].as_str().unwrap().contains("<svg"));
    let stored: String = sqlx::query_scalar("SELECT secret FROM totp_factors")
        .fetch_one(app.database.pool())
        .await
        .unwrap();
    assert!(!stored.contains(secret), "the secret is stored encrypted");

    // A wrong first code turns nothing on.
    let response = send(
        &app,
        Method::POST,
        "/api/me/totp/confirm",
        &here.access_token,
        Some(json!({"code": "000000"})),
    )
    .await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "code");

    let (_, codes) = enable(&app, &here).await;
    assert_eq!(codes.len(), 10);
    let status: Value = send(
        &app,
        Method::GET,
        "/api/me/second-factor",
        &here.access_token,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(status, json!({"totp": true, "recovery_codes_left": 10}));
    // The other session ended; this one goes on.
    assert_eq!(app.refresh(&elsewhere.refresh_token).await.status(), 401);
    assert_eq!(app.refresh(&here.refresh_token).await.status(), 200);
    // Turning it on again is refused until it is off.
    let response = send(&app, Method::POST, "/api/me/totp", &here.access_token, None).await;
    assert_problem(response, 409, "second_factor_enabled").await;
    let messages = app.wait_for_mail(&here.email, 2).await;
    assert!(messages
        .last()
        .unwrap()
        .text
        .contains("authenticator app was turned on"));
    let activity: Value = send(
        &app,
        Method::GET,
        "/api/me/activity",
        &here.access_token,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|event| event["kind"] == "totp_enabled"));
}

async fn signing_in_takes_a_code_after_the_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("twostep").await;
    let (mut authenticator, _) = enable(&app, &session).await;

    let response = app.login(&session.email, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    assert_eq!(body["expires_in"], 300);
    let challenge = body["challenge"].as_str().unwrap();

    let response = second_factor(&app, challenge, "code", &authenticator.next_code()).await;
    assert_eq!(response.status(), 200);
    let cookie = set_cookie(&response).expect("the refresh cookie, as after a login");
    let body: Value = response.json().await.unwrap();
    let claims = claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["pwd", "otp"]));
    assert_eq!(app.refresh(&cookie.value).await.status(), 200);
    // The challenge is spent.
    let again = second_factor(&app, challenge, "code", "123456").await;
    assert_problem(again, 400, "invalid_challenge").await;
    // The wrong password is still just wrong, with no challenge.
    assert_problem(
        app.login(&session.email, "Not-The-Password-42").await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn a_code_works_once_even_twice_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("replayed").await;
    let (mut authenticator, _) = enable(&app, &session).await;
    let code = authenticator.next_code();
    let first = challenge(&app, &session.email).await;
    let second = challenge(&app, &session.email).await;
    let (one, two) = tokio::join!(
        second_factor(&app, &first, "code", &code),
        second_factor(&app, &second, "code", &code),
    );
    let mut statuses = [one.status().as_u16(), two.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 422], "the same code twice at once");
    // And once more, later, on a fresh challenge.
    let third = challenge(&app, &session.email).await;
    assert_problem(
        second_factor(&app, &third, "code", &code).await,
        422,
        "validation_failed",
    )
    .await;
}

async fn five_wrong_codes_spend_the_challenge_and_count_toward_the_lockout(backend: Backend) {
    let app = spawn_app_with(backend, &[("LOCKOUT_THRESHOLD", "20")]).await;
    let session = app.signed_in("guesser").await;
    let (mut authenticator, _) = enable(&app, &session).await;
    let challenge = challenge(&app, &session.email).await;
    for _ in 0..5 {
        let response = second_factor(&app, &challenge, "code", "000000").await;
        assert_problem(response, 422, "validation_failed").await;
    }
    assert_problem(
        second_factor(&app, &challenge, "code", &authenticator.next_code()).await,
        400,
        "invalid_challenge",
    )
    .await;
    let failures = app
        .count(&format!(
            "SELECT failures FROM sign_in_failures WHERE email = '{}'",
            session.email
        ))
        .await;
    assert_eq!(failures, 6, "the password step and five codes");
}

async fn an_expired_challenge_or_a_reset_in_between_ends_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("slow").await;
    let (mut authenticator, codes) = enable(&app, &session).await;
    let expired = challenge(&app, &session.email).await;
    app.execute("UPDATE login_challenges SET expires_at = 1")
        .await;
    assert_problem(
        second_factor(&app, &expired, "code", &authenticator.next_code()).await,
        400,
        "invalid_challenge",
    )
    .await;

    // The password is reset between the two steps: the challenge was made
    // under the old credentials and opens nothing.
    let pending = challenge(&app, &session.email).await;
    app.post_json(
        "/api/auth/forgot-password",
        &json!({"email": session.email}),
    )
    .await;
    let token = app.reset_token(&session.email, 3).await;
    let response = app
        .post_json(
            "/api/auth/reset-password",
            &json!({"token": token, "password": "Violet-Anchor-Meadow-57"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_problem(
        second_factor(&app, &pending, "recovery_code", &codes[0]).await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn a_recovery_code_signs_in_once_and_mails_the_owner(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("recovering").await;
    let (_, codes) = enable(&app, &session).await;
    let first = challenge(&app, &session.email).await;
    // As typed: upper case, spaces for dashes.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let response = second_factor(&app, &first, "recovery_code", &typed).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    let status: Value = send(&app, Method::GET, "/api/me/second-factor", &token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["recovery_codes_left"], 9);
    let second = challenge(&app, &session.email).await;
    let response = second_factor(&app, &second, "recovery_code", &codes[3]).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "recovery_code");
    let messages = app.wait_for_mail(&session.email, 3).await;
    assert!(messages
        .last()
        .unwrap()
        .text
        .contains("recovery code was just used"));
}

async fn reauthenticating_with_a_second_factor_needs_a_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("stepper").await;
    let (_, codes) = enable(&app, &session).await;
    let response = send(
        &app,
        Method::POST,
        "/api/auth/reauthenticate",
        &session.access_token,
        Some(json!({"password": STRONG_PASSWORD})),
    )
    .await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "code");
    let response = send(
        &app,
        Method::POST,
        "/api/auth/reauthenticate",
        &session.access_token,
        Some(json!({"password": STRONG_PASSWORD, "code": codes[0]})),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["amr"],
        json!(["pwd", "otp"])
    );
}
