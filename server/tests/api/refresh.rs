//! Refresh token rotation, the grace window, reuse detection and origins.

use std::collections::HashSet;

use serde_json::Value;

use crate::{both_backends, helpers::*};

both_backends!(
    refresh_rotates_the_cookie_and_answers_like_login,
    refresh_without_a_usable_cookie_is_refused_and_clears_it,
    rotation_never_extends_the_session,
    a_rotated_token_within_the_grace_window_gets_an_access_token_only,
    a_rotated_token_after_the_grace_window_revokes_the_session,
    twenty_parallel_refreshes_rotate_at_most_once,
    refresh_and_logout_refuse_foreign_origins,
);

async fn refresh_rotates_the_cookie_and_answers_like_login(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("rotate").await;
    let response = app.refresh(&session.refresh_token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let cookie = set_cookie(&response).expect("a rotated cookie");
    assert_ne!(cookie.value, session.refresh_token);
    assert!(cookie.has("HttpOnly") && cookie.has("Secure"));
    assert_eq!(cookie.attribute("SameSite"), Some("Strict"));
    assert_eq!(cookie.attribute("Path"), Some("/api/auth"));

    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["id"], session.user_id);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(app.get_with_token("/api/me", token).await.status(), 200);

    // The successor rotates in turn.
    let next = app.refresh(&cookie.value).await;
    assert_eq!(next.status(), 200);
    assert!(set_cookie(&next).is_some());
}

async fn refresh_without_a_usable_cookie_is_refused_and_clears_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let missing = app.post_with_cookie("/api/auth/refresh", None, None).await;
    let cleared = set_cookie(&missing).expect("the cookie is cleared");
    assert_eq!(cleared.value, "");
    assert_eq!(cleared.attribute("Max-Age"), Some("0"));
    assert_problem(missing, 401, "invalid_refresh_token").await;

    assert_problem(
        app.refresh("not-a-real-token").await,
        401,
        "invalid_refresh_token",
    )
    .await;

    let expired = app.signed_in("expired").await;
    app.execute("UPDATE sessions SET expires_at = 1").await;
    let response = app.refresh(&expired.refresh_token).await;
    assert!(set_cookie(&response).is_some_and(|cookie| cookie.value.is_empty()));
    assert_problem(response, 401, "invalid_refresh_token").await;
}

async fn rotation_never_extends_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("bounded").await;
    app.execute("UPDATE sessions SET expires_at = expires_at - 2591900")
        .await;
    let response = app.refresh(&session.refresh_token).await;
    assert_eq!(response.status(), 200);
    let max_age: i64 = set_cookie(&response)
        .unwrap()
        .attribute("Max-Age")
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=100).contains(&max_age), "Max-Age {max_age}");
}

async fn a_rotated_token_within_the_grace_window_gets_an_access_token_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("tabs").await;
    let first = app.refresh(&session.refresh_token).await;
    let successor = set_cookie(&first).unwrap().value;

    // A second tab presents the cookie it read before the rotation.
    let late = app.refresh(&session.refresh_token).await;
    assert_eq!(late.status(), 200);
    assert!(
        set_cookie(&late).is_none(),
        "no cookie change inside the grace window"
    );
    let body: Value = late.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(app.get_with_token("/api/me", token).await.status(), 200);

    // The session is intact: the successor still rotates.
    assert_eq!(app.refresh(&successor).await.status(), 200);
}

async fn a_rotated_token_after_the_grace_window_revokes_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("thief").await;
    let rotated = app.refresh(&session.refresh_token).await;
    let successor = set_cookie(&rotated).unwrap().value;
    let body: Value = rotated.json().await.unwrap();
    let access_token = body["access_token"].as_str().unwrap().to_owned();

    // Eleven seconds later (the default grace is ten).
    app.execute(
        "UPDATE refresh_tokens SET rotated_at = rotated_at - 11 WHERE rotated_at IS NOT NULL",
    )
    .await;
    let reused = app.refresh(&session.refresh_token).await;
    assert!(set_cookie(&reused).is_some_and(|cookie| cookie.value.is_empty()));
    assert_problem(reused, 401, "refresh_token_reused").await;

    // Everyone holding the session is out: the legitimate successor…
    assert_problem(app.refresh(&successor).await, 401, "invalid_refresh_token").await;
    // …and every access token it issued, before they expire.
    assert_problem(
        app.get_with_token("/api/me", &access_token).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE revoked_reason = 'reuse_detected'")
            .await,
        1
    );
}

async fn twenty_parallel_refreshes_rotate_at_most_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("racer").await;
    let responses =
        futures::future::join_all((0..20).map(|_| app.refresh(&session.refresh_token))).await;

    let mut successors = HashSet::new();
    for response in responses {
        assert_eq!(response.status(), 200, "every racer gets an access token");
        if let Some(cookie) = set_cookie(&response) {
            successors.insert(cookie.value);
        }
        let body: Value = response.json().await.unwrap();
        assert!(body["access_token"].is_string());
    }
    assert_eq!(successors.len(), 1, "exactly one rotation: {successors:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM refresh_tokens").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NOT NULL")
            .await,
        0
    );
}

async fn refresh_and_logout_refuse_foreign_origins(backend: Backend) {
    let app = spawn_app_with(backend, &[("ALLOWED_ORIGINS", "https://partner.example")]).await;
    let session = app.signed_in("origin").await;
    for path in ["/api/auth/refresh", "/api/auth/logout"] {
        for origin in ["https://evil.example", "null", "http://127.0.0.1:3001"] {
            let response = app
                .post_with_cookie(path, Some(&session.refresh_token), Some(origin))
                .await;
            assert!(
                set_cookie(&response).is_none(),
                "a refused request changes no cookie"
            );
            assert_problem(response, 403, "origin_not_allowed").await;
        }
    }
    let own = app
        .post_with_cookie(
            "/api/auth/refresh",
            Some(&session.refresh_token),
            Some("http://127.0.0.1:3000"),
        )
        .await;
    assert_eq!(own.status(), 200);
    let successor = set_cookie(&own).unwrap().value;
    let listed = app
        .post_with_cookie(
            "/api/auth/refresh",
            Some(&successor),
            Some("https://partner.example"),
        )
        .await;
    assert_eq!(listed.status(), 200);
}
