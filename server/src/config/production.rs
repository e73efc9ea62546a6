//! What production refuses besides a missing or weak secret: settings that
//! would carry secrets in the clear, or let clients name their own address.
//! - `APP_URL` must be given, and be `https://`: emailed links carry
//!   one-time tokens, and the refresh cookie's `__Secure-` prefix (which
//!   stops a network attacker planting a cookie) needs it. A loopback host
//!   may stay `http://` (a proxy on the same machine, the cluster set-up).
//! - `SMTP_URL` must use TLS: `smtps://`, or `smtp://…?tls=required`.
//!   lettre sends a plain `smtp://` without TLS, and an opportunistic one
//!   can be stripped on the way; either would show the relay's password and
//!   every link. A relay on this machine is exempt.
//! - `TRUSTED_PROXIES` must not trust (nearly) everyone: with `0.0.0.0/0`
//!   every client is a proxy, and the left-most `X-Forwarded-For` entry,
//!   which the client writes, would choose its rate-limit bucket.

use std::net::IpAddr;

use ipnet::IpNet;
use url::{Host, Url};

use super::{ConfigError, Settings};

/// The widest networks production trusts as proxies: a /8 of IPv4 (a
/// provider's ranges are far narrower) and a /16 of IPv6.
const WIDEST_V4_PROXY_PREFIX: u8 = 8;
const WIDEST_V6_PROXY_PREFIX: u8 = 16;

pub(super) fn refuse_unsafe(settings: &Settings, app_url_given: bool) -> Result<(), ConfigError> {
    if !app_url_given {
        return Err(ConfigError::new(
            "APP_URL",
            "is required in production: the public address of the app, such as https://accounts.example.com",
        ));
    }
    if settings.app_url.scheme() != "https" && !is_loopback(&settings.app_url) {
        return Err(ConfigError::new(
            "APP_URL",
            "must be https:// in production (http:// only for a host on this machine)",
        ));
    }
    if let Some(smtp_url) = &settings.mail.smtp_url {
        // Checked to be a URL when read.
        let url =
            Url::parse(smtp_url.trim()).map_err(|_| ConfigError::new("SMTP_URL", "not a URL"))?;
        let tls_required = url.scheme() == "smtps"
            || url
                .query_pairs()
                .any(|(key, value)| key == "tls" && value == "required");
        if !tls_required && !is_loopback(&url) {
            return Err(ConfigError::new(
                "SMTP_URL",
                "must use TLS in production: smtps://… or smtp://…?tls=required (without TLS only to a relay on this machine)",
            ));
        }
    }
    if let Some(network) = settings
        .trusted_proxies
        .iter()
        .find(|network| too_wide(network))
    {
        return Err(ConfigError::new(
            "TRUSTED_PROXIES",
            format!(
                "`{network}` trusts too many addresses to be proxies (at most a /{WIDEST_V4_PROXY_PREFIX} of IPv4 or a /{WIDEST_V6_PROXY_PREFIX} of IPv6): clients could choose their own address"
            ),
        ));
    }
    Ok(())
}

/// Whether the URL's host is this machine: `localhost` (and its
/// subdomains), 127.0.0.0/8 or ::1.
fn is_loopback(url: &Url) -> bool {
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

fn too_wide(network: &IpNet) -> bool {
    match network {
        IpNet::V4(network) => network.prefix_len() < WIDEST_V4_PROXY_PREFIX,
        IpNet::V6(network) => {
            // IPv4 written as IPv6 (::ffff:a.b.c.d) is held to IPv4's rule.
            let mapped = IpAddr::V6(network.network()).to_canonical().is_ipv4()
                && network.prefix_len() >= 96;
            if mapped {
                network.prefix_len() - 96 < WIDEST_V4_PROXY_PREFIX
            } else {
                network.prefix_len() < WIDEST_V6_PROXY_PREFIX
            }
        }
    }
}
