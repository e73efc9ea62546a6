//! The security event log: the account's owner reads their own activity,
//! admins anyone's.

use serde_json::{json, Value};

use crate::{
    both_backends,
    helpers::{assert_problem, spawn_app, Backend, STRONG_PASSWORD},
};

fn kinds(body: &Value) -> Vec<String> {
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn the_owner_sees_sign_ins_failures_and_password_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("Watcher").await;
    assert_eq!(app.login(&email, "Wrong-Guess-123456").await.status(), 401);
    let session = app.sign_in(&email).await;
    let response = app
        .send_with_token(
            reqwest::Method::POST,
            "/api/me/password",
            &session.access_token,
            Some(&json!({
                "current_password": STRONG_PASSWORD,
                "new_password": "Lantern-Basil-Comet-58",
            })),
        )
        .await;
    assert_eq!(response.status(), 204);

    let response = app
        .get_with_token("/api/me/activity", &session.access_token)
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    // Newest first.
    assert_eq!(
        kinds(&body),
        ["password_changed", "signed_in", "sign_in_failed"]
    );
    let signed_in = &body["events"][1];
    assert_eq!(signed_in["ip_address"], "127.0.0.1");
    assert!(signed_in["occurred_at"].as_str().unwrap().ends_with('Z'));

    // Signing out everywhere is recorded too.
    let response = app
        .send_with_token(
            reqwest::Method::POST,
            "/api/auth/logout-all",
            &session.access_token,
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    let user_id = session.user_id.clone();
    let admin = app.signed_in_admin("Auditor").await;
    let response = app
        .get_with_token(
            &format!("/api/users/{user_id}/activity"),
            &admin.access_token,
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(kinds(&body)[0], "session_ended");
    assert!(body["events"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("signed out everywhere"));
}

async fn only_admins_read_other_accounts_activity(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("Curious").await;
    let other = app.signed_in("Private").await;
    let response = app
        .get_with_token(
            &format!("/api/users/{}/activity", other.user_id),
            &user.access_token,
        )
        .await;
    assert_problem(response, 403, "forbidden").await;
    let admin = app.signed_in_admin("Admin").await;
    let response = app
        .get_with_token(
            &format!("/api/users/{}/activity", uuid::Uuid::new_v4()),
            &admin.access_token,
        )
        .await;
    assert_problem(response, 404, "not_found").await;
}

async fn role_changes_and_refresh_reuse_are_recorded(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("Promoted").await;
    let admin = app.signed_in_admin("Boss").await;
    let response = app
        .send_with_token(
            reqwest::Method::PATCH,
            &format!("/api/users/{}", user.user_id),
            &admin.access_token,
            Some(&json!({"role": "admin"})),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let again = app.sign_in(&user.email).await;
    // Rotate, then present the old cookie again after the grace window.
    let response = app.refresh(&again.refresh_token).await;
    assert_eq!(response.status(), 200);
    app.execute(
        "UPDATE refresh_tokens SET rotated_at = rotated_at - 3600 WHERE rotated_at IS NOT NULL",
    )
    .await;
    let response = app.refresh(&again.refresh_token).await;
    assert_problem(response, 401, "refresh_token_reused").await;

    let response = app
        .get_with_token(
            &format!("/api/users/{}/activity", user.user_id),
            &admin.access_token,
        )
        .await;
    let body: Value = response.json().await.unwrap();
    let kinds = kinds(&body);
    assert_eq!(kinds[0], "refresh_token_reused", "{kinds:?}");
    assert!(kinds.contains(&"role_changed".to_owned()), "{kinds:?}");
}

both_backends!(
    the_owner_sees_sign_ins_failures_and_password_changes,
    only_admins_read_other_accounts_activity,
    role_changes_and_refresh_reuse_are_recorded,
);
