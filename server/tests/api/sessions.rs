//! The device list, signing a device out, remember-me, the idle timeout,
//! and refreshes racing logouts.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{both_backends, helpers::*};

both_backends!(
    the_list_shows_live_sessions_with_their_device_and_the_current_one,
    signing_a_device_out_ends_it_at_once,
    another_users_session_is_not_found,
    a_session_not_remembered_gets_a_browser_session_cookie,
    an_idle_session_cannot_be_renewed,
    refreshes_racing_logouts_leave_no_live_session,
    a_revocation_an_instance_missed_is_enforced_once_it_reconnects,
    beyond_the_cap_the_least_recently_used_session_ends,
    a_burst_of_sign_ins_leaves_the_cap_once_the_next_one_lands,
);

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                      (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

async fn sign_in_with_agent(app: &TestApp, email: &str, agent: &str) -> Session {
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .header("user-agent", agent)
        .json(&json!({"email": email, "password": STRONG_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let refresh_token = set_cookie(&response).unwrap().value;
    let body: Value = response.json().await.unwrap();
    Session {
        email: email.to_owned(),
        access_token: body["access_token"].as_str().unwrap().to_owned(),
        refresh_token,
        user_id: body["user"]["id"].as_str().unwrap().to_owned(),
    }
}

async fn list(app: &TestApp, session: &Session) -> Vec<Value> {
    let response = app
        .get_with_token("/api/me/sessions", &session.access_token)
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["sessions"].as_array().unwrap().clone()
}

pub(crate) fn session_id_of(access_token: &str) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let payload = access_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

async fn end(app: &TestApp, session: &Session, id: &str) -> reqwest::Response {
    app.send_with_token(
        Method::DELETE,
        &format!("/api/me/sessions/{id}"),
        &session.access_token,
        None,
    )
    .await
}

async fn the_list_shows_live_sessions_with_their_device_and_the_current_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("devices").await;
    let laptop = sign_in_with_agent(&app, &email, FIREFOX).await;
    let desktop = sign_in_with_agent(&app, &email, CHROME).await;
    let ended = sign_in_with_agent(&app, &email, CHROME).await;
    app.post_with_cookie("/api/auth/logout", Some(&ended.refresh_token), None)
        .await;

    let sessions = list(&app, &laptop).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let by_id = |id: &str| sessions.iter().find(|s| s["id"] == id).unwrap().clone();
    let mine = by_id(&session_id_of(&laptop.access_token));
    assert_eq!(mine["current"], true);
    assert_eq!(mine["device"], "Firefox on Linux");
    assert_eq!(mine["ip_address"], "127.0.0.1");
    assert!(mine["created_at"].as_str().unwrap().ends_with('Z'));
    let other = by_id(&session_id_of(&desktop.access_token));
    assert_eq!(other["current"], false);
    assert_eq!(other["device"], "Chrome on Windows 10");
    // The most recently used first.
    assert_eq!(app.refresh(&laptop.refresh_token).await.status(), 200);
    app.execute(&format!(
        "UPDATE sessions SET last_seen_at = last_seen_at - 100 WHERE id = '{}'",
        session_id_of(&desktop.access_token)
    ))
    .await;
    assert_eq!(list(&app, &laptop).await[0]["current"], true);
}

async fn signing_a_device_out_ends_it_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("revoker").await;
    let here = app.sign_in(&email).await;
    let lost_phone = app.sign_in(&email).await;
    let elsewhere = app.another_instance().await;

    let response = end(&app, &here, &session_id_of(&lost_phone.access_token)).await;
    assert_eq!(response.status(), 204);
    assert_problem(
        app.get_with_token("/api/me", &lost_phone.access_token)
            .await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(
        app.refresh(&lost_phone.refresh_token).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    if backend == Backend::Postgres {
        crate::passwords::wait_until_refused(&elsewhere, &lost_phone.access_token).await;
    }
    assert_eq!(
        app.get_with_token("/api/me", &here.access_token)
            .await
            .status(),
        200
    );
    assert_eq!(list(&app, &here).await.len(), 1);
    // Ended is ended: a second time, it is not a live session of the user.
    assert_problem(
        end(&app, &here, &session_id_of(&lost_phone.access_token)).await,
        404,
        "not_found",
    )
    .await;
}

async fn another_users_session_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let mallory = app.signed_in("mallory").await;
    let alice = app.signed_in("alice").await;
    for id in [
        session_id_of(&alice.access_token),
        uuid::Uuid::new_v4().to_string(),
        "not-an-id".to_owned(),
    ] {
        assert_problem(end(&app, &mallory, &id).await, 404, "not_found").await;
    }
    assert_eq!(
        app.get_with_token("/api/me", &alice.access_token)
            .await
            .status(),
        200
    );
}

async fn a_session_not_remembered_gets_a_browser_session_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("kiosk").await;

    let response = app
        .post_json(
            "/api/auth/login",
            &json!({"email": email, "password": STRONG_PASSWORD, "remember": false}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let cookie = set_cookie(&response).unwrap();
    assert_eq!(cookie.attribute("Max-Age"), None, "{cookie:?}");
    assert_eq!(cookie.attribute("Expires"), None, "{cookie:?}");
    let hint = cookie_named(&response, "session_hint").unwrap();
    assert_eq!(hint.attribute("Max-Age"), None);
    // Rotation keeps it a browser-session cookie…
    let rotated = app.refresh(&cookie.value).await;
    assert_eq!(rotated.status(), 200);
    assert_eq!(set_cookie(&rotated).unwrap().attribute("Max-Age"), None);
    // …and the session lives SESSION_TTL_SECS (12 hours by default).
    let lifetime = app
        .count("SELECT MAX(expires_at - created_at) FROM sessions")
        .await;
    assert_eq!(lifetime, 12 * 60 * 60);

    // Remembered (the default): the cookie lasts as long as the session.
    let remembered = app.login(&email, STRONG_PASSWORD).await;
    let cookie = set_cookie(&remembered).unwrap();
    assert_eq!(cookie.attribute("Max-Age"), Some("2592000"));
}

async fn an_idle_session_cannot_be_renewed(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("sleepy").await;
    let week = 7 * 24 * 60 * 60;
    app.execute(&format!(
        "UPDATE sessions SET last_seen_at = last_seen_at - {}",
        week + 1
    ))
    .await;
    assert_problem(
        app.refresh(&session.refresh_token).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert!(
        list(&app, &session).await.is_empty(),
        "idle sessions are not listed"
    );
}

/// Fifty sign-ins, each refreshed and signed out at the same moment with
/// the same cookie: whatever the order, once the logout has answered no
/// cookie handed out by the refresh still works.
async fn refreshes_racing_logouts_leave_no_live_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("racer").await;
    let mut handed_out = Vec::new();
    for _ in 0..50 {
        let session = app.sign_in(&email).await;
        let (refreshed, logged_out) = tokio::join!(
            app.refresh(&session.refresh_token),
            app.post_with_cookie("/api/auth/logout", Some(&session.refresh_token), None),
        );
        assert_eq!(logged_out.status(), 204);
        if refreshed.status() == 200 {
            if let Some(cookie) = set_cookie(&refreshed) {
                handed_out.push(cookie.value);
            }
        } else {
            assert_eq!(refreshed.status(), 401);
        }
    }
    for token in handed_out {
        assert_problem(app.refresh(&token).await, 401, "invalid_refresh_token").await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL")
            .await,
        0
    );
}

/// An instance whose listener was away when a revocation happened (here:
/// one written with no announcement at all) catches up when it reconnects.
async fn a_revocation_an_instance_missed_is_enforced_once_it_reconnects(backend: Backend) {
    if backend == Backend::Sqlite {
        // One process per SQLite database: nothing to miss.
        return;
    }
    let app = spawn_app(backend).await;
    let session = app.signed_in("missed").await;
    let elsewhere = app.another_instance().await;
    assert_eq!(
        elsewhere
            .get_with_token("/api/me", &session.access_token)
            .await
            .status(),
        200
    );

    app.execute(&format!(
        "UPDATE sessions SET revoked_at = {}, revoked_reason = 'logout' WHERE id = '{}'",
        server::clock::unix_now(),
        session_id_of(&session.access_token)
    ))
    .await;
    assert_eq!(
        elsewhere
            .get_with_token("/api/me", &session.access_token)
            .await
            .status(),
        200,
        "no announcement was made"
    );
    // Every listener on this database loses its connection and reconnects.
    app.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query ILIKE 'listen%' AND pid <> pg_backend_pid()",
    )
    .await;
    crate::passwords::wait_until_refused(&elsewhere, &session.access_token).await;
}

/// `MAX_SESSIONS_PER_USER`: one sign-in more ends the session used least
/// recently (not the oldest), refused at once and shown in the activity.
async fn beyond_the_cap_the_least_recently_used_session_ends(backend: Backend) {
    let app = spawn_app_with(backend, &[("MAX_SESSIONS_PER_USER", "3")]).await;
    let email = app.verified_user("crowded").await;
    let first = app.sign_in(&email).await;
    let second = app.sign_in(&email).await;
    let third = app.sign_in(&email).await;
    // Last used: the second longest ago, then the third, then the first.
    for (session, seconds_ago) in [(&first, 100), (&second, 300), (&third, 200)] {
        app.execute(&format!(
            "UPDATE sessions SET last_seen_at = last_seen_at - {seconds_ago} WHERE id = '{}'",
            session_id_of(&session.access_token)
        ))
        .await;
    }

    let fourth = app.sign_in(&email).await;

    assert_problem(
        app.refresh(&second.refresh_token).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_eq!(
        app.get_with_token("/api/me", &second.access_token)
            .await
            .status(),
        401,
        "its access token is refused at once"
    );
    for kept in [&first, &third] {
        assert_eq!(app.refresh(&kept.refresh_token).await.status(), 200);
    }
    let listed: Vec<String> = list(&app, &fourth)
        .await
        .iter()
        .map(|session| session["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed.len(), 3);
    assert!(!listed.contains(&session_id_of(&second.access_token)));

    let activity: Value = app
        .get_with_token("/api/me/activity", &fourth.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        activity.to_string().contains("too many sessions"),
        "the end is in the activity: {activity}"
    );
}

/// Sign-ins racing each other each see their own session, not the others'
/// until they commit: the cap may be passed by the burst, and holds again
/// from the next sign-in on.
async fn a_burst_of_sign_ins_leaves_the_cap_once_the_next_one_lands(backend: Backend) {
    let app = spawn_app_with(backend, &[("MAX_SESSIONS_PER_USER", "3")]).await;
    let email = app.verified_user("bursty").await;
    let burst = futures::future::join_all((0..8).map(|_| app.sign_in(&email))).await;
    assert_eq!(burst.len(), 8);
    let last = app.sign_in(&email).await;
    assert_eq!(list(&app, &last).await.len(), 3);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL")
            .await,
        3
    );
}
