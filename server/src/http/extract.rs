//! Extractors whose rejections speak problem+json like the rest of the API.

use app::api::{
    values::{Role, SessionId, UserId},
    ProblemCode,
};
use axum::{
    extract::{
        rejection::JsonRejection, ConnectInfo, FromRequest, FromRequestParts, Path, Request,
    },
    http::{header, request::Parts, HeaderMap, StatusCode},
    Json,
};
use ipnet::IpNet;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::ApiContext;
use crate::{auth::jwt::Rejection, config::Settings, error::ApiError};

/// `axum::Json`, but a body that is not JSON, not the expected shape, or too
/// large becomes a 4xx problem rather than axum's plain-text rejection.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Every request body is an object. Serde's derive would also accept
        // an array for a struct (fields by position), so `[]` would pass as
        // "every field missing"; reading an object first refuses it as the
        // wrong shape it is.
        let object =
            match Json::<serde_json::Map<String, serde_json::Value>>::from_request(request, state)
                .await
            {
                Ok(Json(object)) => object,
                Err(rejection) => return Err(rejection_to_problem(rejection)),
            };
        T::deserialize(serde_json::Value::Object(object))
            .map(Self)
            .map_err(|error| {
                ApiError::new(
                    ProblemCode::InvalidBody,
                    format!("The body does not have the expected shape: {error}"),
                )
            })
    }
}

fn rejection_to_problem(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ProblemCode::UnsupportedMediaType,
            "Send the body as JSON with `Content-Type: application/json`.",
        ),
        JsonRejection::JsonSyntaxError(error) => ApiError::new(
            ProblemCode::MalformedBody,
            format!("The body is not valid JSON: {}", error.body_text()),
        ),
        JsonRejection::JsonDataError(error) => ApiError::new(
            ProblemCode::InvalidBody,
            format!(
                "The body does not have the expected shape: {}",
                error.body_text()
            ),
        ),
        rejection if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::payload_too_large()
        }
        rejection => ApiError::new(ProblemCode::UnreadableBody, rejection.body_text()),
    }
}

/// The caller of a protected endpoint, proven by a valid access token whose
/// session has not been revoked. No database query: the token carries the
/// claims and revocations are held in memory.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub role: Role,
}

impl FromRequestParts<ApiContext> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        context: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).ok_or_else(ApiError::authentication_required)?;
        let claims = context
            .access_tokens
            .verify(token)
            .map_err(|rejection| match rejection {
                Rejection::Expired => ApiError::bad_token(
                    ProblemCode::TokenExpired,
                    "The access token has expired; refresh it.",
                ),
                Rejection::Invalid => {
                    ApiError::bad_token(ProblemCode::InvalidToken, "The access token is invalid.")
                }
            })?;
        if context.revoked.contains(claims.sid) {
            return Err(ApiError::bad_token(
                ProblemCode::InvalidToken,
                "This session has been signed out.",
            ));
        }
        Ok(Self {
            user_id: claims.sub,
            session_id: claims.sid,
            role: claims.role,
        })
    }
}

/// A signed-in admin. Everyone else signed in gets 403 `forbidden`; the
/// role comes from the access token, whose session ends whenever the role
/// changes, so it is never stale.
#[derive(Debug, Clone)]
pub struct Admin(pub AuthUser);

impl FromRequestParts<ApiContext> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        context: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        let caller = AuthUser::from_request_parts(parts, context).await?;
        match caller.role {
            Role::Admin => Ok(Self(caller)),
            Role::User => Err(ApiError::new(
                ProblemCode::Forbidden,
                "Only an admin may do this.",
            )),
        }
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// An id from the path. One that does not parse names nothing that exists:
/// 404, like an id that parses but is not there.
pub struct PathId<T>(pub T);

impl<T, S> FromRequestParts<S> for PathId<T>
where
    T: std::str::FromStr + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        raw.parse().map(Self).map_err(|_| ApiError::not_found())
    }
}

/// The query string as `T`; one of the wrong shape (a limit that is not a
/// number, say) is a 400 problem.
pub struct QueryParams<T>(pub T);

impl<T, S> FromRequestParts<S> for QueryParams<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(query)| Self(query))
            .map_err(|rejection| ApiError::new(ProblemCode::InvalidQuery, rejection.body_text()))
    }
}

/// What a session records about the device that opened it.
pub use crate::auth::device::Device;

const MAX_USER_AGENT_CHARS: usize = 256;

impl FromRequestParts<ApiContext> for Device {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        context: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect());
        let ClientIp(ip) = ClientIp::from_request_parts(parts, context).await?;
        Ok(Self {
            user_agent,
            ip_address: Some(ip.to_string()),
        })
    }
}

/// The client's address: the socket's peer, unless that peer is one of
/// `TRUSTED_PROXIES`; then the nearest address in `X-Forwarded-For` that
/// is not a trusted proxy. Addresses a client wrote further left are never
/// believed: anyone can send the header.
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

fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|network| network.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.into_iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip.to_canonical();
                if !is_trusted(&client) {
                    break;
                }
            }
            // A garbled entry ends what can be believed.
            Err(_) => break,
        }
    }
    client
}

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Refuses requests a browser sent from a page of another origin. Requests
/// without `Origin` (non-browser clients, same-origin GETs) pass: the
/// SameSite=Strict cookie already keeps cross-site browsers out, and this is
/// the second lock on the door.
pub fn ensure_allowed_origin(headers: &HeaderMap, settings: &Settings) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default().trim_end_matches('/');
    let allowed = origin.eq_ignore_ascii_case(&settings.app_origin())
        || settings
            .allowed_origins
            .iter()
            .any(|allowed| origin.eq_ignore_ascii_case(allowed));
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(
            ProblemCode::OriginNotAllowed,
            "Requests from this origin may not use the session cookie.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn reads_bearer_tokens_case_insensitively() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        for (value, expected) in [
            ("Bearer abc", Some("abc")),
            ("bearer   abc ", Some("abc")),
            ("Basic abc", None),
            ("Bearer", None),
            ("Bearer ", None),
        ] {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(bearer_token(&headers), expected, "{value}");
        }
    }

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
}
