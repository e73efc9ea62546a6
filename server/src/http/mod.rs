//! The JSON API: one module per resource, each with its own `router()`,
//! mounted from the shared endpoint descriptions (`app::api::endpoints`)
//! through [`route::ApiRouter`], which also feeds the OpenAPI document.

mod account;
mod activity;
mod auth;
mod client_ip;
mod cookies;
mod dev;
mod docs;
mod extract;
mod factors;
mod health;
mod listing;
pub mod openapi;
mod passkeys;
mod passwords;
mod people;
pub mod route;
mod second_step;
mod sessions;
mod sign_in;
mod signup;
mod users;

use std::sync::Arc;

use app::api::endpoints::API_PREFIX;
use axum::{
    http::{header, HeaderValue},
    routing::any,
    Router,
};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{
    account_lifecycle::AccountLifecycle,
    accounts::Accounts,
    auth::factors::Factors,
    auth::{
        jwt::AccessTokens, password::Passwords, revocation::RevokedSessions, sessions::Sessions,
    },
    config::Settings,
    db::Database,
    error::ApiError,
    limits::RateLimits,
    lockout::Lockout,
    mail::Mailer,
    me_cache::MeCache,
    metrics::Metrics,
    password_resets::PasswordResets,
    security_log::SecurityLog,
};

pub use extract::{Admin, ApiJson, AuthUser, ClientIp};
use route::ApiRouter;

/// What every API handler may reach.
#[derive(Clone)]
pub struct ApiContext {
    pub settings: Arc<Settings>,
    pub db: Database,
    pub passwords: Passwords,
    pub access_tokens: AccessTokens,
    /// Read by the bearer extractor; changed only by `sessions`.
    pub revoked: RevokedSessions,
    pub sessions: Sessions,
    pub accounts: Accounts,
    /// Changing the account's address, and deleting it.
    pub lifecycle: AccountLifecycle,
    /// What GET /api/me answered, per session; see the module.
    pub me_cache: MeCache,
    pub mailer: Mailer,
    pub limits: RateLimits,
    pub lockout: Lockout,
    pub security_log: SecurityLog,
    pub password_resets: PasswordResets,
    /// Second factors: the authenticator app, recovery codes and passkeys.
    pub factors: Factors,
    /// Counters of what handlers decide (sign-in outcomes); services keep
    /// a clone of their own.
    pub metrics: Metrics,
}

/// Every endpoint this configuration mounts, with the OpenAPI document of
/// exactly those.
pub fn endpoints(development: bool) -> ApiRouter {
    let mut api = ApiRouter::new()
        .merge(health::router())
        .merge(signup::router())
        .merge(auth::router())
        .merge(passwords::router())
        .merge(users::router())
        .merge(account::router())
        .merge(sessions::router())
        .merge(factors::router())
        .merge(passkeys::router())
        .merge(second_step::router())
        .merge(activity::router())
        .merge(people::router());
    if development {
        api = api.merge(dev::router());
    }
    docs::mount(api)
}

/// The whole API. Anything under `/api` that no route matches is a
/// problem+json 404, never the HTML app.
pub fn router(context: ApiContext) -> Router {
    let prefix = API_PREFIX;
    endpoints(context.settings.environment.is_development())
        .into_router()
        .route(prefix, any(not_found))
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
    ApiError::not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

#[cfg(test)]
mod tests {
    use app::api::endpoints::{all, EndpointInfo};

    use super::*;

    fn key(info: &EndpointInfo) -> (&'static str, &'static str) {
        (info.method.as_str(), info.path)
    }

    /// A route cannot be mounted without a description (the router only
    /// takes described endpoints); this checks the other way round: every
    /// description has its route, in development and in production.
    #[test]
    fn every_described_endpoint_is_mounted_once() {
        for development in [true, false] {
            let api = endpoints(development);
            let mut mounted: Vec<_> = api.mounted().iter().map(|m| key(&m.info)).collect();
            mounted.sort();
            let mut described: Vec<_> = all()
                .filter(|info| development || !info.development_only)
                .map(key)
                .collect();
            described.sort();
            assert_eq!(mounted, described, "development: {development}");
        }
    }

    #[test]
    fn the_document_lists_every_mounted_operation() {
        let api = endpoints(true);
        let document = serde_json::to_value(openapi::document(
            api.mounted().iter().map(|endpoint| endpoint.document),
        ))
        .unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        let mut documented = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
        documented.sort();
        let mut described: Vec<_> = all()
            .map(|info| (info.method.as_str().to_owned(), info.path.to_owned()))
            .collect();
        described.sort();
        assert_eq!(documented, described);
    }
}
