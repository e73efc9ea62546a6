//! The client behind trusted proxies, header by header: `X-Forwarded-For`
//! with and without ports, RFC 7239 `Forwarded`, untrusted hops, and the
//! two headers disagreeing. Kept apart from the rules they test, which
//! fit on one screen without them.

use axum::http::HeaderValue;

use super::*;

#[test]
fn the_client_is_the_peer_unless_a_trusted_proxy_forwards() {
    let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
    let ip = |text: &str| text.parse::<IpAddr>().unwrap();
    let mut headers = HeaderMap::new();
    headers.append(
        X_FORWARDED_FOR,
        HeaderValue::from_static("203.0.113.9, 198.51.100.7"),
    );
    headers.append(X_FORWARDED_FOR, HeaderValue::from_static("10.0.0.2"));
    // An untrusted peer's header is ignored.
    assert_eq!(
        client_ip(ip("192.0.2.1"), &headers, &trusted),
        ip("192.0.2.1")
    );
    // Through trusted proxies: the nearest address that is not one; the
    // client-written entry further left is not believed.
    assert_eq!(
        client_ip(ip("10.0.0.1"), &headers, &trusted),
        ip("198.51.100.7")
    );
    assert_eq!(client_ip(ip("10.0.0.1"), &headers, &[]), ip("10.0.0.1"));
    let mut garbled = HeaderMap::new();
    garbled.insert(X_FORWARDED_FOR, HeaderValue::from_static("nonsense"));
    assert_eq!(
        client_ip(ip("10.0.0.1"), &garbled, &trusted),
        ip("10.0.0.1")
    );
    let mapped = ip("::ffff:192.0.2.5");
    assert_eq!(client_ip(mapped, &headers, &trusted), ip("192.0.2.5"));
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// The client `client_ip` finds behind trusted 10.0.0.0/8 (peer
/// 10.0.0.1) for these header lines.
fn behind_proxy(lines: &[(&'static str, &[u8])]) -> IpAddr {
    let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
    let mut headers = HeaderMap::new();
    for (name, value) in lines {
        headers.append(*name, HeaderValue::from_bytes(value).unwrap());
    }
    client_ip(ip("10.0.0.1"), &headers, &trusted)
}

#[test]
fn x_forwarded_for_entries_may_carry_a_port() {
    let xff = |value: &'static str| behind_proxy(&[(X_FORWARDED_FOR, value.as_bytes())]);
    assert_eq!(xff("1.2.3.4:5678"), ip("1.2.3.4"));
    assert_eq!(xff("[2001:db8::1]:443"), ip("2001:db8::1"));
    assert_eq!(xff("[2001:db8::1]"), ip("2001:db8::1"));
    assert_eq!(xff("2001:db8::1"), ip("2001:db8::1"));
    assert_eq!(xff("6.6.6.6, 1.2.3.4:5678, 10.0.0.7:80"), ip("1.2.3.4"));
    assert_eq!(xff("[::ffff:192.0.2.5]:80"), ip("192.0.2.5"));
    // Garbled, empty or naming no address: the chain ends at the last
    // trusted hop.
    for garbled in [
        "1.2.3.4:",
        "1.2.3.4:port",
        "[2001:db8::1",
        "2001:db8::1]:443",
        "1.2.3.4, ",
        "",
        "unknown",
        "_hidden",
    ] {
        assert_eq!(xff(garbled), ip("10.0.0.1"), "{garbled:?}");
    }
    assert_eq!(xff("1.2.3.4, nonsense, 10.0.0.7"), ip("10.0.0.7"));
    assert_eq!(
        behind_proxy(&[
            (X_FORWARDED_FOR, b"1.2.3.4"),
            (X_FORWARDED_FOR, b"5.6.7.8\xff"),
        ]),
        ip("10.0.0.1"),
        "a line that is not ASCII ends the chain, it does not vanish from it"
    );
}

#[test]
fn reads_rfc_7239_forwarded() {
    let forwarded = |value: &'static str| behind_proxy(&[("forwarded", value.as_bytes())]);
    assert_eq!(
        forwarded("for=192.0.2.60;proto=http;by=203.0.113.43"),
        ip("192.0.2.60")
    );
    assert_eq!(forwarded("For=\"192.0.2.60:4711\""), ip("192.0.2.60"));
    assert_eq!(
        forwarded("for=\"[2001:db8:cafe::17]\""),
        ip("2001:db8:cafe::17")
    );
    assert_eq!(
        forwarded("for=\"[2001:db8:cafe::17]:4711\""),
        ip("2001:db8:cafe::17")
    );
    assert_eq!(forwarded("for=\"192.0.2.60:_port-1\""), ip("192.0.2.60"));
    assert_eq!(
        forwarded("proto=https;for=\"192.\\0.2.60\""),
        ip("192.0.2.60")
    );
    // The brief's example, behind one more trusted proxy: read from the
    // right, the trusted proxy stepped over.
    assert_eq!(
        forwarded("for=192.0.2.60;proto=http, for=\"[2001:db8:cafe::17]:4711\", for=10.0.0.9"),
        ip("2001:db8:cafe::17")
    );
    assert_eq!(
        behind_proxy(&[
            ("forwarded", b"for=6.6.6.6"),
            ("forwarded", b"for=192.0.2.60, for=10.0.0.9"),
        ]),
        ip("192.0.2.60"),
        "lines are one list"
    );
    // `unknown` and obfuscated names end the chain at the last trusted
    // proxy; what a client wrote further left is never reached.
    assert_eq!(forwarded("for=192.0.2.60, for=unknown"), ip("10.0.0.1"));
    assert_eq!(
        forwarded("for=192.0.2.60, for=_hidden, for=10.0.0.9"),
        ip("10.0.0.9")
    );
    assert_eq!(forwarded("for=\"_gazonk\""), ip("10.0.0.1"));
    // Garbled elements end it too.
    for garbled in [
        "for=2001:db8::1",
        "for=\"2001:db8::1\"",
        "for=\"[2001:db8::1]x\"",
        "for=\"[2001:db8::1]:\"",
        "for=192.0.2.60:123456",
        "for=\"192.0.2.60",
        "for=192.0.2.60\"",
        "for=192.0.2.60;for=192.0.2.61",
        "proto=https",
        "for",
        "for=",
        "",
        "for=\"192.0.2.60, for=10.0.0.9\"",
        "for=\"6.6.6.6, for=192.0.2.60",
    ] {
        assert_eq!(forwarded(garbled), ip("10.0.0.1"), "{garbled:?}");
    }
    // A comma inside quotes does not split an element.
    assert_eq!(
        forwarded("for=192.0.2.60;ext=\"a, b\", for=10.0.0.9"),
        ip("192.0.2.60")
    );
    assert_eq!(
        behind_proxy(&[("forwarded", b"for=192.0.2.60, for=\xff")]),
        ip("10.0.0.1")
    );
}

#[test]
fn forwarded_counts_only_from_trusted_proxies() {
    let mut headers = HeaderMap::new();
    headers.insert("forwarded", HeaderValue::from_static("for=192.0.2.60"));
    let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
    assert_eq!(
        client_ip(ip("192.0.2.1"), &headers, &trusted),
        ip("192.0.2.1")
    );
    assert_eq!(client_ip(ip("10.0.0.1"), &headers, &[]), ip("10.0.0.1"));
}

#[test]
fn both_headers_must_name_the_same_client() {
    // A proxy writing both writes the same address into each.
    assert_eq!(
        behind_proxy(&[
            ("forwarded", b"for=6.6.6.6, for=\"192.0.2.60:1234\""),
            (X_FORWARDED_FOR, b"7.7.7.7, 192.0.2.60"),
        ]),
        ip("192.0.2.60")
    );
    // A proxy writing only X-Forwarded-For passes on the `Forwarded` a
    // client made up: believing it would let the client pick its
    // address. And the other way round.
    assert_eq!(
        behind_proxy(&[
            ("forwarded", b"for=6.6.6.6"),
            (X_FORWARDED_FOR, b"192.0.2.60"),
        ]),
        ip("10.0.0.1")
    );
    assert_eq!(
        behind_proxy(&[
            ("forwarded", b"for=192.0.2.60"),
            (X_FORWARDED_FOR, b"6.6.6.6"),
        ]),
        ip("10.0.0.1")
    );
    assert_eq!(
        behind_proxy(&[("forwarded", b"nonsense"), (X_FORWARDED_FOR, b"192.0.2.60")]),
        ip("10.0.0.1")
    );
}
