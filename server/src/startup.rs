//! Assembling the application: database, API, web app and middleware, bound
//! to a listener. Tests build it the same way on port 0.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::{
    error_handling::HandleErrorLayer,
    extract::DefaultBodyLimit,
    http::{header, HeaderName, HeaderValue, Request},
    response::IntoResponse,
    Router,
};
use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    sensitive_headers::SetSensitiveRequestHeadersLayer,
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{
    account_lifecycle::AccountLifecycle,
    accounts::Accounts,
    auth::{
        device_cookie::DeviceCookies,
        factors::Factors,
        jwt::AccessTokens,
        password::Passwords,
        revocation, secret,
        sessions::{Lifetimes, Sessions},
    },
    config::Settings,
    db::{Backend, Database},
    error::ApiError,
    housekeeping,
    http::{self, ApiContext},
    limits::RateLimits,
    lockout::Lockout,
    mail::Mailer,
    me_cache::MeCache,
    password_resets::PasswordResets,
    security_log::SecurityLog,
    serve, web,
};

/// Larger request bodies are refused with 413 before they are read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub struct Application {
    listener: TcpListener,
    router: Router,
    db: Database,
    header_read_timeout: Duration,
}

impl Application {
    /// Connects to and migrates the database, then binds `settings.site_addr`.
    pub async fn build(settings: Settings, leptos_options: LeptosOptions) -> anyhow::Result<Self> {
        let db = Database::connect(&settings.database_url).await?;
        db.migrate().await?;

        let listener = TcpListener::bind(settings.site_addr)
            .await
            .with_context(|| format!("could not listen on {}", settings.site_addr))?;

        let dev_tools = settings.environment.is_development();
        let header_read_timeout = settings.header_read_timeout;
        let protection = Protection {
            hsts: !settings.environment.is_development(),
            request_timeout: settings.request_timeout,
        };
        let context = api_context(settings, db.clone()).await?;
        let router = http::router(context).merge(web::router(leptos_options, dev_tools));

        Ok(Self {
            listener,
            router: with_middleware(router, protection),
            db,
            header_read_timeout,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        serve::serve(
            self.listener,
            self.router,
            self.header_read_timeout,
            shutdown,
        )
        .await?;
        self.db.close().await;
        Ok(())
    }
}

async fn api_context(settings: Settings, db: Database) -> anyhow::Result<ApiContext> {
    let signing_key = secret::resolve(&settings.jwt_secret, &settings.data_dir)?;
    let origin = settings.app_origin();
    let access_tokens = AccessTokens::new(
        &signing_key,
        origin.clone(),
        format!("{origin}{}", app::api::endpoints::API_PREFIX),
        settings.access_token_ttl,
    );

    let revoked = revocation::RevokedSessions::new(settings.access_token_ttl);
    revoked
        .reload(&db)
        .await
        .context("could not load revoked sessions")?;
    revocation::spawn_maintenance(revoked.clone(), db.clone(), settings.database_url.clone());
    housekeeping::spawn(db.clone());

    // One hash per core at a time: more would only queue inside the CPU.
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let passwords = Passwords::new(cores, settings.hash_queue)?;
    let limits = RateLimits::new(&settings.limits);
    limits.spawn_maintenance();
    if !settings.limits.enabled {
        tracing::warn!("RATE_LIMITS=off: no endpoint is rate limited");
    }
    let lockout = Lockout::new(
        db.clone(),
        settings.lockout,
        DeviceCookies::new(&signing_key),
    );
    let mailer = Mailer::start_in(settings.environment, &settings.mail, db.clone())?;
    let seconds =
        |duration: std::time::Duration| i64::try_from(duration.as_secs()).unwrap_or(i64::MAX / 4);
    let sessions = Sessions::new(
        db.clone(),
        revoked.clone(),
        Lifetimes {
            remembered_secs: seconds(settings.refresh_token_ttl),
            browser_secs: seconds(settings.session_ttl),
            idle_secs: seconds(settings.session_idle_timeout),
            max_per_user: i64::from(settings.max_sessions_per_user),
            grace_secs: seconds(settings.refresh_reuse_grace),
        },
    );

    // SQLite cannot be shared: there, this is the only instance.
    let me_cache = MeCache::new(db.backend() == Backend::Sqlite);
    let db_for_accounts = db.clone();
    let db_for_log = db.clone();
    let settings = Arc::new(settings);
    let password_resets = PasswordResets::start(db.clone(), mailer.clone(), settings.clone());
    let factors = Factors::new(
        db.clone(),
        sessions.clone(),
        mailer.clone(),
        settings.clone(),
        totp_key(&settings, &signing_key, &db).await?,
    );
    let lifecycle = AccountLifecycle::new(
        db.clone(),
        sessions.clone(),
        mailer.clone(),
        me_cache.clone(),
        passwords.clone(),
        settings.clone(),
    );
    Ok(ApiContext {
        lifecycle,
        settings,
        db,
        passwords,
        access_tokens,
        revoked,
        accounts: Accounts::new(db_for_accounts, sessions.clone(), me_cache.clone()),
        me_cache,
        sessions,
        mailer,
        limits,
        lockout,
        security_log: SecurityLog::new(db_for_log),
        password_resets,
        factors,
    })
}

/// The key of the authenticator-app secrets: `TOTP_ENCRYPTION_KEY`; in
/// development without it, one derived from the signing secret. Production
/// without it offers no second factor, and does not start when an account
/// already has one (its codes could not be checked).
async fn totp_key(
    settings: &Settings,
    signing_key: &[u8],
    db: &Database,
) -> anyhow::Result<Option<[u8; 32]>> {
    use sha2::{Digest as _, Sha256};
    if let Some(key) = &settings.totp_key {
        return Ok(Some(key.0));
    }
    if settings.environment.is_development() {
        let mut hasher = Sha256::new();
        hasher.update(b"totp-encryption-key v1:");
        hasher.update(signing_key);
        return Ok(Some(hasher.finalize().into()));
    }
    if crate::store::totp_factors::any_confirmed(db.pool()).await? {
        anyhow::bail!(
            "TOTP_ENCRYPTION_KEY is not set, but accounts have an authenticator app on: \
             set the key they were made with"
        );
    }
    tracing::warn!("TOTP_ENCRYPTION_KEY is not set: authenticator apps cannot be turned on");
    Ok(None)
}

/// Settings of the outermost layers.
struct Protection {
    /// Browsers are told to use HTTPS only (production).
    hsts: bool,
    request_timeout: Duration,
}

/// One year, subdomains included: what HSTS preload lists ask for.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Request ids longer or fancier than this are replaced: they end up in
/// every log line of the request.
const MAX_REQUEST_ID_CHARS: usize = 64;

fn is_plain_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_CHARS
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

/// Drops an incoming `x-request-id` that is not short and plain, so that
/// the next layer gives the request a fresh one.
async fn plain_request_id(mut request: Request<axum::body::Body>) -> Request<axum::body::Body> {
    if let Some(value) = request.headers().get(&REQUEST_ID) {
        if !is_plain_request_id(value) {
            request.headers_mut().remove(&REQUEST_ID);
        }
    }
    request
}

fn with_middleware(router: Router, protection: Protection) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let request_id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
                request_id,
            )
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO))
        // The error type logs what went wrong itself, once, at the level it
        // deserves. At ERROR here, every 5xx was logged again: each login
        // shed with 503 under a flood wrote an error line, thousands a
        // second, which cost the CPU the flood was being shed to save.
        .on_failure(DefaultOnFailure::new().level(Level::DEBUG));

    router.layer(
        ServiceBuilder::new()
            .layer(SetSensitiveRequestHeadersLayer::new([
                header::AUTHORIZATION,
                header::COOKIE,
            ]))
            .layer(axum::middleware::map_request(plain_request_id))
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(trace)
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(CatchPanicLayer::custom(|_panic| {
                ApiError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
            }))
            .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
            .layer(security_header(
                header::REFERRER_POLICY,
                "strict-origin-when-cross-origin",
            ))
            .option_layer(
                protection
                    .hsts
                    .then(|| security_header(header::STRICT_TRANSPORT_SECURITY, HSTS)),
            )
            .layer(CompressionLayer::new())
            // A request still unanswered after this is dropped (its
            // transaction rolls back) and answered 503.
            .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                ApiError::unavailable("The request took too long and was stopped; try again.")
            }))
            .timeout(protection.request_timeout)
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
    )
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Completes on Ctrl-C or SIGTERM, whichever comes first.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// How long graceful shutdown may take before the process exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_request_ids_are_kept() {
        for kept in ["abc-123", "0f8e2a6c-1c1f-4e0b-9d55-3b7b6a7d1e20", "req_1.2"] {
            assert!(
                is_plain_request_id(&HeaderValue::from_static(kept)),
                "{kept}"
            );
        }
        let long = "a".repeat(65);
        for replaced in ["", "has space", "semi;colon", "a<b>", long.as_str()] {
            let value = HeaderValue::from_str(replaced).unwrap();
            assert!(!is_plain_request_id(&value), "{replaced}");
        }
    }
}
