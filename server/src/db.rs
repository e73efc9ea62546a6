//! The database: one pool for SQLite or PostgreSQL, chosen by the scheme of
//! `DATABASE_URL`, with the same portable migrations for both.
//!
//! A few things only one backend has: the substring search indexes are
//! PostgreSQL's `pg_trgm` GIN indexes and SQLite's FTS5 tables with their
//! triggers. They live in migrations of their own, `migrations/postgres`
//! and `migrations/sqlite`, which run after the shared ones. Migrations
//! rather than a schema step at every start: each runs once, in a
//! transaction, recorded in the same `_sqlx_migrations` table, and an
//! existing database is upgraded (and its rows indexed) exactly once. A
//! backend's migration numbers are taken from the shared sequence, never
//! reused by a shared migration, and may be the same in both folders (a
//! database is only ever one backend). Each migrator is told to ignore the
//! versions it does not know (the other set's), so [`Database::migrate`]
//! checks what that gives up itself: a database that has a migration
//! neither set knows was upgraded by a newer build, and is refused.

mod fold;

use std::{path::Path, time::Duration};

use anyhow::Context as _;
use sqlx::{
    any::{install_default_drivers, AnyPoolOptions},
    migrate::Migrator,
    AnyPool, Executor as _,
};

/// The migrations both backends run, then those of one backend only.
fn migrators(backend: Backend) -> [Migrator; 2] {
    let mut shared = sqlx::migrate!("./migrations");
    let mut own = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    shared.set_ignore_missing(true);
    own.set_ignore_missing(true);
    [shared, own]
}

/// How long a request waits for a pooled connection before giving up with a
/// 503 instead of queueing forever.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long SQLite waits on a lock held by another connection.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Each SQLite connection's page cache, in KiB (SQLite's own default is
/// 2 MiB). A search that tests a few hundred rows spread over a large table
/// reads a page for each; with 2 MiB those pages did not stay, and every
/// such search read them again from the file (at a million rows, a search
/// answered through the index took 2.0 ms instead of 0.4). The cache fills
/// only as pages are read: a small database uses no more than before.
const SQLITE_CACHE_KIB: u32 = 32 * 1024;

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

/// What a page read out of order costs PostgreSQL's planner, against 1 for
/// a page read in order, on this application's connections. The default,
/// 4, is made for spinning disks; with the rows cached (or on an SSD) it
/// made the planner read a list in order, testing tens of thousands of
/// rows (25-60 ms at a million), rather than fetch the few hundred a
/// trigram index found for a rare search term (2-4 ms), whenever its
/// statistics rated the term at 0.1% (see `store/listing`). 1.1 is the
/// usual value for such storage, and every other query here reads rows by
/// key, in either case through an index.
const POSTGRES_RANDOM_PAGE_COST: &str = "1.1";

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
            fold::register()?;
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
                                     PRAGMA synchronous = NORMAL; \
                                     PRAGMA cache_size = -{SQLITE_CACHE_KIB};"
                                )
                                .as_str(),
                            )
                            .await?;
                    } else {
                        connection
                            .execute(
                                format!("SET random_page_cost = {POSTGRES_RANDOM_PAGE_COST}")
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
        let migrators = migrators(self.backend);
        let applied = self.applied_migrations().await?;
        if let Some(unknown) = applied.iter().find(|version| {
            !migrators
                .iter()
                .any(|migrator| migrator.iter().any(|known| known.version == **version))
        }) {
            anyhow::bail!(
                "the database has migration {unknown}, which this build does not know: \
                 it was upgraded by a newer version"
            );
        }
        for migrator in &migrators {
            migrator
                .run(&self.pool)
                .await
                .context("could not apply the database migrations")?;
        }
        Ok(())
    }

    /// The versions recorded as applied; none on a new database.
    async fn applied_migrations(&self) -> anyhow::Result<Vec<i64>> {
        let exists = match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master \
                 WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM pg_tables \
                 WHERE schemaname = current_schema() AND tablename = '_sqlx_migrations'"
            }
        };
        let count: i64 = sqlx::query_scalar(exists)
            .fetch_one(&self.pool)
            .await
            .context("could not read the applied migrations")?;
        if count == 0 {
            return Ok(Vec::new());
        }
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
            .fetch_all(&self.pool)
            .await
            .context("could not read the applied migrations")
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

    #[tokio::test]
    async fn an_existing_sqlite_database_is_indexed_when_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
        let db = Database::connect(&url).await.unwrap();
        // A database from before the search index, with a person in it.
        let [shared, _] = migrators(Backend::Sqlite);
        shared.run(db.pool()).await.unwrap();
        sqlx::query(
            "INSERT INTO people (id, name, version, created_at, updated_at) \
             VALUES ('p1', 'Annabelle Kowalczyk', 1, 1, 1)",
        )
        .execute(db.pool())
        .await
        .unwrap();

        db.migrate().await.unwrap();
        let found: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM people WHERE created_at IN \
             (SELECT rowid >> 20 FROM people_search WHERE people_search MATCH '\"walczy\"')",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        assert_eq!(found, ["Annabelle Kowalczyk"]);
        // Starting again applies nothing twice.
        db.migrate().await.unwrap();

        // A migration this build does not know: a newer build's database.
        sqlx::query(
            "INSERT INTO _sqlx_migrations \
             (version, description, success, checksum, execution_time) \
             VALUES (99991231000001, 'from the future', 1, x'00', 0)",
        )
        .execute(db.pool())
        .await
        .unwrap();
        let refused = db.migrate().await.unwrap_err().to_string();
        assert!(refused.contains("99991231000001"), "{refused}");
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
