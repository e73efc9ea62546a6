//! The accept loop: the router on hyper, with what `axum::serve` does not
//! offer. A client must finish sending a request's headers within the
//! header-read timeout (slowloris holds connections open by sending them a
//! byte at a time), and shutdown stops accepting, lets every connection
//! finish its request in flight, and then returns; the caller bounds how
//! long that may take.
//!
//! HTTP/1.1 only. hyper's HTTP/2 has no deadline for a request's headers,
//! so HTTP/2 without TLS sent straight to the port ("prior knowledge")
//! could hold a connection open with a header block it never finished. No
//! browser speaks HTTP/2 without TLS, and a proxy in front (nginx in
//! `scripts/cluster/`) speaks HTTP/1.1 to the app while it may speak
//! HTTP/2 to browsers. A client that opens with HTTP/2's preface gets an
//! HTTP/1.1 error and the connection closes. (hyper-util's automatic
//! builder, used before, first read whether the client opened with
//! HTTP/2's preface, and that read had no deadline either, so "PRI" and
//! silence held a connection; hyper's own HTTP/1 builder reads nothing
//! before its deadline starts.)

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::{body::Body, extract::ConnectInfo, http::Request, Router};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::net::TcpListener;
use tower::ServiceExt as _;

pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(request.map(Body::new))
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, "connection ended with an error");
            }
        });
    }

    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
