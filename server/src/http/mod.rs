//! The JSON API: one module per resource, each with its own `router()`,
//! merged here under the paths from `app::api::paths`.

mod auth;
mod cookies;
mod dev;
mod extract;
mod health;
mod users;

use std::sync::Arc;

use app::api::paths;
use axum::{
    http::{header, HeaderValue},
    routing::any,
    Router,
};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{
    auth::{jwt::AccessTokens, password::Passwords, revocation::RevokedSessions},
    config::Settings,
    db::Database,
    error::ApiError,
    mail::Mailer,
};

pub use extract::{ApiJson, AuthUser};

/// What every API handler may reach.
#[derive(Clone)]
pub struct ApiContext {
    pub settings: Arc<Settings>,
    pub db: Database,
    pub passwords: Passwords,
    pub access_tokens: AccessTokens,
    pub revoked: RevokedSessions,
    pub mailer: Mailer,
}

/// The whole API. Anything under `/api` that no route matches is a
/// problem+json 404, never the HTML app.
pub fn router(context: ApiContext) -> Router {
    let prefix = paths::API_PREFIX;
    let mut api = Router::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(users::router());
    if context.settings.environment.is_development() {
        api = api.merge(dev::router());
    }
    api.route(prefix, any(not_found))
        .route(&format!("{prefix}/"), any(not_found))
        .route(&format!("{prefix}/{{*rest}}"), any(not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(context)
        // JSON is never a document: should a response be opened as one, it
        // may run and embed nothing. Answers carry account data, so no cache
        // (shared or private) keeps them.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
