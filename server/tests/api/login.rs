//! Login, the token response, the refresh cookie and the profile.

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::{both_backends, helpers::*};

both_backends!(
    login_answers_tokens_and_sets_a_strict_cookie,
    unknown_email_and_wrong_password_look_the_same,
    login_requires_both_fields,
    access_tokens_are_typed_and_carry_the_contract_claims,
    refresh_tokens_are_stored_only_as_sha256,
    me_returns_the_profile_for_a_valid_token,
    the_profile_name_can_be_changed,
    a_new_name_shows_at_once_on_every_instance,
    an_address_with_a_control_character_is_a_field_error,
);

/// Found by the fuzzing: PostgreSQL cannot store a NUL, and the address
/// typed is part of the lockout's key, so it was a 500 there. So was an
/// address too long for PostgreSQL's index of those keys; and text that is
/// no address at all could read like a session's own key ("session …"),
/// and count toward that session's re-authentication lockout.
async fn an_address_with_a_control_character_is_a_field_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let long = "x".repeat(3_000) + "@example.com";
    for email in [
        "ada\u{0}@example.com",
        "\u{8b}\u{c}x@example.com",
        &long,
        "session 0190f0f0-0000-7000-8000-000000000000",
    ] {
        let response = app.login(email, STRONG_PASSWORD).await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "email");
    }
}

async fn login_answers_tokens_and_sets_a_strict_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("ada").await;
    let response = app.login(&email, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");

    let cookie = set_cookie(&response).expect("a refresh cookie");
    assert!(
        cookie.value.len() >= 43,
        "at least 256 bits: {}",
        cookie.value
    );
    for flag in ["HttpOnly", "Secure"] {
        assert!(cookie.has(flag), "{flag} missing: {cookie:?}");
    }
    assert_eq!(cookie.attribute("SameSite"), Some("Strict"));
    assert_eq!(cookie.attribute("Path"), Some("/api/auth"));
    assert_eq!(cookie.attribute("Max-Age"), Some("2592000"));

    // The page may learn that a session exists, but nothing more.
    let hint = cookie_named(&response, "session_hint").expect("a session hint");
    assert_eq!(hint.value, "1");
    assert!(!hint.has("HttpOnly"));
    assert_eq!(hint.attribute("Path"), Some("/"));
    assert_eq!(hint.attribute("Max-Age"), Some("2592000"));

    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
    let user = &body["user"];
    assert_eq!(user["email"], email);
    assert_eq!(user["name"], "ada");
    assert_eq!(user["role"], "user");
    assert_eq!(user["email_verified"], true);
    assert_eq!(user["disabled"], false);
    assert!(uuid::Uuid::parse_str(user["id"].as_str().unwrap()).is_ok());
    let created_at = user["created_at"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(created_at, &time::format_description::well_known::Rfc3339)
            .is_ok(),
        "{created_at}"
    );
    assert_eq!(
        user.as_object().unwrap().len(),
        7,
        "exactly the contract's fields, no secrets: {user}"
    );
}

async fn unknown_email_and_wrong_password_look_the_same(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("bob").await;
    let wrong_password = assert_problem(
        app.login(&email, "Not-The-Password-1").await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown_email = assert_problem(
        app.login(&unique_email("ghost"), STRONG_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong_password, unknown_email);
}

async fn login_requires_both_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .post_json("/api/auth/login", &json!({"email": " ", "password": ""}))
        .await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);
}

async fn access_tokens_are_typed_and_carry_the_contract_claims(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("claims").await;
    let header = jsonwebtoken::decode_header(&session.access_token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);

    let claims = decode_claims(&session.access_token);
    for claim in ["iss", "aud", "sub", "sid", "role", "iat", "exp", "jti"] {
        assert!(!claims[claim].is_null(), "{claim} missing: {claims}");
    }
    assert_eq!(claims["sub"], session.user_id);
    assert_eq!(claims["iss"], "http://127.0.0.1:3000");
    assert_eq!(claims["role"], "user");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    let second = app.sign_in(&session.email).await;
    assert_ne!(decode_claims(&second.access_token)["sid"], claims["sid"]);
    assert_ne!(decode_claims(&second.access_token)["jti"], claims["jti"]);
}

async fn refresh_tokens_are_stored_only_as_sha256(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("stored").await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM refresh_tokens")
        .fetch_all(app.database.pool())
        .await
        .unwrap();
    assert_eq!(
        stored,
        [hex::encode(Sha256::digest(
            session.refresh_token.as_bytes()
        ))]
    );
}

async fn me_returns_the_profile_for_a_valid_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("me").await;
    let response = app.get_with_token("/api/me", &session.access_token).await;
    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["id"], session.user_id);
    assert_eq!(user["email"], session.email);
    assert_eq!(user["email_verified"], true);
}

pub fn decode_claims(token: &str) -> Value {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let payload = token.split('.').nth(1).expect("a JWT payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The name GET /api/me shows to `token` at `instance`.
async fn name_seen(instance: &TestApp, token: &str) -> String {
    let user: Value = instance
        .get_with_token("/api/me", token)
        .await
        .json()
        .await
        .unwrap();
    user["name"].as_str().unwrap().to_owned()
}

async fn the_profile_name_can_be_changed(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("rename").await;
    let other_device = app.sign_in(&session.email).await;
    // Both sessions have asked once: whatever the server keeps of that
    // answer must not outlive the rename.
    let before = name_seen(&app, &session.access_token).await;
    assert_eq!(name_seen(&app, &other_device.access_token).await, before);
    let patch = |body: Value| {
        app.client
            .patch(app.url("/api/me"))
            .bearer_auth(&session.access_token)
            .json(&body)
            .send()
    };
    let response = patch(json!({"name": "  Ada King  "})).await.unwrap();
    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["name"], "Ada King");
    let reloaded: Value = app
        .get_with_token("/api/me", &session.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reloaded["name"], "Ada King");
    assert_eq!(
        name_seen(&app, &other_device.access_token).await,
        "Ada King"
    );

    let response = patch(json!({"name": " "})).await.unwrap();
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "name");

    let anonymous = app
        .client
        .patch(app.url("/api/me"))
        .json(&json!({"name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    assert_problem(anonymous, 401, "authentication_required").await;
}

async fn a_new_name_shows_at_once_on_every_instance(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("everywhere").await;
    let token = &session.access_token;
    // Several instances need PostgreSQL; with SQLite the other instance is
    // the same database after a restart.
    let running = match backend {
        Backend::Postgres => {
            let elsewhere = app.another_instance().await;
            assert_ne!(name_seen(&elsewhere, token).await, "Grace Hopper");
            Some(elsewhere)
        }
        Backend::Sqlite => None,
    };
    assert_ne!(name_seen(&app, token).await, "Grace Hopper");

    let response = app
        .client
        .patch(app.url("/api/me"))
        .bearer_auth(&session.access_token)
        .json(&json!({"name": "Grace Hopper"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(name_seen(&app, token).await, "Grace Hopper");
    let elsewhere = match running {
        Some(elsewhere) => elsewhere,
        None => app.another_instance().await,
    };
    assert_eq!(name_seen(&elsewhere, token).await, "Grace Hopper");
}
