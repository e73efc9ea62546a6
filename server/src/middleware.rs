//! The layers around every route: request ids, tracing, security headers,
//! compression, the request timeout and the body limit, and (outermost)
//! the metrics of each request.

use std::time::Duration;

use axum::{
    error_handling::HandleErrorLayer,
    extract::DefaultBodyLimit,
    http::{header, HeaderName, HeaderValue, Request},
    response::IntoResponse,
    Router,
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    sensitive_headers::SetSensitiveRequestHeadersLayer,
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{error::ApiError, metrics::Metrics};

/// Larger request bodies are refused with 413 before they are read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Settings of the outermost layers.
pub(crate) struct Protection {
    /// Browsers are told to use HTTPS only (production).
    pub hsts: bool,
    pub request_timeout: Duration,
}

/// One year, subdomains included: what HSTS preload lists ask for.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Request ids longer or fancier than this are replaced: they end up in
/// every log line of the request.
const MAX_REQUEST_ID_CHARS: usize = 64;

fn is_plain_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_CHARS
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

/// Drops an incoming `x-request-id` that is not short and plain, so that
/// the next layer gives the request a fresh one.
async fn plain_request_id(mut request: Request<axum::body::Body>) -> Request<axum::body::Body> {
    if let Some(value) = request.headers().get(&REQUEST_ID) {
        if !is_plain_request_id(value) {
            request.headers_mut().remove(&REQUEST_ID);
        }
    }
    request
}

pub(crate) fn with_middleware(router: Router, protection: Protection, metrics: &Metrics) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let request_id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
                request_id,
            )
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO))
        // The error type logs what went wrong itself, once, at the level it
        // deserves. At ERROR here, every 5xx was logged again: each login
        // shed with 503 under a flood wrote an error line, thousands a
        // second, which cost the CPU the flood was being shed to save.
        .on_failure(DefaultOnFailure::new().level(Level::DEBUG));

    router.layer(
        ServiceBuilder::new()
            // Outermost, so that it times the whole answer and counts the
            // status the client gets; after routing (a router layer), so
            // that the route template is known.
            .option_layer(metrics.http_layer())
            .layer(SetSensitiveRequestHeadersLayer::new([
                header::AUTHORIZATION,
                header::COOKIE,
            ]))
            .layer(axum::middleware::map_request(plain_request_id))
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(trace)
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(CatchPanicLayer::custom(|_panic| {
                ApiError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
            }))
            .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
            .layer(security_header(
                header::REFERRER_POLICY,
                "strict-origin-when-cross-origin",
            ))
            .option_layer(
                protection
                    .hsts
                    .then(|| security_header(header::STRICT_TRANSPORT_SECURITY, HSTS)),
            )
            .layer(CompressionLayer::new())
            // A request still unanswered after this is dropped (its
            // transaction rolls back) and answered 503.
            .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                ApiError::unavailable("The request took too long and was stopped; try again.")
            }))
            .timeout(protection.request_timeout)
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
    )
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_request_ids_are_kept() {
        for kept in ["abc-123", "0f8e2a6c-1c1f-4e0b-9d55-3b7b6a7d1e20", "req_1.2"] {
            assert!(
                is_plain_request_id(&HeaderValue::from_static(kept)),
                "{kept}"
            );
        }
        let long = "a".repeat(65);
        for replaced in ["", "has space", "semi;colon", "a<b>", long.as_str()] {
            let value = HeaderValue::from_str(replaced).unwrap();
            assert!(!is_plain_request_id(&value), "{replaced}");
        }
    }
}
