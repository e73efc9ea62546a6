//! Mail survives a crash: the real binary is killed (SIGKILL) while
//! registrations pour in and mail is being written, then restarted on the
//! same database and outbox. Every registration that was acknowledged gets
//! its message, and no address gets two.

use std::{
    collections::{HashMap, HashSet},
    fs::File,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;
use tokio::sync::mpsc;

use crate::{both_backends, helpers::*};

both_backends!(every_acknowledged_registration_gets_exactly_one_message_across_a_crash);

const REGISTRATIONS: usize = 200;
/// Answers received before the kill.
const KILL_AFTER: usize = 50;

/// The server binary, running until dropped.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(database: &FreshDatabase, log_name: &str) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir = database.dir.path();
        let address = format!("127.0.0.1:{port}");
        let log = File::create(dir.join(log_name)).expect("a log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command
            // Nothing from this environment (or a .env file) leaks in.
            .env_clear()
            .current_dir(dir)
            .env("DATA_DIR", dir)
            .env("MAIL_OUTBOX_DIR", outbox(dir))
            .envs([
                ("APP_ENV", "development"),
                ("DATABASE_URL", database.url.as_str()),
                ("JWT_SECRET", TEST_JWT_SECRET),
                ("LEPTOS_SITE_ADDR", address.as_str()),
                ("LEPTOS_OUTPUT_NAME", "accounts"),
                ("LEPTOS_SITE_ROOT", "target/site"),
                ("RATE_LIMITS", "off"),
                // Every registration waits for its hash rather than being shed.
                ("PASSWORD_HASH_QUEUE", "1000"),
                ("RUST_LOG", "info,sqlx=warn"),
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a log file"))
            .stderr(log);
        Self {
            child: command.spawn().expect("the server binary starts"),
            address: format!("http://{address}"),
        }
    }

    /// Polls the health endpoint until the server answers.
    async fn wait_until_ready(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = client
                .get(format!("{}/api/health", self.address))
                .send()
                .await
            {
                if response.status() == 200 {
                    return;
                }
            }
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                panic!("the server exited with {status} before it was ready");
            }
            assert!(Instant::now() < deadline, "the server never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no flushing, no goodbye.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn outbox(dir: &Path) -> PathBuf {
    dir.join("outbox")
}

/// How many messages each address has in the outbox.
fn messages_per_address(outbox: &Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for message in server::mail::outbox::read(outbox, usize::MAX).unwrap_or_default() {
        *counts.entry(message.to).or_default() += 1;
    }
    counts
}

async fn every_acknowledged_registration_gets_exactly_one_message_across_a_crash(backend: Backend) {
    let database = FreshDatabase::create(backend).await;
    let outbox = outbox(database.dir.path());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();

    let mut server = Server::start(&database, "first.log");
    server.wait_until_ready(&client).await;

    let emails: Vec<String> = (0..REGISTRATIONS)
        .map(|n| unique_email(&format!("crash{n}")))
        .collect();
    let (answers, mut answered) = mpsc::unbounded_channel();
    for email in &emails {
        let client = client.clone();
        let url = format!("{}/api/auth/register", server.address);
        let email = email.clone();
        let answers = answers.clone();
        tokio::spawn(async move {
            let status = client
                .post(url)
                .json(&json!({"email": email, "password": STRONG_PASSWORD, "name": "Crash"}))
                .send()
                .await
                .map(|response| response.status().as_u16());
            let _ = answers.send((email, status.ok()));
        });
    }
    drop(answers);

    let mut outcomes = Vec::new();
    while outcomes.len() < KILL_AFTER {
        outcomes.push(answered.recv().await.expect("an answer"));
    }
    server.kill();
    let written_before_the_crash = messages_per_address(&outbox).len();
    // The rest fail (the server is gone) or were answered just before.
    while let Some(outcome) = answered.recv().await {
        outcomes.push(outcome);
    }
    let acknowledged: HashSet<String> = outcomes
        .iter()
        .filter(|(_, status)| *status == Some(202))
        .map(|(email, _)| email.clone())
        .collect();
    assert!(
        acknowledged.len() >= KILL_AFTER,
        "only {} of the first {KILL_AFTER} answers were 202: {outcomes:?}",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() < REGISTRATIONS,
        "the server was killed only after every registration was answered"
    );

    // Restarted on the same database and outbox, the server sends what the
    // crash left unsent (a message claimed at the time of the crash once
    // its claim runs out).
    let mut server = Server::start(&database, "second.log");
    server.wait_until_ready(&client).await;
    let db = database.connect().await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let counts = loop {
        let counts = messages_per_address(&outbox);
        let unsent: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL")
                .fetch_one(db.pool())
                .await
                .unwrap();
        let missing = acknowledged
            .iter()
            .filter(|email| !counts.contains_key(*email))
            .count();
        if missing == 0 && unsent == 0 {
            break counts;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} acknowledged registration(s) without mail, {unsent} message(s) unsent"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "{backend:?}: {} of {REGISTRATIONS} registrations acknowledged, {} messages written \
         before the crash, {} after the restart",
        acknowledged.len(),
        written_before_the_crash,
        counts.len()
    );

    for email in &acknowledged {
        assert_eq!(counts.get(email), Some(&1), "mail to {email}");
    }
    let ours: HashSet<&String> = emails.iter().collect();
    for (email, count) in &counts {
        assert!(ours.contains(email), "mail to a stranger: {email}");
        assert_eq!(*count, 1, "{email} got {count} messages");
    }
    // A registration exists exactly when its message does: the ones cut
    // off by the crash either committed both or neither.
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pending_signups")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(users, rows);
    assert_eq!(usize::try_from(rows).unwrap(), counts.len());
    // Nothing half-written is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .filter(|name| !name.to_string_lossy().ends_with(".eml"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    db.close().await;
    drop(server);
}
