//! The test databases: one of its own on the PostgreSQL server per test
//! (dropped with it), or a SQLite file in a temporary directory.

use server::db::Database;
use sqlx::{any::install_default_drivers, AnyConnection, Connection as _, Executor as _};
use tempfile::TempDir;

use super::{init_logging, postgres_admin_url, Backend};

/// A database of its own on the PostgreSQL server, dropped with the test.
pub struct PostgresDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PostgresDatabase {
    pub async fn create() -> Self {
        install_default_drivers();
        let admin_url = postgres_admin_url().expect("TEST_DATABASE_URL is set");
        let name = format!("accounts_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = AnyConnection::connect(&admin_url)
            .await
            .expect("connect to TEST_DATABASE_URL");
        admin
            .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .expect("create the test database");
        let url = replace_database_name(&admin_url, &name);
        Self {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot block on itself:
        // a short-lived thread with its own runtime does the cleanup.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            runtime.block_on(async {
                if let Ok(mut admin) = AnyConnection::connect(&admin_url).await {
                    let _ = admin
                        .execute(
                            format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str(),
                        )
                        .await;
                }
            });
        })
        .join();
    }
}

/// An empty database with no server attached: a SQLite file in `dir`, or
/// a database of its own on PostgreSQL. `dir` can serve as a data
/// directory too.
pub struct FreshDatabase {
    pub url: String,
    pub dir: TempDir,
    _postgres: Option<PostgresDatabase>,
}

impl FreshDatabase {
    pub async fn create(backend: Backend) -> Self {
        init_logging();
        let dir = tempfile::tempdir().expect("temporary directory");
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PostgresDatabase::create().await),
        };
        let url = match &postgres {
            Some(database) => database.url.clone(),
            None => format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display()),
        };
        Self {
            url,
            dir,
            _postgres: postgres,
        }
    }

    /// A pool on it, with the migrations applied.
    pub async fn connect(&self) -> Database {
        let database = Database::connect(&self.url).await.expect("connect");
        database.migrate().await.expect("migrate");
        database
    }
}

fn replace_database_name(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}
