//! What production refuses besides a missing or weak secret: settings that
//! would carry secrets in the clear, or let clients name their own address.
//! - `APP_URL` must be given, and be `https://`: emailed links carry
//!   one-time tokens, and the refresh cookie's `__Secure-` prefix (which
//!   stops a network attacker planting a cookie) needs it. A loopback host
//!   may stay `http://` (a proxy on the same machine, the cluster set-up).
//! - `SMTP_URL` must use TLS (checked where it is read, in `mail`).
//! - `TRUSTED_PROXIES` must not trust (nearly) everyone: with `0.0.0.0/0`
//!   every client is a proxy, and the left-most `X-Forwarded-For` entry,
//!   which the client writes, would choose its rate-limit bucket.

use std::net::IpAddr;

use super::{values::is_loopback, ConfigError, Settings};
use ipnet::IpNet;

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
