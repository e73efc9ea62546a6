//! The browser's transport: `fetch` through gloo-net. Same-origin requests
//! carry the HttpOnly refresh cookie by default; scripts never see it.

use futures::{future::LocalBoxFuture, FutureExt as _};
use gloo_net::http::RequestBuilder;

use super::transport::{HttpRequest, HttpResponse, Transport};
use crate::api::endpoints::Method;

#[derive(Debug, Default, Clone, Copy)]
pub struct FetchTransport;

impl Transport for FetchTransport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, String>> {
        async move {
            let mut builder = match request.method {
                Method::Get => {
                    RequestBuilder::new(&request.path).method(gloo_net::http::Method::GET)
                }
                Method::Post => {
                    RequestBuilder::new(&request.path).method(gloo_net::http::Method::POST)
                }
                Method::Put => {
                    RequestBuilder::new(&request.path).method(gloo_net::http::Method::PUT)
                }
                Method::Patch => {
                    RequestBuilder::new(&request.path).method(gloo_net::http::Method::PATCH)
                }
                Method::Delete => {
                    RequestBuilder::new(&request.path).method(gloo_net::http::Method::DELETE)
                }
            };
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            let sent = match request.body {
                Some(body) => {
                    builder
                        .body(body)
                        .map_err(|error| error.to_string())?
                        .send()
                        .await
                }
                None => builder.send().await,
            };
            let response = sent.map_err(|error| error.to_string())?;
            let status = response.status();
            let www_authenticate = response.headers().get("www-authenticate");
            let etag = response.headers().get("etag");
            let body = response.text().await.unwrap_or_default();
            Ok(HttpResponse {
                status,
                www_authenticate,
                etag,
                body,
            })
        }
        .boxed_local()
    }
}
