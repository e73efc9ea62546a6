//! Requests counted and timed per route template, method and status.
//!
//! The route is axum's [`MatchedPath`] (`/api/users/{id}`), never the path
//! itself: ids would make a series per user. A request no route matched is
//! counted under [`UNMATCHED`], and a method outside the standard ones under
//! `OTHER`, so that no client can grow the label set.
//!
//! `/api/me` is answered in microseconds, so its bookkeeping must not cost
//! more: the handles of each (route, method, status) are registered with the
//! recorder once and then found under a read lock by the route's `&str`,
//! with no allocation; recording is an atomic add and a histogram push.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Arc, PoisonError, RwLock},
    task::{Context, Poll},
    time::Instant,
};

use axum::{
    extract::MatchedPath,
    http::{Method, Request, Response},
};
use metrics::{Counter, Histogram, Label, Recorder as _};
use tower::{Layer, Service};

use super::{names, Inner, Metrics, METADATA};

/// The route label of a request that no route matched.
pub const UNMATCHED: &str = "unmatched";

/// The registered handles, by route, then by method and status.
#[derive(Default)]
pub(super) struct Series {
    routes: RwLock<HashMap<Box<str>, Vec<Handles>>>,
}

struct Handles {
    method: &'static str,
    status: u16,
    requests: Counter,
    duration: Histogram,
}

impl Inner {
    fn record_request(&self, route: &str, method: &'static str, status: u16, seconds: f64) {
        let record = |handles: &Handles| {
            handles.requests.increment(1);
            handles.duration.record(seconds);
        };
        {
            let routes = self
                .http
                .routes
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(handles) = find(&routes, route, method, status) {
                record(handles);
                return;
            }
        }
        let mut routes = self
            .http
            .routes
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Another request may have registered them meanwhile.
        if find(&routes, route, method, status).is_none() {
            let labels = vec![
                Label::from_static_parts("method", method),
                Label::new("route", route.to_owned()),
                Label::new("status", status.to_string()),
            ];
            let handles = Handles {
                method,
                status,
                requests: self.recorder.register_counter(
                    &metrics::Key::from_parts(names::HTTP_REQUESTS, labels.clone()),
                    &METADATA,
                ),
                duration: self.recorder.register_histogram(
                    &metrics::Key::from_parts(names::HTTP_DURATION, labels),
                    &METADATA,
                ),
            };
            routes.entry(route.into()).or_default().push(handles);
        }
        if let Some(handles) = find(&routes, route, method, status) {
            record(handles);
        }
    }
}

fn find<'a>(
    routes: &'a HashMap<Box<str>, Vec<Handles>>,
    route: &str,
    method: &str,
    status: u16,
) -> Option<&'a Handles> {
    routes
        .get(route)?
        .iter()
        .find(|handles| handles.status == status && handles.method == method)
}

/// The method as a label: the standard ones by name, any other as `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

impl Metrics {
    /// The layer that counts and times requests, when metrics are on. Put
    /// it on the router (after routing, so that the route is known) and
    /// outermost, so that it sees the final status and the whole time.
    pub fn http_layer(&self) -> Option<RecordRequests> {
        self.inner.clone().map(|inner| RecordRequests { inner })
    }
}

/// See [`Metrics::http_layer`].
#[derive(Clone)]
pub struct RecordRequests {
    inner: Arc<Inner>,
}

impl<S> Layer<S> for RecordRequests {
    type Service = Recorded<S>;

    fn layer(&self, service: S) -> Recorded<S> {
        Recorded {
            service,
            inner: Arc::clone(&self.inner),
        }
    }
}

#[derive(Clone)]
pub struct Recorded<S> {
    service: S,
    inner: Arc<Inner>,
}

impl<S, RequestBody, ResponseBody> Service<Request<RequestBody>> for Recorded<S>
where
    S: Service<Request<RequestBody>, Response = Response<ResponseBody>>,
{
    type Response = Response<ResponseBody>;
    type Error = S::Error;
    type Future = RecordedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&mut self, request: Request<RequestBody>) -> Self::Future {
        let started = Instant::now();
        let route = request.extensions().get::<MatchedPath>().cloned();
        let method = method_label(request.method());
        RecordedFuture {
            future: self.service.call(request),
            pending: Some(Pending {
                inner: Arc::clone(&self.inner),
                route,
                method,
                started,
            }),
        }
    }
}

/// What the answer is recorded with once it comes.
struct Pending {
    inner: Arc<Inner>,
    route: Option<MatchedPath>,
    method: &'static str,
    started: Instant,
}

pin_project_lite::pin_project! {
    pub struct RecordedFuture<F> {
        #[pin]
        future: F,
        pending: Option<Pending>,
    }
}

impl<F, B, E> Future for RecordedFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.future.poll(cx));
        if let Some(pending) = this.pending.take() {
            // An error never reaches the client as such; hyper answers 500.
            let status = result
                .as_ref()
                .map_or(500, |response| response.status().as_u16());
            let route = pending
                .route
                .as_ref()
                .map_or(UNMATCHED, MatchedPath::as_str);
            pending.inner.record_request(
                route,
                pending.method,
                status,
                pending.started.elapsed().as_secs_f64(),
            );
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_ones_share_a_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        let made_up = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&made_up), "OTHER");
    }

    #[test]
    fn each_route_method_and_status_is_registered_once() {
        let metrics = Metrics::enabled();
        let inner = metrics.inner.as_ref().unwrap();
        for _ in 0..3 {
            inner.record_request("/api/users/{id}", "GET", 200, 0.002);
        }
        inner.record_request("/api/users/{id}", "GET", 404, 0.001);
        inner.record_request("/api/users/{id}", "PATCH", 200, 0.001);
        inner.record_request(UNMATCHED, "GET", 404, 0.001);
        let routes = inner.http.routes.read().unwrap();
        assert_eq!(routes.len(), 2);
        assert_eq!(routes["/api/users/{id}"].len(), 3);
        drop(routes);
        let text = metrics.render();
        assert!(
            text.contains(
                r#"http_requests_total{method="GET",route="/api/users/{id}",status="200"} 3"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"http_request_duration_seconds_bucket{method="GET",route="/api/users/{id}",status="200",le="0.0025"} 3"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#),
            "{text}"
        );
    }
}
