//! The endpoint descriptions' own checks: paths unique and under the API,
//! cookie endpoints where the cookie goes, the problems each shape implies,
//! paths and queries filled in, and summaries from doc comments.

use super::*;
use crate::api::{types::ListQuery, values::SessionId};

#[test]
fn every_endpoint_is_under_the_api_and_unique() {
    let every: Vec<_> = all().collect();
    for (index, endpoint) in every.iter().enumerate() {
        assert!(endpoint.path.starts_with(API_PREFIX), "{}", endpoint.path);
        assert!(
            !endpoint.summary.is_empty(),
            "{} has no summary",
            endpoint.name
        );
        for other in &every[index + 1..] {
            assert!(
                (endpoint.method, endpoint.path) != (other.method, other.path),
                "{} {} is described twice",
                endpoint.method.as_str(),
                endpoint.path
            );
            assert_ne!(endpoint.name, other.name);
        }
    }
}

#[test]
fn cookie_endpoints_live_where_the_cookie_is_sent() {
    for endpoint in all() {
        if endpoint.credentials == Credentials::RefreshCookie {
            assert!(endpoint.path.starts_with(AUTH_PREFIX), "{}", endpoint.path);
        }
    }
}

#[test]
fn implied_problems_follow_the_shape() {
    let login = Login::INFO.problems();
    assert!(login.contains(&ProblemCode::InvalidBody));
    assert!(login.contains(&ProblemCode::InvalidCredentials));
    assert!(!login.contains(&ProblemCode::InvalidToken));
    let me = Me::INFO.problems();
    assert!(me.contains(&ProblemCode::AuthenticationRequired));
    assert!(!me.contains(&ProblemCode::InvalidBody));
    assert!(Refresh::INFO
        .problems()
        .contains(&ProblemCode::OriginNotAllowed));
    assert!(!Health::INFO
        .problems()
        .contains(&ProblemCode::ServiceUnavailable));
    const { assert!(!Logout::INFO.has_response_body) };
    const { assert!(Login::INFO.has_request_body) };
}

#[test]
fn ids_fill_their_path() {
    let id = SessionId::from_uuid(uuid::Uuid::from_u128(7));
    assert_eq!(
        id.fill(EndMySession::PATH),
        "/api/me/sessions/00000000-0000-0000-0000-000000000007"
    );
    assert_eq!(().fill(Me::PATH), "/api/me");
}

#[test]
fn list_queries_are_encoded() {
    let query = ListQuery {
        q: Some("ada l&o".into()),
        limit: Some(5),
        cursor: None,
    };
    assert_eq!(
        query.fill(ListUsers::PATH),
        "/api/users?q=ada%20l%26o&limit=5"
    );
    assert_eq!(ListQuery::default().fill(ListUsers::PATH), "/api/users");
}

#[test]
fn summaries_come_from_the_doc_comments() {
    assert_eq!(Me::SUMMARY, "The signed-in user.");
}
