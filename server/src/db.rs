//! The database: one pool for SQLite or PostgreSQL, chosen by the scheme of
//! `DATABASE_URL`, with the same portable migrations for both.

use std::{path::Path, time::Duration};

use anyhow::Context as _;
use sqlx::{
    any::{install_default_drivers, AnyPoolOptions},
    migrate::Migrator,
    AnyPool, Executor as _,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a request waits for a pooled connection before giving up with a
/// 503 instead of queueing forever.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long SQLite waits on a lock held by another connection.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
}

impl Database {
    /// Connects, creating the SQLite file (and its directory) on first run.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        install_default_drivers();
        let backend = Backend::of_url(url).context("unsupported DATABASE_URL scheme")?;

        if backend == Backend::Sqlite {
            if let Some(dir) = sqlite_file_path(url).and_then(|path| path.parent()) {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).with_context(|| {
                        format!("could not create the database directory {}", dir.display())
                    })?;
                }
            }
        }

        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => sqlite_connections(),
                Backend::Postgres => 16,
            })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // sqlx pings a connection before lending it, to find ones that
            // broke while idle. A SQLite connection is a file handle of this
            // process and cannot break that way; each ping was a trip to the
            // connection's thread and back, one per query. (sqlx still pings
            // when the connection is returned.) A PostgreSQL connection can
            // drop while idle, so it is still checked.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |connection, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        connection
                            .execute(
                                format!(
                                    "PRAGMA journal_mode = WAL; \
                                     PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                                     PRAGMA foreign_keys = ON; \
                                     PRAGMA synchronous = NORMAL;"
                                )
                                .as_str(),
                            )
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .context("could not connect to the database")?;

        Ok(Self { pool, backend })
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .context("could not apply the database migrations")
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers a trivial query right now.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// SQLite has one writer at a time, and every query is short: two
/// connections per core keep every core busy. More only cost CPU: the pool
/// lends its idle connections in turn, and in WAL mode a connection drops
/// its whole page cache whenever another has written since its last read,
/// so each query on a connection that sat idle reads its pages afresh.
/// With 8 connections instead of 2, a sign-in cost SQLite's thread about a
/// fifth more CPU.
fn sqlite_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    u32::try_from(cores * 2).unwrap_or(u32::MAX).clamp(2, 8)
}

/// The file behind a `sqlite://path?options` URL, if it names one.
fn sqlite_file_path(url: &str) -> Option<&Path> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_backends() {
        assert_eq!(Backend::of_url("sqlite://a.db"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("postgres://h/db"), Some(Backend::Postgres));
        assert_eq!(
            Backend::of_url("postgresql://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::of_url("mysql://h/db"), None);
    }

    #[test]
    fn finds_the_sqlite_file() {
        assert_eq!(
            sqlite_file_path("sqlite://data/app.db?mode=rwc"),
            Some(Path::new("data/app.db"))
        );
        assert_eq!(sqlite_file_path("sqlite::memory:"), None);
        assert_eq!(sqlite_file_path("postgres://h/db"), None);
    }
}
