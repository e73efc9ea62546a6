//! Structured logs: readable lines in development, JSON in production.
//! `RUST_LOG` overrides the default filter.

use tracing_subscriber::{fmt, layer::SubscriberExt as _, util::SubscriberInitExt as _, EnvFilter};

use crate::config::Environment;

const DEFAULT_FILTER: &str = "info,server=debug,sqlx=warn";

/// Installs the global subscriber; a second call (as in tests) is a no-op.
pub fn init(environment: Environment) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match environment {
        Environment::Production => registry.with(fmt::layer().json()).try_init(),
        Environment::Development => registry.with(fmt::layer().compact()).try_init(),
    };
}
