//! Safe defaults: production unless told otherwise, development tools only
//! for this machine under the configured name, HSTS in production, plain
//! request ids only, and a deadline for request headers (slowloris), which
//! HTTP/2 without TLS cannot escape.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use crate::{
    both_backends,
    helpers::{spawn_app, spawn_app_with, Backend, TestApp},
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
    assert_cut_off(
        &app,
        b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
    )
    .await;
}

/// HTTP/2 without TLS ("prior knowledge"), straight to the port: hyper's
/// HTTP/2 has no deadline for a request's headers, so a client that opened
/// a connection this way could hold it with a header block it never ends.
/// No browser speaks it and nginx speaks HTTP/1.1 to the app, so the server
/// speaks HTTP/1.1 only, where the deadline holds.
async fn http2_without_tls_cannot_hold_a_connection_open(backend: Backend) {
    let app = spawn_app_with(backend, &[("HEADER_READ_TIMEOUT_SECS", "1")]).await;
    let mut opening = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    // An empty SETTINGS frame, then the start of a HEADERS frame of 16 KiB
    // on stream 1, without END_HEADERS, whose block then drips in.
    opening.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    opening.extend_from_slice(&[0, 0x40, 0, 1, 0, 0, 0, 0, 1]);
    assert_cut_off(&app, &opening).await;
}

/// Sends `opening` and then filler one byte every 200 ms, never finishing
/// the request; the server must close the connection within a few seconds.
async fn assert_cut_off(app: &TestApp, opening: &[u8]) {
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).await.unwrap();
    let started = Instant::now();
    let mut closed = false;
    for byte in opening
        .iter()
        .chain(std::iter::repeat(&b'a'))
        .take(opening.len() + 100)
    {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut buffer = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buffer)).await {
            // End of stream, or the connection reset.
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            // Whatever the server says first (an error page, HTTP/2's
            // settings): the connection may still be open.
            Ok(Ok(_)) | Err(_) => {}
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
    http2_without_tls_cannot_hold_a_connection_open,
);
