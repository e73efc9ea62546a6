//! The lockout that an attacker cannot use: counting a try and checking
//! the lock are one statement, so parallel guesses at the moment a lock
//! ends get no more tries than the limit; and a browser that signed in to
//! the account before (it holds a device cookie) is not locked out by
//! failures made elsewhere, nor held to the address's share of tries that
//! others spent; neither is a signed-in session's step-up.

use futures::future::join_all;
use serde_json::json;

use crate::{
    both_backends,
    helpers::{
        assert_problem, cookie_named, spawn_app_with, unique_email, Backend, TestApp,
        STRONG_PASSWORD,
    },
    limits::THREE_PER_TARGET,
};

both_backends!(
    parallel_guesses_get_no_more_tries_than_the_threshold,
    a_burst_when_a_lock_ends_gets_one_try,
    the_owners_device_is_not_locked_out_by_failures_elsewhere,
    a_stolen_device_cookie_locks_on_its_own,
    a_device_cookie_counts_only_for_its_own_address,
    tries_spent_elsewhere_leave_the_owners_device_and_step_up_theirs,
);

const WRONG: &str = "Not-The-Password-42";
const LOCKOUT: [(&str, &str); 2] = [("LOCKOUT_THRESHOLD", "3"), ("LOCKOUT_DELAY_SECS", "60")];

async fn login_with_device(
    app: &TestApp,
    email: &str,
    password: &str,
    device: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": email, "password": password}));
    if let Some(device) = device {
        request = request.header("cookie", format!("device={device}"));
    }
    request.send().await.expect("request failed")
}

/// Statuses of `count` wrong sign-ins sent at once.
async fn burst(app: &TestApp, email: &str, count: usize, device: Option<&str>) -> (usize, usize) {
    let statuses = join_all(
        (0..count).map(|_| async { login_with_device(app, email, WRONG, device).await.status() }),
    )
    .await;
    let checked = statuses
        .iter()
        .filter(|status| status.as_u16() == 401)
        .count();
    let locked = statuses
        .iter()
        .filter(|status| status.as_u16() == 429)
        .count();
    assert_eq!(checked + locked, count, "{statuses:?}");
    (checked, locked)
}

async fn failures_of(app: &TestApp, key: &str) -> i64 {
    app.count(&format!(
        "SELECT failures FROM sign_in_failures WHERE email = '{key}'"
    ))
    .await
}

async fn parallel_guesses_get_no_more_tries_than_the_threshold(backend: Backend) {
    let app = spawn_app_with(backend, &LOCKOUT).await;
    let email = app.verified_user("burst").await;
    assert_eq!(burst(&app, &email, 12, None).await, (3, 9));
    assert_eq!(failures_of(&app, &email).await, 3);
    assert_problem(
        app.login(&email, STRONG_PASSWORD).await,
        429,
        "sign_in_locked",
    )
    .await;
}

async fn a_burst_when_a_lock_ends_gets_one_try(backend: Backend) {
    let app = spawn_app_with(backend, &LOCKOUT).await;
    let email = unique_email("ends");
    assert_eq!(burst(&app, &email, 3, None).await, (3, 0));
    // The lock runs out this very second.
    app.execute("UPDATE sign_in_failures SET locked_until = 1")
        .await;
    assert_eq!(burst(&app, &email, 12, None).await, (1, 11));
    assert_eq!(failures_of(&app, &email).await, 4);
    let locked_for = app
        .count(&format!(
            "SELECT locked_until - last_failed_at FROM sign_in_failures WHERE email = '{email}'"
        ))
        .await;
    assert_eq!(locked_for, 120, "the fourth failure doubles the wait");
}

async fn the_owners_device_is_not_locked_out_by_failures_elsewhere(backend: Backend) {
    let app = spawn_app_with(backend, &LOCKOUT).await;
    let email = app.verified_user("owner").await;
    let response = app.login(&email, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let device = cookie_named(&response, "device").expect("a device cookie");
    assert!(device.has("HttpOnly") && device.has("Secure"));
    assert_eq!(device.attribute("Path"), Some("/api/auth/login"));
    assert_eq!(device.attribute("SameSite"), Some("Strict"));

    // Someone else locks the address.
    assert_eq!(burst(&app, &email, 3, None).await, (3, 0));
    assert_problem(
        app.login(&email, STRONG_PASSWORD).await,
        429,
        "sign_in_locked",
    )
    .await;
    // The owner's browser still signs in, and gets a fresh device cookie.
    let response = login_with_device(&app, &email, STRONG_PASSWORD, Some(&device.value)).await;
    assert_eq!(response.status(), 200);
    assert!(cookie_named(&response, "device").is_some());
    // The address stays locked for everyone else.
    assert_eq!(app.login(&email, STRONG_PASSWORD).await.status(), 429);
}

async fn a_stolen_device_cookie_locks_on_its_own(backend: Backend) {
    let app = spawn_app_with(backend, &LOCKOUT).await;
    let email = app.verified_user("robbed").await;
    let response = app.login(&email, STRONG_PASSWORD).await;
    let device = cookie_named(&response, "device").unwrap().value;
    assert_eq!(burst(&app, &email, 8, Some(&device)).await, (3, 5));
    assert_problem(
        login_with_device(&app, &email, STRONG_PASSWORD, Some(&device)).await,
        429,
        "sign_in_locked",
    )
    .await;
    // The address itself was not counted: without that cookie, the owner
    // signs in.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM sign_in_failures WHERE email = '{email}'"
        ))
        .await,
        0
    );
    assert_eq!(app.login(&email, STRONG_PASSWORD).await.status(), 200);
}

async fn a_device_cookie_counts_only_for_its_own_address(backend: Backend) {
    let app = spawn_app_with(backend, &LOCKOUT).await;
    let mine = app.verified_user("mine").await;
    let theirs = app.verified_user("theirs").await;
    let response = app.login(&mine, STRONG_PASSWORD).await;
    let device = cookie_named(&response, "device").unwrap().value;
    // Used for another address, the cookie is ignored: failures count
    // toward that address and lock it.
    assert_eq!(burst(&app, &theirs, 4, Some(&device)).await, (3, 1));
    assert_eq!(failures_of(&app, &theirs).await, 3);
    // A forged or mangled cookie is no cookie.
    let forged = format!("{device}x");
    assert_eq!(
        login_with_device(&app, &theirs, STRONG_PASSWORD, Some(&forged))
            .await
            .status(),
        429
    );
}

async fn tries_spent_elsewhere_leave_the_owners_device_and_step_up_theirs(backend: Backend) {
    let app = spawn_app_with(backend, &THREE_PER_TARGET).await;
    let email = app.verified_user("owner").await;
    let response = app.login(&email, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let device = cookie_named(&response, "device").expect("a device cookie");
    let body: serde_json::Value = response.json().await.unwrap();
    let access_token = body["access_token"].as_str().unwrap().to_owned();

    // Someone else spends the rest of the address's tries.
    for _ in 0..2 {
        assert_eq!(app.login(&email, WRONG).await.status(), 401);
    }
    assert_problem(
        app.login(&email, STRONG_PASSWORD).await,
        429,
        "rate_limited",
    )
    .await;

    // The owner's browser, and the owner's session proving itself again.
    let response = login_with_device(&app, &email, STRONG_PASSWORD, Some(&device.value)).await;
    assert_eq!(response.status(), 200);
    let response = app
        .send_with_token(
            reqwest::Method::POST,
            "/api/auth/reauthenticate",
            &access_token,
            Some(&json!({"password": STRONG_PASSWORD})),
        )
        .await;
    assert_eq!(response.status(), 200);
}
