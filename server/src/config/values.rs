//! Reading single values: each check names its variable when it refuses.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use url::{Host, Url};

use super::{ConfigError, MIN_JWT_SECRET_BYTES};

pub(super) fn parse_app_url(value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value.trim())
        .map_err(|error| ConfigError::new("APP_URL", format!("not a URL ({error})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::new(
            "APP_URL",
            "expected an http:// or https:// URL with a host",
        ));
    }
    Ok(url)
}

/// Refuses secrets that are short or visibly not random ("aaaa…",
/// "abababab…"): HS256 is only as strong as its key.
pub(super) fn check_jwt_secret(secret: String) -> Result<Vec<u8>, ConfigError> {
    let bytes = secret.into_bytes();
    if bytes.len() < MIN_JWT_SECRET_BYTES {
        return Err(ConfigError::new(
            "JWT_SECRET",
            format!("must be at least {MIN_JWT_SECRET_BYTES} bytes long"),
        ));
    }
    let distinct = bytes.iter().collect::<std::collections::HashSet<_>>().len();
    if distinct < 10 {
        return Err(ConfigError::new(
            "JWT_SECRET",
            "looks weak (too few distinct characters); generate one with `openssl rand -base64 48`",
        ));
    }
    Ok(bytes)
}

pub(super) fn parse_origin(value: &str) -> Result<String, ConfigError> {
    match Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(url.origin().ascii_serialization())
        }
        _ => Err(ConfigError::new(
            "ALLOWED_ORIGINS",
            format!("`{value}` is not an origin such as https://app.example.com"),
        )),
    }
}

/// `10.0.0.0/8`, `2001:db8::/32`, or a single address.
pub(super) fn parse_network(value: &str) -> Result<IpNet, ConfigError> {
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(IpNet::from))
        .map(|network| network.trunc())
        .map_err(|_| {
            ConfigError::new(
                "TRUSTED_PROXIES",
                format!("`{value}` is not an address or a CIDR block such as 10.0.0.0/8"),
            )
        })
}

pub(super) fn validate_database_url(url: String) -> Result<String, ConfigError> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme).unwrap_or("");
    match scheme {
        "sqlite" | "postgres" | "postgresql" => Ok(url),
        _ => Err(ConfigError::new(
            "DATABASE_URL",
            "expected a sqlite:// or postgres:// URL",
        )),
    }
}

/// 32 bytes written in base64 (standard or URL-safe, padded or not).
pub(super) fn parse_key_32(text: &str) -> Option<[u8; 32]> {
    use base64::{
        engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
        Engine as _,
    };
    let text = text.trim();
    let bytes = STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
        .ok()?;
    bytes.try_into().ok()
}

/// `METRICS_ADDR`: an address and port such as `127.0.0.1:9100`, other than
/// the public one (port 0 picks a free port, as for the site).
pub(super) fn parse_metrics_addr(
    value: &str,
    site_addr: SocketAddr,
) -> Result<SocketAddr, ConfigError> {
    let addr: SocketAddr = value.trim().parse().map_err(|_| {
        ConfigError::new(
            "METRICS_ADDR",
            format!(
                "expected an address and port such as 127.0.0.1:9100, got `{}`",
                value.trim()
            ),
        )
    })?;
    if addr.port() != 0 && addr.port() == site_addr.port() {
        let shared = addr.ip() == site_addr.ip()
            || addr.ip().is_unspecified()
            || site_addr.ip().is_unspecified();
        if shared {
            return Err(ConfigError::new(
                "METRICS_ADDR",
                "must not be the public address (LEPTOS_SITE_ADDR): metrics are kept off the public port",
            ));
        }
    }
    Ok(addr)
}

/// Whether the URL's host is this machine: `localhost` (and its
/// subdomains), 127.0.0.0/8 or ::1.
pub(super) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        // A URL of a scheme the URL standard does not know (`smtp`) keeps
        // an IPv4 address as a name.
        Some(Host::Domain(domain)) => match domain.parse::<IpAddr>() {
            Ok(address) => address.is_loopback(),
            Err(_) => {
                let domain = domain.trim_end_matches('.').to_ascii_lowercase();
                domain == "localhost" || domain.ends_with(".localhost")
            }
        },
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}
