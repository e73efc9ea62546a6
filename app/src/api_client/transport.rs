//! The one thing the client needs from the outside world: sending an HTTP
//! request. The browser sends through `fetch` (gloo-net); tests send to a
//! fake, so the retry logic is tested without a browser.

use futures::future::LocalBoxFuture;

use crate::api::endpoints::Method;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    /// A path on the app's own origin, such as `/api/me`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// The `WWW-Authenticate` header: whether a 401 is about the token.
    pub www_authenticate: Option<String>,
    /// The `ETag` header: the version of a versioned resource.
    pub etag: Option<String>,
    pub body: String,
}

/// Sends one request; `Err` means no answer arrived (offline, DNS, CORS).
pub trait Transport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, String>>;
}
