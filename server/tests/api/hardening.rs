//! Safe defaults: production unless told otherwise, development tools only
//! for this machine under the configured name, HSTS in production, plain
//! request ids only, and a deadline for request headers (slowloris).

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use crate::{
    both_backends,
    helpers::{spawn_app, spawn_app_with, Backend},
};

async fn without_app_env_the_dev_mailbox_does_not_exist(backend: Backend) {
    // A blank APP_ENV counts as unset: the server runs as production.
    let app = spawn_app_with(backend, &[("APP_ENV", "")]).await;
    let response = app.get("/api/dev/mailbox").await;
    assert_eq!(response.status(), 404);
    let response = app.get("/api/health").await;
    assert!(response.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
}

async fn dev_tools_answer_only_the_configured_host(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/api/dev/mailbox").await;
    assert_eq!(response.status(), 200);
    assert!(response
        .headers()
        .get("strict-transport-security")
        .is_none());
    // A page whose own name resolves to 127.0.0.1 (DNS rebinding).
    let port = app.address.rsplit(':').next().unwrap().to_owned();
    let response = app
        .client
        .get(app.url("/api/dev/mailbox"))
        .header("host", format!("rebound.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

async fn only_short_plain_request_ids_are_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let id_for = |sent: String| {
        let request = app
            .client
            .get(app.url("/api/health"))
            .header("x-request-id", sent);
        async move {
            let response = request.send().await.unwrap();
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(id_for("trace-42.a_b".into()).await, "trace-42.a_b");
    for replaced in ["x".repeat(200), "two words".into(), "<script>".into()] {
        let answered = id_for(replaced.clone()).await;
        assert_ne!(answered, replaced);
        uuid::Uuid::parse_str(&answered).expect("a fresh UUID instead");
    }
}

async fn a_client_sending_headers_a_byte_at_a_time_is_cut_off(backend: Backend) {
    let app = spawn_app_with(backend, &[("HEADER_READ_TIMEOUT_SECS", "1")]).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).await.unwrap();
    let request = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    let started = Instant::now();
    // Slowloris: one byte every 200 ms, never finishing the headers. The
    // server must close the connection long before we would run out.
    let mut closed = false;
    for byte in request.iter().chain(std::iter::repeat(&b'a')).take(100) {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut buffer = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buffer)).await {
            // End of stream, or whatever the server sent before closing.
            Ok(Ok(_)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Err(_) => {}
        }
    }
    assert!(closed, "the connection is still open after 20 s");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

both_backends!(
    without_app_env_the_dev_mailbox_does_not_exist,
    dev_tools_answer_only_the_configured_host,
    only_short_plain_request_ids_are_kept,
    a_client_sending_headers_a_byte_at_a_time_is_cut_off,
);
