//! Assembling the application: database, API, web app and middleware
//! (`middleware.rs`), bound to a listener, and the metrics page bound to a
//! listener of its own (`METRICS_ADDR`) so that the public port never
//! serves it. Tests build it the same way on port 0.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::Router;
use futures::FutureExt as _;
use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;

use crate::{
    account_lifecycle::AccountLifecycle,
    accounts::Accounts,
    auth::{
        device_cookie::DeviceCookies,
        factors::{self, Factors},
        jwt::AccessTokens,
        password::Passwords,
        revocation, secret,
        sessions::{Lifetimes, Sessions},
    },
    config::Settings,
    db::{Backend, Database},
    housekeeping,
    http::{self, ApiContext},
    limits::RateLimits,
    lockout::Lockout,
    mail::Mailer,
    me_cache::MeCache,
    metrics::{self, Metrics},
    middleware::{with_middleware, Protection},
    password_resets::PasswordResets,
    security_log::SecurityLog,
    serve, web,
};

pub struct Application {
    listener: TcpListener,
    router: Router,
    /// `GET /metrics` and its own listener, when `METRICS_ADDR` is set.
    metrics: Option<(TcpListener, Router)>,
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
        let (metrics, metrics_listener) = match settings.metrics_addr {
            Some(addr) => {
                let listener = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("could not listen on {addr} (METRICS_ADDR)"))?;
                (Metrics::enabled(), Some(listener))
            }
            None => (Metrics::disabled(), None),
        };
        metrics::spawn_upkeep(&metrics);

        let dev_tools = settings.environment.is_development();
        let header_read_timeout = settings.header_read_timeout;
        let protection = Protection {
            hsts: !settings.environment.is_development(),
            request_timeout: settings.request_timeout,
        };
        let context = api_context(settings, db.clone(), metrics.clone()).await?;
        let flags = app::site_flags::SiteFlags {
            dev_tools,
            passkeys: context.factors.passkeys_available(),
        };
        let router = http::router(context).merge(web::router(leptos_options, flags));

        Ok(Self {
            listener,
            router: with_middleware(router, protection, &metrics),
            metrics: metrics_listener
                .map(|listener| (listener, metrics::router(metrics, db.clone()))),
            db,
            header_read_timeout,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Where `GET /metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(listener, _)| {
            listener
                .local_addr()
                .expect("a bound listener has an address")
        })
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Serves until `shutdown` completes, then lets in-flight requests
    /// finish; the metrics listener stops with the same signal.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let shutdown = shutdown.shared();
        let metrics = self.metrics.map(|(listener, router)| {
            tokio::spawn(serve::serve(
                listener,
                router,
                self.header_read_timeout,
                shutdown.clone(),
            ))
        });
        let served = serve::serve(
            self.listener,
            self.router,
            self.header_read_timeout,
            shutdown,
        )
        .await;
        if let Some(metrics) = metrics {
            if let Ok(Err(error)) = metrics.await {
                tracing::warn!(%error, "the metrics listener failed");
            }
        }
        served?;
        self.db.close().await;
        Ok(())
    }
}

async fn api_context(
    settings: Settings,
    db: Database,
    metrics: Metrics,
) -> anyhow::Result<ApiContext> {
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
    let passwords = Passwords::new(
        cores,
        settings.hash_queue,
        settings.hash_cpu_share,
        metrics.clone(),
    )?;
    let limits = RateLimits::new(&settings.limits, metrics.clone()).shared_in(&db);
    limits.spawn_maintenance();
    if !settings.limits.enabled {
        tracing::warn!("RATE_LIMITS=off: no endpoint is rate limited");
    }
    let lockout = Lockout::new(
        db.clone(),
        settings.lockout,
        DeviceCookies::new(&signing_key),
    );
    let mailer = Mailer::start_in(
        settings.environment,
        &settings.mail,
        db.clone(),
        metrics.clone(),
    )?;
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
        metrics.clone(),
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
        factors::relying_party(&settings)?,
    );
    let lifecycle = AccountLifecycle::new(
        db.clone(),
        sessions.clone(),
        mailer.clone(),
        me_cache.clone(),
        passwords.clone(),
        factors.clone(),
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
        security_log: SecurityLog::new(db_for_log, metrics.clone()),
        password_resets,
        factors,
        metrics,
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
