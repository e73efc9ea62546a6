//! The findings of a security review, each held by a test that failed
//! before its fix: a bearer header with bytes that are not ASCII is a
//! refused token (not a missing one); client addresses behind a trusted
//! proxy may carry ports and come in RFC 7239 `Forwarded`; a revocation
//! outlives housekeeping under the longest access token lifetime; and
//! behind HTTPS the refresh cookie has the `__Secure-` prefix.

use reqwest::header::HeaderValue;
use serde_json::Value;

use crate::{
    both_backends,
    helpers::{
        assert_problem, cookie_named, set_cookie, spawn_app, spawn_app_with, Backend,
        STRONG_PASSWORD,
    },
};

both_backends!(
    a_bearer_header_that_is_not_ascii_is_an_invalid_token,
    forwarded_client_addresses_may_carry_ports_and_use_rfc_7239,
    a_revocation_outlives_housekeeping_under_the_longest_token_lifetime,
    behind_https_the_refresh_cookie_has_the_secure_prefix,
);

async fn a_bearer_header_that_is_not_ascii_is_an_invalid_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let me = |authorization: &'static [u8]| {
        let request = app.client.get(app.url("/api/me")).header(
            "authorization",
            HeaderValue::from_bytes(authorization).unwrap(),
        );
        async move { request.send().await.unwrap() }
    };

    for malformed in [
        &b"Bearer \xff\xfe"[..],
        b"bearer caf\xc3\xa9",
        b"Bearer a b",
    ] {
        let response = me(malformed).await;
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer error="invalid_token""#,
            "{}",
            String::from_utf8_lossy(malformed)
        );
        assert_problem(response, 401, "invalid_token").await;
    }

    // No bearer token at all stays a bare challenge, whatever the bytes of
    // another scheme.
    let response = me(b"Basic \xff\xfe").await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_problem(response, 401, "authentication_required").await;
}

async fn forwarded_client_addresses_may_carry_ports_and_use_rfc_7239(backend: Backend) {
    let app = spawn_app_with(backend, &[("TRUSTED_PROXIES", "127.0.0.1/32, ::1")]).await;
    let email = app.verified_user("forwarded").await;
    // The address the session opened by a sign-in with these headers records.
    let recorded = |headers: &'static [(&'static str, &'static str)]| {
        let mut request = app
            .client
            .post(app.url("/api/auth/login"))
            .json(&serde_json::json!({"email": email, "password": STRONG_PASSWORD}));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let app = &app;
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            let token = body["access_token"].as_str().unwrap();
            let response = app.get_with_token("/api/me/sessions", token).await;
            let body: Value = response.json().await.unwrap();
            let current = body["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|session| session["current"] == true)
                .unwrap()
                .clone();
            current["ip_address"].as_str().unwrap().to_owned()
        }
    };

    assert_eq!(
        recorded(&[("x-forwarded-for", "203.0.113.5, 198.51.100.7:5678")]).await,
        "198.51.100.7"
    );
    assert_eq!(
        recorded(&[("x-forwarded-for", "[2001:db8::1]:443")]).await,
        "2001:db8::1"
    );
    assert_eq!(
        recorded(&[(
            "forwarded",
            r#"for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711""#
        )])
        .await,
        "2001:db8:cafe::17"
    );
    // `unknown` ends what can be believed: the client is the proxy.
    assert_eq!(
        recorded(&[("forwarded", "for=192.0.2.60, for=unknown")]).await,
        "127.0.0.1"
    );
    // Both headers: believed only when they agree.
    assert_eq!(
        recorded(&[
            ("forwarded", "for=192.0.2.61"),
            ("x-forwarded-for", "192.0.2.61"),
        ])
        .await,
        "192.0.2.61"
    );
    assert_eq!(
        recorded(&[
            ("forwarded", "for=6.6.6.6"),
            ("x-forwarded-for", "192.0.2.61"),
        ])
        .await,
        "127.0.0.1"
    );
}

/// The longest lifetime `ACCESS_TOKEN_TTL_SECS` accepts.
const DAY: i64 = 24 * 60 * 60;

async fn a_revocation_outlives_housekeeping_under_the_longest_token_lifetime(backend: Backend) {
    let app = spawn_app_with(backend, &[("ACCESS_TOKEN_TTL_SECS", "86400")]).await;
    let session = app.signed_in("long-lived").await;
    let response = app
        .post_with_cookie("/api/auth/logout", Some(&session.refresh_token), None)
        .await;
    assert_eq!(response.status(), 204);
    // Signed out a day and half a minute ago: a token issued just before
    // may still have 30 seconds (and the clock margin) to live.
    app.execute(&format!(
        "UPDATE sessions SET revoked_at = revoked_at - {} WHERE user_id = '{}'",
        DAY + 30,
        session.user_id
    ))
    .await;

    server::housekeeping::sweep(&app.database, server::clock::unix_now())
        .await
        .unwrap();
    let kept = app
        .count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE user_id = '{}' AND revoked_at IS NOT NULL",
            session.user_id
        ))
        .await;
    assert_eq!(kept, 1, "the revoked session's row is its revocation");

    // An instance starting now loads the revocation and refuses the token.
    let restarted = app.another_instance().await;
    let response = restarted
        .get_with_token("/api/me", &session.access_token)
        .await;
    assert_problem(response, 401, "invalid_token").await;
}

async fn behind_https_the_refresh_cookie_has_the_secure_prefix(backend: Backend) {
    const SECURE: &str = "__Secure-refresh_token";
    let app = spawn_app_with(backend, &[("APP_URL", "https://127.0.0.1:3000")]).await;
    let email = app.verified_user("secure").await;
    let response = app.login(&email, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = cookie_named(&response, SECURE).expect("login sets the prefixed cookie");
    assert!(set_cookie(&response).is_none(), "and no unprefixed one");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.has(attribute), "{attribute}: {cookie:?}");
    }
    assert_eq!(cookie.attribute("Path"), Some("/api/auth"));

    let refresh = |cookies: String| {
        let request = app
            .client
            .post(app.url("/api/auth/refresh"))
            .header("cookie", cookies);
        async move { request.send().await.unwrap() }
    };
    // The prefixed cookie is what refresh reads; it rotates it.
    let response = refresh(format!("{SECURE}={}", cookie.value)).await;
    assert_eq!(response.status(), 200);
    let rotated = cookie_named(&response, SECURE).expect("a rotated prefixed cookie");
    assert_ne!(rotated.value, cookie.value);

    // The unprefixed name is not read there (it may have been planted over
    // plain http), and is cleared when sent.
    let response = refresh(format!("refresh_token={}", rotated.value)).await;
    let cleared = set_cookie(&response).expect("the unprefixed cookie is cleared");
    assert_eq!(cleared.value, "");
    assert_eq!(cleared.attribute("Max-Age"), Some("0"));
    assert_problem(response, 401, "invalid_refresh_token").await;

    // The session was untouched by that: the prefixed cookie still works.
    let response = refresh(format!("{SECURE}={}", rotated.value)).await;
    assert_eq!(response.status(), 200);
}
