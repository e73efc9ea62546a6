//! Every way an access token can be wrong is a 401 with a Bearer challenge,
//! one issued under a longer lifetime than this server's included.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::{both_backends, helpers::*, login::decode_claims};

both_backends!(a_corpus_of_bad_tokens_is_refused);

async fn a_corpus_of_bad_tokens_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("corpus").await;
    let good = decode_claims(&session.access_token);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();

    let sign = |header: Header, claims: &Value, key: &[u8]| {
        encode(&header, claims, &EncodingKey::from_secret(key)).unwrap()
    };
    let typed = |alg| Header {
        typ: Some("at+jwt".into()),
        ..Header::new(alg)
    };
    let with = |field: &str, value: Value| {
        let mut claims = good.clone();
        claims[field] = value;
        claims
    };
    let secret = TEST_JWT_SECRET.as_bytes();
    let unsigned = {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
        let payload = URL_SAFE_NO_PAD.encode(good.to_string());
        format!("{header}.{payload}.")
    };
    let truncated = session.access_token[..session.access_token.len() - 10].to_owned();

    let corpus: Vec<(&str, Option<String>, &str)> = vec![
        ("no header", None, "authentication_required"),
        ("empty", Some(String::new()), "authentication_required"),
        ("garbage", Some("not.a.jwt".into()), "invalid_token"),
        ("truncated", Some(truncated), "invalid_token"),
        ("alg none", Some(unsigned), "invalid_token"),
        (
            "wrong key",
            Some(sign(
                typed(Algorithm::HS256),
                &good,
                b"another-secret-that-is-long-enough!!",
            )),
            "invalid_token",
        ),
        (
            "HS512 with the right key",
            Some(sign(typed(Algorithm::HS512), &good, secret)),
            "invalid_token",
        ),
        (
            "typ JWT",
            Some(sign(Header::new(Algorithm::HS256), &good, secret)),
            "invalid_token",
        ),
        (
            "wrong issuer",
            Some(sign(
                typed(Algorithm::HS256),
                &with("iss", json!("https://evil.example")),
                secret,
            )),
            "invalid_token",
        ),
        (
            "wrong audience",
            Some(sign(
                typed(Algorithm::HS256),
                &with("aud", json!("https://evil.example/api")),
                secret,
            )),
            "invalid_token",
        ),
        (
            "no expiry",
            Some(sign(
                typed(Algorithm::HS256),
                &{
                    let mut c = good.clone();
                    c.as_object_mut().unwrap().remove("exp");
                    c
                },
                secret,
            )),
            "invalid_token",
        ),
        (
            "expired",
            Some(sign(
                typed(Algorithm::HS256),
                &with("exp", json!(now - 1)),
                secret,
            )),
            "token_expired",
        ),
        (
            // Issued under a longer ACCESS_TOKEN_TTL_SECS before a restart:
            // still before its `exp`, but older than this server's lifetime,
            // which is as long as a revoked session is remembered.
            "older than the lifetime",
            Some(sign(
                typed(Algorithm::HS256),
                &{
                    let mut c = good.clone();
                    c["iat"] = json!(now - 15 * 60 - 1);
                    c["exp"] = json!(now + 60 * 60);
                    c
                },
                secret,
            )),
            "token_expired",
        ),
    ];

    for (case, token, code) in corpus {
        let mut request = app.client.get(app.url("/api/me"));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{case}");
        // RFC 6750 §3.1: `error=` only when a token was sent.
        let challenge = if code == "authentication_required" {
            "Bearer"
        } else {
            r#"Bearer error="invalid_token""#
        };
        assert_eq!(response.headers()["www-authenticate"], challenge, "{case}");
        let body = assert_problem(response, 401, code).await;
        assert!(body["detail"].is_string(), "{case}");
    }

    // The same claims, correctly signed, pass: the corpus failed for the
    // reasons it names.
    let resigned = sign(typed(Algorithm::HS256), &good, secret);
    assert_eq!(app.get_with_token("/api/me", &resigned).await.status(), 200);
    let lowercase_scheme = app
        .client
        .get(app.url("/api/me"))
        .header("authorization", format!("bearer {}", session.access_token))
        .send()
        .await
        .unwrap();
    assert_eq!(lowercase_scheme.status(), 200);
}
