//! What the API tests share: a server on a random port with a fresh
//! database of either backend, and the requests, sign-ups and mail
//! readings the tests make of it (mail in `mail`, cookies in `cookies`,
//! the databases in `databases`).

use std::{collections::HashMap, path::PathBuf, sync::Once};

use leptos::prelude::LeptosOptions;
use serde_json::{json, Value};
use server::{config::Settings, db::Database, startup::Application};
use tempfile::TempDir;

mod cookies;
mod databases;
mod locks;
mod mail;

pub use cookies::{cookie_named, set_cookie};
pub use databases::{FreshDatabase, PostgresDatabase};

/// Runs one async test body against each database backend.
///
/// `both_backends!(name)` expects `async fn name(backend: Backend)` in scope.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_admin_url().is_some() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        }
    )+};
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where PostgreSQL test databases are created; unset means "skip".
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// The key test servers sign with, so tests can forge tokens of their own.
pub const TEST_JWT_SECRET: &str = "test-secret-7f3a9c1e5b2d8046-long-enough-for-hs256";
pub const STRONG_PASSWORD: &str = "Plum-Quartz-Harbor-91";

pub struct TestApp {
    pub address: String,
    /// `http://host:port` of the metrics listener, when `METRICS_ADDR` is set.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub database: Database,
    pub database_url: String,
    pub outbox: PathBuf,
    /// The variables this server was started with.
    pub vars: HashMap<String, String>,
    /// Keeps the data directory (and the SQLite file) alive.
    _data_dir: std::sync::Arc<TempDir>,
    _postgres: Option<std::sync::Arc<PostgresDatabase>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request failed")
    }

    pub async fn send_with_token(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request failed")
    }

    pub async fn get_with_token(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request failed")
    }

    /// POSTs with only the refresh cookie (and optionally an Origin), as a
    /// browser would to the auth endpoints.
    pub async fn post_with_cookie(
        &self,
        path: &str,
        refresh_token: Option<&str>,
        origin: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path));
        if let Some(token) = refresh_token {
            request = request.header("cookie", format!("refresh_token={token}"));
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send().await.expect("request failed")
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.post_with_cookie("/api/auth/refresh", Some(refresh_token), None)
            .await
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> reqwest::Response {
        self.post_json(
            "/api/auth/register",
            &json!({"email": email, "password": password, "name": name}),
        )
        .await
    }

    /// Registers and verifies an account; returns its email address.
    pub async fn verified_user(&self, name: &str) -> String {
        let email = unique_email(name);
        let response = self.register(&email, STRONG_PASSWORD, name).await;
        assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
        let token = self.verification_token(&email, 1).await;
        let response = self.verify_email(&token, STRONG_PASSWORD).await;
        assert_eq!(response.status(), 200);
        // Confirming signs in (tested in registration.rs). The fixture is
        // an account with no history: that sign-in's session and activity
        // are taken away, so tests count only what they do themselves.
        let body: Value = response.json().await.unwrap();
        let id = body["user"]["id"].as_str().unwrap().to_owned();
        self.execute(&format!(
            "DELETE FROM refresh_tokens WHERE session_id IN \
             (SELECT id FROM sessions WHERE user_id = '{id}')"
        ))
        .await;
        self.execute(&format!("DELETE FROM sessions WHERE user_id = '{id}'"))
            .await;
        self.execute(&format!(
            "DELETE FROM security_events WHERE user_id = '{id}'"
        ))
        .await;
        email
    }

    /// Confirms a sign-up with its link's token and the password chosen.
    pub async fn verify_email(&self, token: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/auth/verify-email",
            &json!({"token": token, "password": password}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Signs in a fresh verified user.
    pub async fn signed_in(&self, name: &str) -> Session {
        let email = self.verified_user(name).await;
        self.sign_in(&email).await
    }

    pub async fn sign_in(&self, email: &str) -> Session {
        let response = self.login(email, STRONG_PASSWORD).await;
        assert_eq!(response.status(), 200);
        let refresh_token = set_cookie(&response)
            .expect("login sets the refresh cookie")
            .value;
        let body: Value = response.json().await.unwrap();
        Session {
            email: email.to_owned(),
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_token,
            user_id: body["user"]["id"].as_str().unwrap().to_owned(),
        }
    }

    /// Starts another server on the same database and data directory, as a
    /// second instance behind a load balancer would run.
    pub async fn another_instance(&self) -> TestApp {
        let vars = self.vars.clone();
        let settings = Settings::from_lookup(|name| vars.get(name).cloned()).expect("settings");
        let application = Application::build(settings, leptos_options())
            .await
            .expect("the second instance starts");
        let address = format!("http://{}", application.local_addr());
        let metrics_address = application
            .metrics_addr()
            .map(|addr| format!("http://{addr}"));
        let database = application.database().clone();
        tokio::spawn(application.run_until_stopped(std::future::pending()));
        TestApp {
            address,
            metrics_address,
            client: self.client.clone(),
            database,
            database_url: self.database_url.clone(),
            outbox: self.outbox.clone(),
            vars: self.vars.clone(),
            _data_dir: self._data_dir.clone(),
            _postgres: self._postgres.clone(),
        }
    }

    /// `server admin <verb> <email>` against this app's database.
    pub async fn admin_cli(&self, verb: &str, email: &str) -> anyhow::Result<String> {
        let vars = self.vars.clone();
        let settings = Settings::from_lookup(|name| vars.get(name).cloned()).expect("settings");
        let args = vec!["admin".to_owned(), verb.to_owned(), email.to_owned()];
        let command = server::admin::Command::parse(&args)
            .expect("an admin command")
            .expect("well formed");
        server::admin::run(command, &settings).await
    }

    /// A signed-in admin (made with the CLI, then signed in anew).
    pub async fn signed_in_admin(&self, name: &str) -> Session {
        let email = self.verified_user(name).await;
        self.admin_cli("grant", &email).await.expect("granted");
        self.sign_in(&email).await
    }

    /// Runs a statement against the app's database, for setting up states
    /// that would otherwise take hours (expired links and sessions).
    pub async fn execute(&self, sql: &str) {
        sqlx::query(sql)
            .execute(self.database.pool())
            .await
            .expect("test SQL runs");
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.database.pool())
            .await
            .expect("test SQL runs")
    }
}

/// A signed-in user as a client holds it.
#[derive(Debug, Clone)]
pub struct Session {
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
    pub user_id: String,
}

pub fn unique_email(name: &str) -> String {
    let slug: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    format!(
        "{slug}.{}@example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Asserts an RFC 9457 problem with the given status and code.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "for code {code}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "problem lacks {field}: {body}");
    }
    body
}

/// Starts the server with defaults plus `overrides`, on a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

pub async fn spawn_app_with(backend: Backend, overrides: &[(&str, &str)]) -> TestApp {
    init_logging();
    let data_dir = tempfile::tempdir().expect("temporary directory");

    let postgres = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(PostgresDatabase::create().await),
    };
    let database_url = match &postgres {
        Some(database) => database.url.clone(),
        None => format!(
            "sqlite://{}?mode=rwc",
            data_dir.path().join("app.db").display()
        ),
    };

    let mut vars: HashMap<String, String> = HashMap::from([
        ("APP_ENV".into(), "development".into()),
        ("APP_URL".into(), "http://127.0.0.1:3000".into()),
        ("DATA_DIR".into(), data_dir.path().display().to_string()),
        ("DATABASE_URL".into(), database_url.clone()),
        ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
        ("JWT_SECRET".into(), TEST_JWT_SECRET.into()),
        (
            "MAIL_OUTBOX_DIR".into(),
            data_dir.path().join("outbox").display().to_string(),
        ),
        // Tests sign many users up from one address; the tests of the
        // limits themselves turn them on.
        ("RATE_LIMITS".into(), "off".into()),
    ]);
    for (name, value) in overrides {
        vars.insert((*name).into(), (*value).into());
    }
    let settings = Settings::from_lookup(|name| vars.get(name).cloned()).expect("test settings");
    let outbox = settings.mail.outbox_dir.clone();

    let application = Application::build(settings, leptos_options())
        .await
        .expect("the application starts");
    let address = format!("http://{}", application.local_addr());
    let metrics_address = application
        .metrics_addr()
        .map(|addr| format!("http://{addr}"));
    let database = application.database().clone();
    tokio::spawn(application.run_until_stopped(std::future::pending()));

    TestApp {
        address,
        metrics_address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        database,
        database_url,
        outbox,
        vars,
        _data_dir: std::sync::Arc::new(data_dir),
        _postgres: postgres.map(std::sync::Arc::new),
    }
}

pub fn leptos_options() -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("accounts")
        .site_root("target/site")
        .build()
}

fn init_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            server::telemetry::init(server::config::Environment::Development);
        }
    });
}
