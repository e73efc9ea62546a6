//! Health, readiness and the API's behaviour on paths and bodies it does not
//! know.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{both_backends, helpers::*};

both_backends!(
    health_answers_ok,
    ready_answers_while_the_database_does,
    ready_answers_503_when_the_database_is_gone,
    unknown_api_paths_are_problem_json_404s,
    wrong_methods_are_problem_json_405s,
    the_home_page_is_server_rendered,
    responses_carry_a_request_id_and_security_headers,
    pages_carry_a_fresh_nonce_content_security_policy,
    api_responses_are_never_cached_or_run_as_documents,
    not_found_pages_carry_a_content_security_policy,
    sqlite_runs_in_wal_mode_with_a_busy_timeout,
);

async fn health_answers_ok(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/api/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
}

async fn ready_answers_while_the_database_does(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/api/ready").await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn ready_answers_503_when_the_database_is_gone(backend: Backend) {
    let app = spawn_app(backend).await;
    app.database.close().await;
    let response = app.get("/api/ready").await;
    let body = assert_problem(response, 503, "service_unavailable").await;
    assert!(body["detail"].as_str().unwrap().contains("database"));
}

async fn unknown_api_paths_are_problem_json_404s(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/api",
        "/api/",
        "/api/nope",
        "/api/health/extra",
        "/api/a/b/c?x=1",
    ] {
        let response = app.get(path).await;
        assert_problem(response, 404, "not_found").await;
    }
    let response = app
        .client
        .post(app.url("/api/nope"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(response, 404, "not_found").await;
}

async fn wrong_methods_are_problem_json_405s(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .delete(app.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 405, "method_not_allowed").await;
}

async fn the_home_page_is_server_rendered(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("<nav"), "no navigation in {html}");
    assert!(
        html.contains("Your account, done right"),
        "no home page in {html}"
    );
    assert!(html.contains("/pkg/accounts"), "no hydration scripts");

    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

async fn responses_carry_a_request_id_and_security_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.get("/api/health").await;
    let second = app.get("/api/health").await;
    let id = |response: &reqwest::Response| {
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_ne!(id(&first), id(&second));
    assert_eq!(first.headers()["x-content-type-options"], "nosniff");

    let echoed = app
        .client
        .get(app.url("/api/health"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
}

async fn pages_carry_a_fresh_nonce_content_security_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    let page_nonce = |policy: &str| {
        let start = policy.find("'nonce-").expect("a nonce in the policy") + "'nonce-".len();
        policy[start..].split('\'').next().unwrap().to_owned()
    };

    let first = app.get("/").await;
    let policy = first.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let nonce = page_nonce(&policy);
    assert!(nonce.len() >= 22, "a 128-bit nonce, not {nonce:?}");
    let html = first.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the header's nonce"
    );
    // The theme script in <head> too: every script the page has may run.
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert!(scripts.len() >= 2, "the theme and hydration scripts");
    for script in scripts {
        let attributes = script.split('>').next().unwrap();
        assert!(
            attributes.contains(&format!(" nonce=\"{nonce}\"")),
            "a script without the nonce: <script{attributes}>"
        );
    }

    let second = app.get("/").await;
    let second_policy = second.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert_ne!(page_nonce(second_policy), nonce, "one nonce per response");
}

async fn api_responses_are_never_cached_or_run_as_documents(backend: Backend) {
    let app = spawn_app(backend).await;
    for response in [app.get("/api/health").await, app.get("/api/nope").await] {
        assert_eq!(
            response.headers()["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'"
        );
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
}

async fn not_found_pages_carry_a_content_security_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(policy.contains("'nonce-"), "{policy}");
}

async fn sqlite_runs_in_wal_mode_with_a_busy_timeout(backend: Backend) {
    if backend != Backend::Sqlite {
        return;
    }
    let app = spawn_app(backend).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(app.database.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(app.database.pool())
        .await
        .unwrap();
    assert!(timeout >= 1_000, "busy_timeout {timeout} ms");
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(app.database.pool())
        .await
        .unwrap();
    assert_eq!(foreign_keys, 1);
}
