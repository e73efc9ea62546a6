//! The extractors' own rules, outside a request: how recent a proof must
//! be, and what an `Authorization` header must hold to carry a token.

use axum::http::HeaderValue;

use super::*;

#[test]
fn recent_means_within_max_age_and_never_unknown() {
    assert!(is_recent(1_000, 300, 1_300));
    assert!(!is_recent(1_000, 300, 1_301));
    assert!(is_recent(1_010, 300, 1_000), "a clock a little ahead");
    assert!(!is_recent(0, 300, 100), "no proof on record");
}

#[test]
fn reads_bearer_tokens_case_insensitively() {
    let mut headers = HeaderMap::new();
    assert_eq!(bearer_token(&headers), Bearer::Absent);
    for (value, expected) in [
        ("Bearer abc", Bearer::Token("abc")),
        ("bearer   abc ", Bearer::Token("abc")),
        ("Bearer\tabc", Bearer::Token("abc")),
        ("Bearer a.b-c_d~e+f/g==", Bearer::Token("a.b-c_d~e+f/g==")),
        ("Basic abc", Bearer::Absent),
        ("Bearer", Bearer::Absent),
        ("Bearer ", Bearer::Absent),
        ("Bearerabc", Bearer::Absent),
    ] {
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
        assert_eq!(bearer_token(&headers), expected, "{value}");
    }
}

#[test]
fn a_bearer_value_that_cannot_be_a_token_is_malformed_not_absent() {
    let mut headers = HeaderMap::new();
    for value in [
        &b"Bearer \xff\xfe"[..],
        b"Bearer abc\xe9",
        "Bearer jeton-\u{e9}t\u{e9}".as_bytes(),
        b"bearer \x80",
        b"Bearer abc def",
        b"Bearer a,b",
        b"Bearer \"abc\"",
        b"Bearer ==",
        b"Bearer a=b",
    ] {
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(value).unwrap(),
        );
        assert_eq!(
            bearer_token(&headers),
            Bearer::Malformed,
            "{}",
            String::from_utf8_lossy(value)
        );
    }
    // Another scheme stays "no bearer token", whatever its bytes.
    for value in [&b"Basic \xff\xfe"[..], b"\xffBearer abc"] {
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(value).unwrap(),
        );
        assert_eq!(bearer_token(&headers), Bearer::Absent);
    }
}

#[test]
fn an_account_is_seen_by_itself_and_by_admins_only() {
    let me = UserId::from_uuid(uuid::Uuid::from_u128(1));
    let someone_else = UserId::from_uuid(uuid::Uuid::from_u128(2));
    let caller = |role| AuthUser {
        user_id: me,
        session_id: SessionId::from_uuid(uuid::Uuid::from_u128(3)),
        role,
        auth_time: 1,
        amr: Vec::new(),
    };
    assert!(may_see_account(&caller(Role::User), me));
    assert!(!may_see_account(&caller(Role::User), someone_else));
    assert!(may_see_account(&caller(Role::Admin), someone_else));
}
