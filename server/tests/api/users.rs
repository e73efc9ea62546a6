//! Roles that mean something: the admin CLI, the users API for admins, a
//! user's own account by id, and role or status changes that apply at once.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{both_backends, helpers::*};

both_backends!(
    the_admin_cli_grants_and_revokes_with_clear_errors,
    only_admins_list_users,
    paging_visits_every_user_once_while_users_are_added,
    search_matches_any_part_of_email_or_name,
    a_user_reads_only_their_own_account_by_id,
    a_demoted_admin_is_refused_at_once_everywhere,
    a_disabled_user_cannot_sign_in_or_reset,
    the_last_admin_cannot_be_demoted_or_disabled,
    bad_list_queries_are_4xx,
);

async fn patch_user(app: &TestApp, admin: &Session, id: &str, body: Value) -> reqwest::Response {
    app.send_with_token(
        Method::PATCH,
        &format!("/api/users/{id}"),
        &admin.access_token,
        Some(&body),
    )
    .await
}

async fn the_admin_cli_grants_and_revokes_with_clear_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.verified_user("first").await;
    let second = app.verified_user("second").await;

    let done = app.admin_cli("grant", &first).await.unwrap();
    assert!(done.contains("is now an admin"), "{done}");
    let error = app
        .admin_cli("grant", &first)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("already an admin"), "{error}");
    let error = app
        .admin_cli("grant", &unique_email("ghost"))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("no account"), "{error}");
    let error = app
        .admin_cli("grant", "not-an-address")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("not an email address"), "{error}");
    let error = app
        .admin_cli("revoke", &second)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("not an admin"), "{error}");
    let error = app
        .admin_cli("revoke", &first)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("last enabled admin"), "{error}");

    app.admin_cli("grant", &second).await.unwrap();
    app.admin_cli("revoke", &first).await.unwrap();
    let body: Value = app
        .login(&second, STRONG_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["user"]["role"], "admin");
    let body: Value = app
        .login(&first, STRONG_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["user"]["role"], "user");
}

async fn only_admins_list_users(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("plain").await;
    let admin = app.signed_in_admin("boss").await;

    // Registered in the same second; order them plainly.
    app.execute(&format!(
        "UPDATE users SET created_at = created_at - 10 WHERE email = '{}'",
        user.email
    ))
    .await;
    assert_problem(app.get("/api/users").await, 401, "authentication_required").await;
    assert_problem(
        app.get_with_token("/api/users", &user.access_token).await,
        403,
        "forbidden",
    )
    .await;
    let response = app.get_with_token("/api/users", &admin.access_token).await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["users"].as_array().unwrap().len(), 2);
    assert_eq!(page["next_cursor"], Value::Null);
    assert_eq!(
        page["users"][0]["email"],
        user.email.as_str(),
        "oldest first"
    );
    assert_eq!(page["users"][1]["role"], "admin");
    assert!(page["users"][0].get("password_hash").is_none());
}

async fn insert_user(app: &TestApp, email: &str, name: &str, created_at: i64) {
    app.execute(&format!(
        "INSERT INTO users (id, email, password_hash, name, role, email_verified_at, created_at, updated_at) \
         VALUES ('{}', '{email}', 'x', '{name}', 'user', {created_at}, {created_at}, {created_at})",
        uuid::Uuid::new_v4()
    ))
    .await;
}

async fn paging_visits_every_user_once_while_users_are_added(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("pager").await;
    // Many at the same second: ties are broken by id, never skipped.
    for n in 0..250 {
        insert_user(
            &app,
            &format!("bulk{n:03}@example.com"),
            &format!("Bulk {n}"),
            1_000 + n / 10,
        )
        .await;
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/users?limit=7&cursor={cursor}"),
            None => "/api/users?limit=7".to_owned(),
        };
        let page: Value = app
            .get_with_token(&path, &admin.access_token)
            .await
            .json()
            .await
            .unwrap();
        for user in page["users"].as_array().unwrap() {
            assert!(
                seen.insert(user["id"].as_str().unwrap().to_owned()),
                "seen twice: {user}"
            );
        }
        pages += 1;
        // Rows added while paging land after the cursor: seen once too.
        // (The last second of the year 9999: any later one is past what a
        // clock gives and the search index keys, 2^43 seconds.)
        if pages == 3 {
            insert_user(&app, "late@example.com", "Late", 253_402_300_799).await;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 252, "250 bulk, the admin and the late one");
}

async fn search_matches_any_part_of_email_or_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("searcher").await;
    insert_user(&app, "ada.lovelace@example.com", "Ada Lovelace", 10).await;
    insert_user(&app, "grace@example.com", "Grace Hopper", 11).await;
    insert_user(&app, "percent@example.com", "100% Sure", 12).await;
    let emails = |page: Value| -> Vec<String> {
        page["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect()
    };
    for (q, expected) in [
        ("ADA", vec!["ada.lovelace@example.com"]),
        ("grace h", vec!["grace@example.com"]),
        ("lovelace", vec!["ada.lovelace@example.com"]),
        ("100%", vec!["percent@example.com"]),
        ("_", vec![]),
    ] {
        let path = format!("/api/users?q={}", q.replace('%', "%25").replace(' ', "%20"));
        let page: Value = app
            .get_with_token(&path, &admin.access_token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(emails(page), expected, "{q}");
    }
}

async fn a_user_reads_only_their_own_account_by_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.signed_in("alice").await;
    let bob = app.signed_in("bob").await;
    let admin = app.signed_in_admin("reader").await;

    let own = app
        .get_with_token(
            &format!("/api/users/{}", alice.user_id),
            &alice.access_token,
        )
        .await;
    assert_eq!(own.status(), 200);
    let body: Value = own.json().await.unwrap();
    assert_eq!(body["email"], alice.email.as_str());
    for id in [
        bob.user_id.clone(),
        uuid::Uuid::new_v4().to_string(),
        "nope".into(),
    ] {
        assert_problem(
            app.get_with_token(&format!("/api/users/{id}"), &alice.access_token)
                .await,
            404,
            "not_found",
        )
        .await;
    }
    let read = app
        .get_with_token(&format!("/api/users/{}", bob.user_id), &admin.access_token)
        .await;
    assert_eq!(read.status(), 200);
}

async fn a_demoted_admin_is_refused_at_once_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = app.signed_in_admin("boss").await;
    let deputy = app.signed_in_admin("deputy").await;
    let elsewhere = app.another_instance().await;
    assert_eq!(
        elsewhere
            .get_with_token("/api/users", &deputy.access_token)
            .await
            .status(),
        200
    );
    let me: Value = app
        .get_with_token("/api/me", &deputy.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "admin");

    let response = patch_user(&app, &boss, &deputy.user_id, json!({"role": "user"})).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["role"], "user");

    assert_problem(
        app.get_with_token("/api/me", &deputy.access_token).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(
        app.refresh(&deputy.refresh_token).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    if backend == Backend::Postgres {
        crate::passwords::wait_until_refused(&elsewhere, &deputy.access_token).await;
    }
    // Signed in again, the new role is in the token and in the profile.
    let again = app.sign_in(&deputy.email).await;
    assert_problem(
        app.get_with_token("/api/users", &again.access_token).await,
        403,
        "forbidden",
    )
    .await;
    let me: Value = app
        .get_with_token("/api/me", &again.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "user");
}

async fn a_disabled_user_cannot_sign_in_or_reset(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("warden").await;
    let user = app.signed_in("troublemaker").await;

    let response = patch_user(&app, &admin, &user.user_id, json!({"disabled": true})).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["disabled"], true);
    assert_problem(
        app.get_with_token("/api/me", &user.access_token).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(
        app.login(&user.email, STRONG_PASSWORD).await,
        403,
        "account_disabled",
    )
    .await;
    assert_problem(
        app.login(&user.email, "Wrong-Password-99x").await,
        401,
        "invalid_credentials",
    )
    .await;
    let before = app.mail_to(&user.email).len();
    app.post_json("/api/auth/forgot-password", &json!({"email": user.email}))
        .await;
    // The forgot-password mail of another account proves the queue moved on.
    let other = app.verified_user("other").await;
    app.post_json("/api/auth/forgot-password", &json!({"email": other}))
        .await;
    app.wait_for_mail(&other, 2).await;
    assert_eq!(app.mail_to(&user.email).len(), before, "no reset link");

    let response = patch_user(&app, &admin, &user.user_id, json!({"disabled": false})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.login(&user.email, STRONG_PASSWORD).await.status(), 200);
}

async fn the_last_admin_cannot_be_demoted_or_disabled(backend: Backend) {
    let app = spawn_app(backend).await;
    let only = app.signed_in_admin("only").await;
    for body in [json!({"role": "user"}), json!({"disabled": true})] {
        assert_problem(
            patch_user(&app, &only, &only.user_id, body).await,
            409,
            "last_admin",
        )
        .await;
    }
    assert_eq!(
        app.get_with_token("/api/users", &only.access_token)
            .await
            .status(),
        200
    );
    assert_problem(
        patch_user(
            &app,
            &only,
            &uuid::Uuid::new_v4().to_string(),
            json!({"role": "admin"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // With a second admin, the first may step down.
    let second = app.verified_user("second").await;
    app.admin_cli("grant", &second).await.unwrap();
    let response = patch_user(&app, &only, &only.user_id, json!({"role": "user"})).await;
    assert_eq!(response.status(), 200);
}

async fn bad_list_queries_are_4xx(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_admin("strict").await;
    for (query, status, code) in [
        ("limit=0", 422, "validation_failed"),
        ("limit=101", 422, "validation_failed"),
        ("limit=abc", 400, "invalid_query"),
        ("cursor=forged", 422, "validation_failed"),
    ] {
        let response = app
            .get_with_token(&format!("/api/users?{query}"), &admin.access_token)
            .await;
        assert_problem(response, status, code).await;
    }
}
