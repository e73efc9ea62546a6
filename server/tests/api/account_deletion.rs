//! Deleting an account, by its owner and by an admin. The central check
//! reads the database's own catalogue (sqlite_master, information_schema)
//! for every table and column, so that a table added later is covered
//! without touching this test: no row may still carry the account's id or
//! its address, but the goodbye message. Attacks tried: a session of the
//! deleted account used on this instance, on another one and on one that
//! starts afterwards. The attacks where an id is named (by an admin, or by
//! someone who is not one) are in `account_deletion_admins.rs`.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{both_backends, email_change, helpers::*};

both_backends!(
    deleting_my_account_leaves_no_row_that_names_it,
    the_address_can_sign_up_again,
    deleting_needs_a_recent_proof,
);

pub async fn delete_me(app: &TestApp, token: &str) -> reqwest::Response {
    app.send_with_token(Method::DELETE, "/api/me", token, None)
        .await
}

pub async fn delete_user(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.send_with_token(Method::DELETE, &format!("/api/users/{id}"), token, None)
        .await
}

/// Every table of the database, from its own catalogue.
async fn tables(app: &TestApp, backend: Backend) -> Vec<String> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
    };
    sqlx::query_scalar(sql)
        .fetch_all(app.database.pool())
        .await
        .unwrap()
}

/// Every column of `table`, from the catalogue.
async fn columns(app: &TestApp, backend: Backend, table: &str) -> Vec<String> {
    let sql = match backend {
        Backend::Sqlite => format!("SELECT name FROM pragma_table_info('{table}')"),
        Backend::Postgres => format!(
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}'"
        ),
    };
    sqlx::query_scalar(&sql)
        .fetch_all(app.database.pool())
        .await
        .unwrap()
}

/// Every `table.column` some row of which holds one of `needles` (as the
/// whole value or inside it), but the goodbye message.
async fn rows_naming(app: &TestApp, backend: Backend, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let tables = tables(app, backend).await;
    assert!(tables.len() >= 15, "{tables:?}");
    for table in tables {
        let goodbye = if table == "mail_outbox" {
            " AND kind <> 'account_deleted'"
        } else {
            ""
        };
        for column in columns(app, backend, &table).await {
            for needle in needles {
                let count = app
                    .count(&format!(
                        "SELECT COUNT(*) FROM \"{table}\" \
                         WHERE CAST(\"{column}\" AS TEXT) LIKE '%{needle}%'{goodbye}"
                    ))
                    .await;
                if count > 0 {
                    found.push(format!("{table}.{column} ({needle}): {count}"));
                }
            }
        }
    }
    found
}

async fn create_person(app: &TestApp, token: &str, name: &str) -> Value {
    let response = app
        .send_with_token(
            Method::POST,
            "/api/people",
            token,
            Some(&json!({"name": name})),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// An account with something in every table that can hold it, deleted by
/// its owner: afterwards no row names it, its sessions are refused here,
/// on another instance and on one started later, and the people it wrote
/// stay without its id.
async fn deleting_my_account_leaves_no_row_that_names_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("keeper").await;
    let other = app.signed_in("neighbour").await;
    let session = app.signed_in("leaver").await;
    let user_id = session.user_id.clone();
    let old_address = session.email.clone();

    // A change of address (its undo stays for a week), then another one
    // waiting, so that both addresses and both tables are involved.
    let address = unique_email("moved");
    assert_eq!(
        email_change::ask(&app, &session.access_token, &address)
            .await
            .status(),
        202
    );
    let token = app.confirm_email_token(&address, 1).await;
    assert_eq!(email_change::confirm(&app, &token).await.status(), 200);
    let next = unique_email("next");
    assert_eq!(
        email_change::ask(&app, &session.access_token, &next)
            .await
            .status(),
        202
    );
    // Someone else asks to move to this address (and its owner is told).
    assert_eq!(
        email_change::ask(&app, &other.access_token, &address)
            .await
            .status(),
        202
    );
    let second_device = app.sign_in(&address).await;
    // A person it added, and another user's person it edited.
    let own = create_person(&app, &session.access_token, "Own Record").await;
    let theirs = create_person(&app, &other.access_token, "Shared Record").await;
    let edited = app
        .client
        .put(app.url(&format!("/api/people/{}", theirs["id"].as_str().unwrap())))
        .bearer_auth(&session.access_token)
        .header("if-match", "\"v1\"")
        .json(&json!({"name": "Shared Record, edited"}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200, "{}", edited.text().await.unwrap());
    // A failed sign-in and a failed re-authentication, and a reset link
    // (after the confirmation link and the "taken" notice).
    assert_eq!(
        app.login(&address, "Wrong-Password-123").await.status(),
        401
    );
    let reauth = app
        .send_with_token(
            Method::POST,
            "/api/auth/reauthenticate",
            &second_device.access_token,
            Some(&json!({"password": "Wrong-Password-123"})),
        )
        .await;
    assert_eq!(reauth.status(), 422);
    app.post_json("/api/auth/forgot-password", &json!({"email": address}))
        .await;
    app.reset_token(&address, 3).await;
    // A sign-up of the address waiting, a second factor with recovery
    // codes, a second-factor challenge, and an admin's activity that names
    // the address.
    for statement in [
        format!(
            "INSERT INTO pending_signups (id, email, name, password_hash, token_hash, \
             created_at, expires_at) VALUES ('p1', '{address}', 'Squatter', 'x', 't1', 1, \
             99999999999)"
        ),
        format!(
            "INSERT INTO totp_factors (user_id, secret, created_at, confirmed_at) \
             VALUES ('{user_id}', 'sealed', 1, 1)"
        ),
        format!(
            "INSERT INTO recovery_codes (code_hash, user_id, created_at) \
             VALUES ('r1', '{user_id}', 1)"
        ),
        format!(
            "INSERT INTO login_challenges (token_hash, user_id, credential_epoch, remember, \
             created_at, expires_at) VALUES ('c1', '{user_id}', 0, 1, 1, 99999999999)"
        ),
        format!(
            "INSERT INTO security_events (id, user_id, kind, occurred_at, detail) \
             VALUES ('e1', '{}', 'totp_disabled', 1, \
             'turned off the authenticator app of {address}')",
            admin.user_id
        ),
    ] {
        app.execute(&statement).await;
    }
    // The address only asked for: its confirmation link goes too.
    let needles = [
        user_id.as_str(),
        address.as_str(),
        old_address.as_str(),
        next.as_str(),
    ];
    let before = rows_naming(&app, backend, &needles).await;
    for expected in [
        "sessions.user_id",
        "mail_outbox.recipient",
        "security_events.detail",
    ] {
        assert!(
            before.iter().any(|found| found.starts_with(expected)),
            "{expected}: {before:?}"
        );
    }
    // Another instance, running before the deletion.
    let running = app.another_instance().await;
    assert_eq!(
        running
            .get_with_token("/api/me", &second_device.access_token)
            .await
            .status(),
        200
    );

    assert_eq!(delete_me(&app, &session.access_token).await.status(), 204);

    let left = rows_naming(&app, backend, &needles).await;
    assert!(left.is_empty(), "rows still name the account: {left:?}");
    // The goodbye, and nothing else, is on its way to the address.
    let mail = app.wait_for_mail(&address, 4).await;
    assert_eq!(mail[3].subject, "Your account was deleted");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM mail_outbox WHERE recipient = '{address}'"
        ))
        .await,
        1
    );
    // The people stay, without the account's id.
    for person in [&own, &theirs] {
        let response = app
            .get_with_token(
                &format!("/api/people/{}", person["id"].as_str().unwrap()),
                &other.access_token,
            )
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert!(body["updated_by"].is_null(), "{body}");
    }
    let own: Value = app
        .get_with_token(
            &format!("/api/people/{}", own["id"].as_str().unwrap()),
            &other.access_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(own["created_by"].is_null(), "{own}");
    // Every session is over here, and on an instance started now (the
    // revocations outlive the sessions' rows)…
    let started_after = app.another_instance().await;
    for ended in [&session, &second_device] {
        for instance in [&app, &started_after] {
            assert_problem(
                instance
                    .get_with_token("/api/me", &ended.access_token)
                    .await,
                401,
                "invalid_token",
            )
            .await;
        }
        assert_eq!(app.refresh(&ended.refresh_token).await.status(), 401);
    }
    // …and on PostgreSQL at once on the one already running (SQLite has
    // one instance; another learns it at its next reconciliation).
    if backend == Backend::Postgres {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while running
            .get_with_token("/api/me", &second_device.access_token)
            .await
            .status()
            != 401
        {
            assert!(
                std::time::Instant::now() < deadline,
                "still signed in there"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    assert_problem(
        app.login(&address, STRONG_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn the_address_can_sign_up_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("returner").await;
    assert_eq!(delete_me(&app, &session.access_token).await.status(), 204);
    // Its sign-up link, then the goodbye.
    app.wait_for_mail(&session.email, 2).await;

    assert_eq!(
        app.register(&session.email, STRONG_PASSWORD, "Returner")
            .await
            .status(),
        202
    );
    let token = app.verification_token(&session.email, 3).await;
    let response = app.verify_email(&token, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_ne!(body["user"]["id"], json!(session.user_id));
    assert_eq!(body["user"]["role"], "user");
    assert_eq!(
        app.login(&session.email, STRONG_PASSWORD).await.status(),
        200
    );
}

async fn deleting_needs_a_recent_proof(backend: Backend) {
    let app = spawn_app_with(backend, &[("REAUTH_MAX_AGE_SECS", "60")]).await;
    let session = app.signed_in("hasty").await;
    let admin = app.signed_in_admin("hasty.admin").await;
    app.execute("UPDATE sessions SET auth_time = auth_time - 61")
        .await;
    let mut stale = Vec::new();
    for holder in [&session, &admin] {
        let body: Value = app
            .refresh(&holder.refresh_token)
            .await
            .json()
            .await
            .unwrap();
        stale.push(body["access_token"].as_str().unwrap().to_owned());
    }
    assert_problem(
        delete_me(&app, &stale[0]).await,
        401,
        "insufficient_user_authentication",
    )
    .await;
    assert_problem(
        delete_user(&app, &stale[1], &session.user_id).await,
        401,
        "insufficient_user_authentication",
    )
    .await;
    assert_problem(
        app.send_with_token(Method::DELETE, "/api/me", "", None)
            .await,
        401,
        "authentication_required",
    )
    .await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM users WHERE id = '{}'",
            session.user_id
        ))
        .await,
        1
    );
}
