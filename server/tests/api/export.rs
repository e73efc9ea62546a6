//! The export of the signed-in user's data: a JSON download of the profile,
//! sessions, second factors, activity and the people they added, with no
//! secret, token or hash of one in it (every secret the database holds for
//! the account is looked for in the download), and nothing of anyone else.

use reqwest::Method;
use serde_json::{json, Value};
use totp_rs::{Builder, Secret};

use crate::{both_backends, email_change, helpers::*};

both_backends!(
    the_export_holds_the_users_data_and_no_secret,
    the_export_needs_a_token_but_no_recent_proof,
);

async fn export(app: &TestApp, token: &str) -> reqwest::Response {
    app.get_with_token("/api/me/export", token).await
}

/// Turns the authenticator app on; returns its secret and the recovery codes.
async fn enable_totp(app: &TestApp, session: &Session) -> (String, Vec<String>) {
    let enrollment: Value = app
        .send_with_token(Method::POST, "/api/me/totp", &session.access_token, None)
        .await
        .json()
        .await
        .unwrap();
    let secret = enrollment["secret"].as_str().unwrap().to_owned();
    let totp = Builder::new()
        .with_secret(Secret::try_from_base32(&secret).unwrap())
        .build()
        .unwrap();
    let code = totp.generate(server::clock::unix_now() as u64).to_string();
    let response = app
        .send_with_token(
            Method::POST,
            "/api/me/totp/confirm",
            &session.access_token,
            Some(&json!({"code": code})),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let codes = body["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

/// Every string anywhere in a JSON value.
fn strings(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(text) => found.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| strings(item, found)),
        Value::Object(fields) => fields.iter().for_each(|(key, item)| {
            found.push(key.clone());
            strings(item, found);
        }),
        _ => {}
    }
}

async fn column(app: &TestApp, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sql)
        .fetch_all(app.database.pool())
        .await
        .unwrap()
}

async fn the_export_holds_the_users_data_and_no_secret(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("exporter").await;
    let other = app.signed_in("stranger").await;
    let user_id = session.user_id.clone();
    let (secret, recovery_codes) = enable_totp(&app, &session).await;
    for (token, name) in [
        (&session.access_token, "Mine"),
        (&other.access_token, "Not Mine"),
    ] {
        let response = app
            .send_with_token(
                Method::POST,
                "/api/people",
                token,
                Some(&json!({"name": name})),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    let new_email = unique_email("exporter.next");
    assert_eq!(
        email_change::ask(&app, &session.access_token, &new_email)
            .await
            .status(),
        202
    );
    // A reset link waiting, so that its hash is in the database too.
    app.post_json(
        "/api/auth/forgot-password",
        &json!({"email": session.email}),
    )
    .await;
    // (After its sign-up's link and the notice of the app turned on.)
    app.reset_token(&session.email, 3).await;

    let response = export(&app, &session.access_token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"account-export.json\""
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();

    assert_eq!(body["profile"]["id"], user_id.as_str());
    assert_eq!(body["profile"]["email"], session.email.as_str());
    assert_eq!(
        body["pending_email_change"]["new_email"],
        new_email.as_str()
    );
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(
        body["second_factor"],
        json!({"totp": true, "recovery_codes_left": recovery_codes.len()})
    );
    let kinds: Vec<&str> = body["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].as_str().unwrap())
        .collect();
    for kind in ["signed_in", "totp_enabled", "email_change_requested"] {
        assert!(kinds.contains(&kind), "{kind}: {kinds:?}");
    }
    let people = body["people_created"].as_array().unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0]["name"], "Mine");
    assert!(!text.contains("Not Mine"));
    assert!(!text.contains(&other.email) && !text.contains(&other.user_id));

    // No secret, token or hash of one: every one the database holds for
    // the account, and the ones the client holds, are looked for.
    let mut secrets = vec![
        secret,
        session.access_token.clone(),
        session.refresh_token.clone(),
    ];
    secrets.extend(recovery_codes);
    for sql in [
        format!("SELECT password_hash FROM users WHERE id = '{user_id}'"),
        format!("SELECT secret FROM totp_factors WHERE user_id = '{user_id}'"),
        format!("SELECT code_hash FROM recovery_codes WHERE user_id = '{user_id}'"),
        format!("SELECT token_hash FROM email_tokens WHERE user_id = '{user_id}'"),
        format!("SELECT token_hash FROM email_changes WHERE user_id = '{user_id}'"),
        format!(
            "SELECT token_hash FROM refresh_tokens WHERE session_id IN \
             (SELECT id FROM sessions WHERE user_id = '{user_id}')"
        ),
    ] {
        let found = column(&app, &sql).await;
        assert!(!found.is_empty(), "{sql}");
        secrets.extend(found);
    }
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "the export holds {secret}");
    }
    let mut values = Vec::new();
    strings(&body, &mut values);
    for value in values {
        assert!(!value.starts_with("$argon2"), "{value}");
        let hex64 = value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit());
        assert!(!hex64, "looks like a SHA-256: {value}");
    }
}

async fn the_export_needs_a_token_but_no_recent_proof(backend: Backend) {
    let app = spawn_app_with(backend, &[("REAUTH_MAX_AGE_SECS", "60")]).await;
    let session = app.signed_in("old.proof").await;
    assert_problem(
        app.get("/api/me/export").await,
        401,
        "authentication_required",
    )
    .await;
    app.execute(&format!(
        "UPDATE sessions SET auth_time = auth_time - 3600 WHERE user_id = '{}'",
        session.user_id
    ))
    .await;
    let body: Value = app
        .refresh(&session.refresh_token)
        .await
        .json()
        .await
        .unwrap();
    let stale = body["access_token"].as_str().unwrap();
    let response = export(&app, stale).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["profile"]["email"], session.email.as_str());
}
