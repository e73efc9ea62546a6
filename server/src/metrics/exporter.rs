//! The metrics listener's one page: `GET /metrics` in the Prometheus text
//! format, rendered from this application's recorder. It is mounted on its
//! own address (`METRICS_ADDR`, see `startup.rs`) and never on the public
//! router, so nobody outside the operator's network reads it.
//!
//! Gauges that are states rather than events (the pool's connections, the
//! outbox's depth) are read when scraped: between scrapes nobody looks.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::IntoResponse,
    routing::get,
    Router,
};

use super::Metrics;
use crate::{db::Database, store::mail_outbox};

/// The text format's media type, as Prometheus asks for it.
const TEXT_FORMAT: HeaderValue =
    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
/// A scrape does not wait longer than this for the outbox's count; the
/// gauge keeps its last value instead.
const COUNT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often histograms are folded in when nobody scrapes, so that their
/// samples do not pile up in memory.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Clone)]
struct Scrape {
    metrics: Metrics,
    db: Database,
}

/// The router of the metrics address.
pub fn router(metrics: Metrics, db: Database) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape { metrics, db })
}

async fn scrape(State(scrape): State<Scrape>) -> impl IntoResponse {
    scrape.metrics.sample(&scrape.db).await;
    (
        [(header::CONTENT_TYPE, TEXT_FORMAT)],
        scrape.metrics.render(),
    )
}

impl Metrics {
    /// The text format of every series, as a scrape gets it.
    pub fn render(&self) -> String {
        self.inner
            .as_ref()
            .map(|inner| inner.handle.render())
            .unwrap_or_default()
    }

    /// Reads the gauges that are states: the pool first (the count below
    /// takes a connection of its own), then the outbox.
    async fn sample(&self, db: &Database) {
        let Some(inner) = &self.inner else { return };
        let pool = db.pool();
        let size = pool.size();
        let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
        inner.db_in_use.set(size.saturating_sub(idle));
        inner.db_idle.set(idle);
        inner.db_max.set(pool.options().get_max_connections());
        match tokio::time::timeout(COUNT_TIMEOUT, mail_outbox::count_waiting(pool)).await {
            Ok(Ok(waiting)) => inner.mail_queue_depth.set(waiting as f64),
            Ok(Err(error)) => tracing::debug!(%error, "could not count the mail outbox"),
            Err(_) => tracing::debug!("counting the mail outbox took too long"),
        }
    }
}

/// Folds histogram samples in every few seconds, for as long as the
/// application lives.
pub fn spawn_upkeep(metrics: &Metrics) {
    let Some(inner) = &metrics.inner else { return };
    let inner = Arc::downgrade(inner);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(UPKEEP_INTERVAL);
        loop {
            interval.tick().await;
            let Some(inner) = inner.upgrade() else { return };
            inner.handle.run_upkeep();
        }
    });
}
