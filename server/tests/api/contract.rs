//! The published contract: the OpenAPI document at `/api/openapi.json`
//! describes exactly the routes the server answers.

use app::api::endpoints::{all, Credentials};
use serde_json::Value;

use crate::{both_backends, helpers::*};

both_backends!(
    the_document_is_openapi_3_1_and_lists_every_endpoint,
    every_documented_operation_is_routed,
    production_documents_no_development_endpoint,
);

async fn the_document_is_openapi_3_1_and_lists_every_endpoint(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    for endpoint in all() {
        let operation = &document["paths"][endpoint.path][endpoint.method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{} {} is missing",
            endpoint.method.as_str(),
            endpoint.path
        );
        let responses = &operation["responses"];
        assert!(responses[endpoint.success.to_string()].is_object());
        for problem in endpoint.problems() {
            let listed = responses[problem.status().to_string()]["description"]
                .as_str()
                .unwrap_or_default();
            assert!(
                listed.contains(problem.as_str()),
                "{}: {problem} not listed",
                endpoint.path
            );
        }
        match endpoint.credentials {
            Credentials::Bearer
            | Credentials::Admin
            | Credentials::RecentBearer
            | Credentials::RecentAdmin => {
                assert_eq!(operation["security"][0]["bearer"], Value::Array(vec![]))
            }
            Credentials::RefreshCookie => {
                assert_eq!(
                    operation["security"][0]["refreshCookie"],
                    Value::Array(vec![])
                );
                assert_eq!(operation["parameters"][0]["name"], "Origin");
            }
            Credentials::None => assert!(operation["security"].is_null()),
        }
    }
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["refreshCookie"]["in"], "cookie");
}

/// Every documented operation reaches a handler: not the `/api` fallback's
/// 404 and not a 405.
async fn every_documented_operation_is_routed(backend: Backend) {
    let app = spawn_app(backend).await;
    let document: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let path = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
            let response = app
                .client
                .request(method.clone(), app.url(&path))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert!(status != 404 && status != 405, "{method} {path}: {status}");
        }
    }
}

async fn production_documents_no_development_endpoint(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[("APP_ENV", "production"), ("JWT_SECRET", TEST_JWT_SECRET)],
    )
    .await;
    let document: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    for endpoint in all() {
        let present = document["paths"][endpoint.path].is_object();
        assert_eq!(present, !endpoint.development_only, "{}", endpoint.path);
    }
}
