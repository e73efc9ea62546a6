//! Development helpers, mounted only when `APP_ENV=development`, and even
//! then answering only a client on this machine that names the configured
//! host: a page elsewhere that points its own DNS name at 127.0.0.1 (DNS
//! rebinding) sends its own name as `Host` and gets a 404.

use app::api::{endpoints::DevMailbox, types::Mailbox};
use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderMap},
};

use super::{
    route::{ApiRouter, Reply},
    ApiContext,
};
use crate::{config::Settings, error::ApiError, mail::outbox};

const MAILBOX_LIMIT: usize = 50;

pub fn router() -> ApiRouter {
    ApiRouter::new().route::<DevMailbox, _, _>(mailbox)
}

/// The newest messages in the outbox, so a developer can follow a
/// verification link without opening files.
async fn mailbox(
    State(context): State<ApiContext>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Reply<DevMailbox>, ApiError> {
    if !is_local(peer, &headers, &context.settings) {
        return Err(ApiError::not_found());
    }
    let dir = context.settings.mail.outbox_dir.clone();
    let messages = tokio::task::spawn_blocking(move || match outbox::read(&dir, MAILBOX_LIMIT) {
        Ok(messages) => Ok(messages),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(error),
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(anyhow::Error::from)?;
    Ok(Reply::new(Mailbox { messages }))
}

/// A loopback peer, and a `Host` whose name is the configured one (that of
/// `APP_URL` or of the address the server listens on).
fn is_local(peer: SocketAddr, headers: &HeaderMap, settings: &Settings) -> bool {
    if !peer.ip().to_canonical().is_loopback() {
        return false;
    }
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let Ok(authority) = host.parse::<axum::http::uri::Authority>() else {
        return false;
    };
    let name = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let configured = settings.app_url.host_str().map(|configured| {
        configured
            .trim_start_matches('[')
            .trim_end_matches(']')
            .eq_ignore_ascii_case(name)
    });
    configured == Some(true) || name == settings.site_addr.ip().to_string()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn only_loopback_clients_naming_the_configured_host() {
        let settings = Settings::from_lookup(|name| match name {
            "APP_ENV" => Some("development".into()),
            "APP_URL" => Some("http://localhost:3000".into()),
            "LEPTOS_SITE_ADDR" => Some("127.0.0.1:3000".into()),
            _ => None,
        })
        .unwrap();
        let local: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let remote: SocketAddr = "192.0.2.1:50000".parse().unwrap();
        let with_host = |host: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static(host));
            headers
        };
        assert!(is_local(local, &with_host("localhost:3000"), &settings));
        assert!(is_local(local, &with_host("127.0.0.1:3000"), &settings));
        assert!(!is_local(
            local,
            &with_host("rebound.example:3000"),
            &settings
        ));
        assert!(!is_local(remote, &with_host("localhost:3000"), &settings));
        assert!(!is_local(local, &HeaderMap::new(), &settings));
    }
}
