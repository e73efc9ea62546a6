//! Changing the second factors: replacing the recovery codes (the old ones
//! stop working), turning the authenticator app off (the password alone
//! signs in again), and an admin turning off the app of an owner who lost
//! it. Attacks tried: a used-up code after its replacement, a user calling
//! the admins' endpoint, an unknown account, and turning off what is off.

use reqwest::Method;
use serde_json::Value;

use crate::{
    both_backends,
    helpers::*,
    two_factor::{challenge, enable, second_factor, send},
};

both_backends!(
    turning_the_app_off_and_replacing_codes,
    an_admin_turns_off_a_lost_app,
);

async fn turning_the_app_off_and_replacing_codes(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("undo").await;
    let (_, codes) = enable(&app, &session).await;
    let response = send(
        &app,
        Method::POST,
        "/api/me/recovery-codes",
        &session.access_token,
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let fresh: Value = response.json().await.unwrap();
    assert_ne!(fresh["codes"][0], codes[0].as_str());
    // The old codes no longer work.
    let pending = challenge(&app, &session.email).await;
    assert_problem(
        second_factor(&app, &pending, "recovery_code", &codes[0]).await,
        422,
        "validation_failed",
    )
    .await;

    let response = send(
        &app,
        Method::DELETE,
        "/api/me/totp",
        &session.access_token,
        None,
    )
    .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.login(&session.email, STRONG_PASSWORD).await.status(),
        200
    );
    let response = send(
        &app,
        Method::DELETE,
        "/api/me/totp",
        &session.access_token,
        None,
    )
    .await;
    assert_problem(response, 409, "second_factor_not_enabled").await;
    let response = send(
        &app,
        Method::POST,
        "/api/me/recovery-codes",
        &session.access_token,
        None,
    )
    .await;
    assert_problem(response, 409, "second_factor_not_enabled").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM recovery_codes").await, 0);
}

async fn an_admin_turns_off_a_lost_app(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("helpdesk").await;
    let user = app.signed_in("forgetful").await;
    enable(&app, &user).await;
    let path = format!("/api/users/{}/totp", user.user_id);
    // Not for anyone but an admin.
    let response = send(&app, Method::DELETE, &path, &user.access_token, None).await;
    assert_problem(response, 403, "forbidden").await;
    let response = send(&app, Method::DELETE, &path, &admin.access_token, None).await;
    assert_eq!(response.status(), 204);
    // The owner's sessions ended; the password alone signs in again.
    assert_eq!(app.refresh(&user.refresh_token).await.status(), 401);
    assert_eq!(app.login(&user.email, STRONG_PASSWORD).await.status(), 200);
    let response = send(&app, Method::DELETE, &path, &admin.access_token, None).await;
    assert_problem(response, 409, "second_factor_not_enabled").await;
    let unknown = format!("/api/users/{}/totp", uuid::Uuid::new_v4());
    let response = send(&app, Method::DELETE, &unknown, &admin.access_token, None).await;
    assert_problem(response, 404, "not_found").await;
}
