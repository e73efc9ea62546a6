//! Logout, logout everywhere, and what revocation does to access tokens.

use serde_json::Value;

use crate::{both_backends, helpers::*};

both_backends!(
    logout_revokes_the_session_and_clears_the_cookie,
    logout_without_a_cookie_is_still_204,
    logout_all_revokes_every_session_of_the_user,
    logout_all_needs_a_bearer_token,
    revocations_survive_a_restart,
    another_instance_learns_of_revocations,
    housekeeping_deletes_only_what_ended_a_day_ago,
);

async fn logout_revokes_the_session_and_clears_the_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("leaving").await;
    let other = app.sign_in(&session.email).await;

    let response = app
        .post_with_cookie(
            "/api/auth/logout",
            Some(&session.refresh_token),
            Some("http://127.0.0.1:3000"),
        )
        .await;
    assert_eq!(response.status(), 204);
    let cleared = set_cookie(&response).expect("the cookie is cleared");
    assert_eq!(cleared.value, "");
    assert_eq!(cleared.attribute("Max-Age"), Some("0"));
    assert_eq!(cleared.attribute("Path"), Some("/api/auth"));
    let hint = cookie_named(&response, "session_hint").expect("the hint is cleared too");
    assert_eq!(hint.attribute("Max-Age"), Some("0"));

    assert_problem(
        app.refresh(&session.refresh_token).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_problem(
        app.get_with_token("/api/me", &session.access_token).await,
        401,
        "invalid_token",
    )
    .await;
    // Only that session ended.
    assert_eq!(
        app.get_with_token("/api/me", &other.access_token)
            .await
            .status(),
        200
    );
    assert_eq!(app.refresh(&other.refresh_token).await.status(), 200);
}

async fn logout_without_a_cookie_is_still_204(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.post_with_cookie("/api/auth/logout", None, None).await;
    assert_eq!(response.status(), 204);
    let response = app
        .post_with_cookie("/api/auth/logout", Some("unknown-token"), None)
        .await;
    assert_eq!(response.status(), 204);
}

async fn logout_all_revokes_every_session_of_the_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let laptop = app.signed_in("everywhere").await;
    let phone = app.sign_in(&laptop.email).await;
    let stranger = app.signed_in("stranger").await;

    let response = app
        .client
        .post(app.url("/api/auth/logout-all"))
        .bearer_auth(&phone.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    for session in [&laptop, &phone] {
        assert_problem(
            app.get_with_token("/api/me", &session.access_token).await,
            401,
            "invalid_token",
        )
        .await;
        assert_problem(
            app.refresh(&session.refresh_token).await,
            401,
            "invalid_refresh_token",
        )
        .await;
    }
    assert_eq!(
        app.get_with_token("/api/me", &stranger.access_token)
            .await
            .status(),
        200
    );
}

async fn logout_all_needs_a_bearer_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("cookie-only").await;
    let response = app
        .post_with_cookie("/api/auth/logout-all", Some(&session.refresh_token), None)
        .await;
    // RFC 6750 §3.1: no token was sent, so the challenge names no error.
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_problem(response, 401, "authentication_required").await;
    assert_eq!(app.refresh(&session.refresh_token).await.status(), 200);
}

async fn revocations_survive_a_restart(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("restart").await;
    app.post_with_cookie("/api/auth/logout", Some(&session.refresh_token), None)
        .await;
    // A fresh process knows nothing in memory: it must rebuild the list.
    let restarted = app.another_instance().await;
    assert_problem(
        restarted
            .get_with_token("/api/me", &session.access_token)
            .await,
        401,
        "invalid_token",
    )
    .await;
}

async fn another_instance_learns_of_revocations(backend: Backend) {
    let first = spawn_app(backend).await;
    let second = first.another_instance().await;
    let session = first.signed_in("two-instances").await;
    assert_eq!(
        second
            .get_with_token("/api/me", &session.access_token)
            .await
            .status(),
        200
    );

    first
        .post_with_cookie("/api/auth/logout", Some(&session.refresh_token), None)
        .await;

    match backend {
        // Several instances need PostgreSQL: the revocation is announced
        // through LISTEN/NOTIFY. Poll for it rather than sleeping a fixed time.
        Backend::Postgres => {
            let started = std::time::Instant::now();
            loop {
                let status = second
                    .get_with_token("/api/me", &session.access_token)
                    .await
                    .status();
                if status == 401 {
                    break;
                }
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(1),
                    "the second instance still accepts a revoked session after a second"
                );
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
        }
        // SQLite runs one instance; the other sees the revocation on restart.
        Backend::Sqlite => {
            let restarted = first.another_instance().await;
            let response = restarted
                .get_with_token("/api/me", &session.access_token)
                .await;
            assert_eq!(response.status(), 401);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "invalid_token");
        }
    }
}

async fn housekeeping_deletes_only_what_ended_a_day_ago(backend: Backend) {
    let app = spawn_app(backend).await;
    let live = app.signed_in("live").await;
    let old = app.signed_in("old").await;
    let recent = app.signed_in("recent").await;
    app.post_with_cookie("/api/auth/logout", Some(&old.refresh_token), None)
        .await;
    app.post_with_cookie("/api/auth/logout", Some(&recent.refresh_token), None)
        .await;
    app.execute(&format!(
        "UPDATE sessions SET revoked_at = revoked_at - 90000 WHERE user_id = '{}'",
        old.user_id
    ))
    .await;

    let swept = server::housekeeping::sweep(&app.database, server::clock::unix_now())
        .await
        .unwrap();
    assert_eq!(swept.sessions, 1, "only the session revoked over a day ago");
    assert_eq!(swept.tokens, 0, "verification links used just now are kept");
    assert_eq!(swept.pending_signups, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 2);
    // A day later than revocation, the old token is simply unknown.
    assert_problem(
        app.refresh(&old.refresh_token).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_eq!(app.refresh(&live.refresh_token).await.status(), 200);
}
