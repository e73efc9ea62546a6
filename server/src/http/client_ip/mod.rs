//! The client's address behind trusted proxies: the one place that reads
//! `X-Forwarded-For` and RFC 7239 `Forwarded`, since whatever it answers
//! is what rate limits and lockout count against.

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts, HeaderMap},
};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::ApiContext;

/// The client's address: the socket's peer, unless that peer is one of
/// `TRUSTED_PROXIES`; then the nearest address in the forwarding headers
/// that is not a trusted proxy (see [`client_ip`]). Addresses a client
/// wrote further left are never believed: anyone can send the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<ApiContext> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        context: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(address)| {
                address.ip()
            });
        Ok(Self(client_ip(
            peer,
            &parts.headers,
            &context.settings.trusted_proxies,
        )))
    }
}

/// Who sent the request, as far as the trusted proxies vouch for it.
///
/// Each proxy appends the address it received the request from, so the
/// list is read from the right: trusted proxies are stepped over, and the
/// first address that is not one is the client. An entry that names no
/// address (RFC 7239's `unknown` or an obfuscated `_name`, or anything
/// garbled, empty or not ASCII) ends what can be believed: the client is
/// then the last trusted proxy reached. Entries may carry a port
/// (`192.0.2.1:5678`, `[2001:db8::1]:443`); it is ignored.
///
/// Two headers can carry the list: RFC 7239 `Forwarded` (its `for=`
/// parameters) and the older `X-Forwarded-For`. With only one of them
/// present, that one is read. With both present, both are read and must
/// name the same client; if they do not, neither is believed and the
/// client is the peer. Preferring either header would not be safe: a proxy
/// that maintains one header passes the other through from the client
/// untouched (nginx's `$proxy_add_x_forwarded_for`, as the README deploys
/// it, leaves a client's `Forwarded` alone), so a preferred header the
/// proxy does not write would let every client name its own address. A
/// proxy that writes both writes the same address into each, and they
/// agree.
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|network| network.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let walk = |hops: Vec<Option<IpAddr>>| {
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            // A hop that names no address ends what can be believed.
            let Some(ip) = hop else { break };
            client = ip.to_canonical();
            if !is_trusted(&client) {
                break;
            }
        }
        client
    };
    let forwarded = hops(headers, header::FORWARDED, forwarded_element);
    let x_forwarded_for = hops(headers, X_FORWARDED_FOR, x_forwarded_for_entry);
    match (forwarded, x_forwarded_for) {
        (None, None) => peer,
        (Some(hops), None) | (None, Some(hops)) => walk(hops),
        (Some(forwarded), Some(x_forwarded_for)) => {
            let (one, other) = (walk(forwarded), walk(x_forwarded_for));
            if one == other {
                one
            } else {
                peer
            }
        }
    }
}

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The entries of every line of one forwarding header, left to right, each
/// read by `entry` into the address it names (`None`: none believable);
/// `None` when the request has no such header.
fn hops(
    headers: &HeaderMap,
    name: impl header::AsHeaderName,
    entry: fn(&str) -> Option<IpAddr>,
) -> Option<Vec<Option<IpAddr>>> {
    let mut lines = headers.get_all(name).iter().peekable();
    lines.peek()?;
    let mut hops = Vec::new();
    for line in lines {
        match line.to_str() {
            Ok(line) => hops.extend(split_outside_quotes(line, ',').map(entry)),
            // Not ASCII: nothing in it can be read, so it ends the chain
            // where it stands rather than vanishing from it.
            Err(_) => hops.push(None),
        }
    }
    Some(hops)
}

/// `192.0.2.1`, `2001:db8::1`, `192.0.2.1:5678`, `[2001:db8::1]` or
/// `[2001:db8::1]:443`.
fn x_forwarded_for_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = entry.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    let bracketed = entry.strip_prefix('[')?.strip_suffix(']')?;
    bracketed.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// One element of RFC 7239 `Forwarded`, e.g.
/// `for=192.0.2.60;proto=http;by=203.0.113.43` or
/// `for="[2001:db8:cafe::17]:4711"`: the address its `for` names. An
/// element without `for`, or with it twice, names no one.
fn forwarded_element(element: &str) -> Option<IpAddr> {
    let mut node = None;
    for pair in split_outside_quotes(element, ';') {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let (name, value) = pair.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("for") {
            if node.is_some() {
                return None;
            }
            node = Some(unquote(value.trim())?);
        }
    }
    forwarded_node(&node?)
}

/// RFC 7239 §6: `nodename [ ":" node-port ]`, where the name is an IPv4
/// address, a bracketed IPv6 address, `unknown` or an obfuscated `_name`
/// (the last two name no address). An IPv6 address must be bracketed:
/// without brackets its last group could be a port.
fn forwarded_node(node: &str) -> Option<IpAddr> {
    let (ip, port) = match node.strip_prefix('[') {
        Some(rest) => {
            let (ip, after) = rest.split_once(']')?;
            let port = match after {
                "" => None,
                after => Some(after.strip_prefix(':')?),
            };
            (IpAddr::V6(ip.parse().ok()?), port)
        }
        None => {
            let (ip, port) = match node.split_once(':') {
                Some((ip, port)) => (ip, Some(port)),
                None => (node, None),
            };
            (IpAddr::V4(ip.parse().ok()?), port)
        }
    };
    port.is_none_or(is_node_port).then_some(ip)
}

/// `1*5DIGIT` or an obfuscated `_port`.
fn is_node_port(port: &str) -> bool {
    let digits = (1..=5).contains(&port.len()) && port.bytes().all(|byte| byte.is_ascii_digit());
    let obfuscated = port.len() > 1
        && port.starts_with('_')
        && port[1..]
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"._-".contains(&byte));
    digits || obfuscated
}

/// A token as it is, or a quoted string without its quotes and escapes;
/// `None` for a quoted string that does not end where it should.
fn unquote(value: &str) -> Option<String> {
    let Some(quoted) = value.strip_prefix('"') else {
        return (!value.contains('"')).then(|| value.to_owned());
    };
    let mut unquoted = String::new();
    let mut chars = quoted.chars();
    while let Some(char) = chars.next() {
        match char {
            '\\' => unquoted.push(chars.next()?),
            '"' => return chars.as_str().is_empty().then_some(unquoted),
            char => unquoted.push(char),
        }
    }
    None
}

/// Splits at `separator` where it is not inside a quoted string. An
/// unterminated quote runs to the end, so that the piece it leaves is
/// refused whole rather than split somewhere a client chose.
fn split_outside_quotes(text: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut pieces = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (index, char) in text.char_indices() {
        match char {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            _ if char == separator && !quoted => {
                pieces.push(&text[start..index]);
                start = index + char.len_utf8();
            }
            _ => {}
        }
    }
    pieces.push(&text[start..]);
    pieces.into_iter()
}

#[cfg(test)]
mod tests;
