//! Step-up re-authentication: access tokens carry when (`auth_time`) and how
//! (`amr`) their user last proved who they are, a refresh carries both on
//! unchanged, and sensitive actions (changing the password, an admin's
//! changes to an account) need a proof younger than REAUTH_MAX_AGE_SECS,
//! answering RFC 9470's challenge otherwise. `POST /api/auth/reauthenticate`
//! renews the proof for the same session.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use reqwest::Method;
use serde_json::{json, Value};

use crate::{both_backends, helpers::*};

both_backends!(
    tokens_say_when_and_how_the_user_proved_it,
    a_refresh_keeps_the_old_proof,
    a_stale_proof_gets_the_rfc_9470_challenge,
    reauthenticating_renews_the_proof_of_the_same_session,
    a_wrong_password_is_a_field_error_and_counts_toward_the_sessions_own_lock,
    an_ended_session_cannot_reauthenticate,
    admins_step_up_too_after_the_role_check,
    every_endpoint_described_as_sensitive_asks_for_a_recent_proof,
);

fn claims(access_token: &str) -> Value {
    let payload = access_token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Makes the session's proof `seconds` old and returns a token that
/// carries it (through a refresh, as a client would get one).
async fn age_the_proof(app: &TestApp, session: &Session, seconds: i64) -> String {
    app.execute(&format!(
        "UPDATE sessions SET auth_time = auth_time - {seconds} WHERE user_id = '{}'",
        session.user_id
    ))
    .await;
    let response = app.refresh(&session.refresh_token).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn change_password(app: &TestApp, token: &str) -> reqwest::Response {
    app.send_with_token(
        Method::POST,
        "/api/me/password",
        token,
        Some(&json!({
            "current_password": STRONG_PASSWORD,
            "new_password": "Violet-Anchor-Meadow-57",
        })),
    )
    .await
}

async fn reauthenticate(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.send_with_token(
        Method::POST,
        "/api/auth/reauthenticate",
        token,
        Some(&json!({"password": password})),
    )
    .await
}

async fn tokens_say_when_and_how_the_user_proved_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("proof").await;
    let claims = claims(&session.access_token);
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["auth_time"], claims["iat"]);
}

async fn a_refresh_keeps_the_old_proof(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("keeper").await;
    let before = claims(&session.access_token)["auth_time"].as_i64().unwrap();
    let token = age_the_proof(&app, &session, 1_000).await;
    let after = claims(&token);
    assert_eq!(after["auth_time"].as_i64().unwrap(), before - 1_000);
    assert!(
        after["iat"].as_i64().unwrap() >= before,
        "a new token all the same"
    );
}

async fn a_stale_proof_gets_the_rfc_9470_challenge(backend: Backend) {
    let app = spawn_app_with(backend, &[("REAUTH_MAX_AGE_SECS", "60")]).await;
    let session = app.signed_in("stale").await;
    let token = age_the_proof(&app, &session, 61).await;
    let response = change_password(&app, &token).await;
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer error="insufficient_user_authentication", max_age=60"#
    );
    assert_problem(response, 401, "insufficient_user_authentication").await;
    // The token itself is fine for everything else.
    assert_eq!(app.get_with_token("/api/me", &token).await.status(), 200);
    // Within the age, the same action goes through.
    let fresh = app.signed_in("fresh").await;
    assert_eq!(
        change_password(&app, &fresh.access_token).await.status(),
        204
    );
}

async fn reauthenticating_renews_the_proof_of_the_same_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("again").await;
    let stale = age_the_proof(&app, &session, 10_000).await;
    assert_eq!(change_password(&app, &stale).await.status(), 401);

    let response = reauthenticate(&app, &stale, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert!(
        set_cookie(&response).is_none(),
        "the same session: no new cookie"
    );
    let body: Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    let renewed = claims(token);
    assert_eq!(renewed["sid"], claims(&stale)["sid"]);
    assert_eq!(renewed["auth_time"], renewed["iat"]);
    assert_eq!(renewed["amr"], json!(["pwd"]));
    // The session keeps the new proof across refreshes.
    let refreshed: Value = app
        .refresh(&session.refresh_token)
        .await
        .json()
        .await
        .unwrap();
    let refreshed = claims(refreshed["access_token"].as_str().unwrap());
    assert_eq!(refreshed["auth_time"], renewed["auth_time"]);
    assert_eq!(change_password(&app, token).await.status(), 204);
}

async fn a_wrong_password_is_a_field_error_and_counts_toward_the_sessions_own_lock(
    backend: Backend,
) {
    let app = spawn_app_with(backend, &[("LOCKOUT_THRESHOLD", "3")]).await;
    let session = app.signed_in("fumble").await;
    for _ in 0..3 {
        let response = reauthenticate(&app, &session.access_token, "Not-The-Password-1").await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "password");
    }
    assert_problem(
        reauthenticate(&app, &session.access_token, STRONG_PASSWORD).await,
        429,
        "sign_in_locked",
    )
    .await;
    // The address itself is not locked: its owner signs in elsewhere.
    assert_eq!(
        app.login(&session.email, STRONG_PASSWORD).await.status(),
        200
    );
}

async fn an_ended_session_cannot_reauthenticate(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("ended").await;
    let other = app.sign_in(&session.email).await;
    // Ended without the revocation reaching this token's check: the
    // statement that records the proof refuses it all the same.
    app.execute(&format!(
        "UPDATE sessions SET revoked_at = 1 WHERE id = '{}'",
        claims(&session.access_token)["sid"].as_str().unwrap()
    ))
    .await;
    assert_problem(
        reauthenticate(&app, &session.access_token, STRONG_PASSWORD).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(
        reauthenticate(&app, &other.access_token, STRONG_PASSWORD)
            .await
            .status(),
        200
    );
}

async fn admins_step_up_too_after_the_role_check(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("boss").await;
    let user = app.signed_in("plain").await;
    let path = format!("/api/users/{}", user.user_id);
    let body = json!({"role": "admin"});

    // Not an admin: 403 whatever the age of the proof.
    let stale_user = age_the_proof(&app, &user, 10_000).await;
    let response = app
        .send_with_token(Method::PATCH, &path, &stale_user, Some(&body))
        .await;
    assert_problem(response, 403, "forbidden").await;

    let stale_admin = age_the_proof(&app, &admin, 10_000).await;
    let response = app
        .send_with_token(Method::PATCH, &path, &stale_admin, Some(&body))
        .await;
    assert_problem(response, 401, "insufficient_user_authentication").await;
    let token: Value = reauthenticate(&app, &stale_admin, STRONG_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .send_with_token(
            Method::PATCH,
            &path,
            token["access_token"].as_str().unwrap(),
            Some(&body),
        )
        .await;
    assert_eq!(response.status(), 200);
}

/// The catalog says which endpoints need a recent proof; each of them,
/// called by an admin with a stale one, answers the challenge before doing
/// anything (so no handler can forget the check the description promises).
async fn every_endpoint_described_as_sensitive_asks_for_a_recent_proof(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("auditor").await;
    let stale = age_the_proof(&app, &admin, 10_000).await;
    let sensitive: Vec<_> = app::api::endpoints::all()
        .filter(|endpoint| endpoint.credentials.needs_recent_authentication())
        .collect();
    assert!(sensitive.len() >= 2, "{sensitive:?}");
    for endpoint in sensitive {
        let path = endpoint
            .path
            .replace("{id}", &uuid::Uuid::new_v4().to_string());
        let method = reqwest::Method::from_bytes(endpoint.method.as_str().as_bytes()).unwrap();
        let response = app
            .client
            .request(method, app.url(&path))
            .bearer_auth(&stale)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_problem(response, 401, "insufficient_user_authentication").await;
    }
}
