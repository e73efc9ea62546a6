//! Whatever a client sends, the answer is a 4xx problem, never a 500.

use serde_json::json;

use crate::{both_backends, helpers::*};

both_backends!(
    oversized_bodies_are_413,
    malformed_json_is_400,
    wrong_content_types_are_415,
    wrong_field_types_are_400,
    the_dev_mailbox_lists_outgoing_mail,
);

/// Every endpoint that reads a JSON body and needs no credentials.
fn json_endpoints() -> impl Iterator<Item = &'static str> {
    app::api::endpoints::all()
        .filter(|endpoint| {
            endpoint.has_request_body
                && endpoint.credentials == app::api::endpoints::Credentials::None
        })
        .map(|endpoint| endpoint.path)
}

async fn oversized_bodies_are_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let huge = json!({"email": "a@example.com", "password": "x", "name": "n".repeat(70 * 1024)});
    for path in json_endpoints() {
        let response = app.post_json(path, &huge).await;
        assert_problem(response, 413, "payload_too_large").await;
    }
}

async fn malformed_json_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    for body in ["{", "not json", "{\"email\": }", "\u{0}"] {
        for path in json_endpoints() {
            let response = app
                .client
                .post(app.url(path))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_problem(response, 400, "malformed_body").await;
        }
    }
}

async fn wrong_content_types_are_415(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in json_endpoints() {
        let form = app
            .client
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=a%40example.com")
            .send()
            .await
            .unwrap();
        assert_problem(form, 415, "unsupported_media_type").await;
        let none = app.client.post(app.url(path)).send().await.unwrap();
        assert_problem(none, 415, "unsupported_media_type").await;
    }
}

async fn wrong_field_types_are_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let wrong_types = [
        (
            "/api/auth/register",
            json!({"email": "a@example.com", "password": 12345678, "name": "A"}),
        ),
        (
            "/api/auth/login",
            json!({"email": ["a@example.com"], "password": "x"}),
        ),
        ("/api/auth/verify-email", json!({"token": 42})),
        ("/api/auth/resend-verification", json!({"email": null})),
    ];
    for (path, body) in wrong_types {
        let response = app.post_json(path, &body).await;
        assert_problem(response, 400, "invalid_body").await;
    }
    for path in json_endpoints() {
        for body in [
            json!("text"),
            json!(42),
            json!(true),
            json!([]),
            json!(["a@example.com"]),
        ] {
            let response = app.post_json(path, &body).await;
            assert_problem(response, 400, "invalid_body").await;
        }
    }
}

async fn the_dev_mailbox_lists_outgoing_mail(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("mailbox");
    app.register(&email, STRONG_PASSWORD, "Mailbox").await;
    app.wait_for_mail(&email, 1).await;
    let mailbox: app::api::types::Mailbox = app.get("/api/dev/mailbox").await.json().await.unwrap();
    let messages = mailbox.messages;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, email);
    assert!(messages[0].links[0].contains("/verify-email?token="));

    let production = spawn_app_with(
        backend,
        &[("APP_ENV", "production"), ("JWT_SECRET", TEST_JWT_SECRET)],
    )
    .await;
    assert_problem(production.get("/api/dev/mailbox").await, 404, "not_found").await;

    // The page too: it exists in development only.
    let page = app.get("/dev/mailbox").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(r#"content="on""#));
    let page = production.get("/dev/mailbox").await;
    assert_eq!(page.status(), 404);
    let html = page.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(html.contains(r#"content="off""#));
}
