//! Extractors whose rejections speak problem+json like the rest of the API.

use app::api::{
    values::{Role, SessionId, UserId},
    ProblemCode,
};
use axum::{
    extract::{rejection::JsonRejection, FromRequest, FromRequestParts, Path, Request},
    http::{header, request::Parts, HeaderMap, StatusCode},
    Json,
};
use serde::de::DeserializeOwned;

use super::ApiContext;
use crate::{
    auth::jwt::{Amr, Rejection},
    clock::unix_now,
    config::Settings,
    error::ApiError,
};

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
    /// When the user last proved who they are (the token's `auth_time`).
    pub auth_time: i64,
    pub amr: Vec<Amr>,
}

impl FromRequestParts<ApiContext> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        context: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        let token = match bearer_token(&parts.headers) {
            Bearer::Absent => return Err(ApiError::authentication_required()),
            Bearer::Malformed => {
                return Err(ApiError::bad_token(
                    ProblemCode::InvalidToken,
                    "The access token is malformed.",
                ))
            }
            Bearer::Token(token) => token,
        };
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
            auth_time: claims.auth_time,
            amr: claims.amr,
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

/// A signed-in user who proved who they are within `REAUTH_MAX_AGE_SECS`
/// (the access token's `auth_time`): the one gate of every sensitive
/// action. Anyone else signed in gets 401 `insufficient_user_authentication`
/// with the RFC 9470 challenge, which `POST /api/auth/reauthenticate` cures.
#[derive(Debug, Clone)]
pub struct RecentUser(pub AuthUser);

impl FromRequestParts<ApiContext> for RecentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        context: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        let caller = AuthUser::from_request_parts(parts, context).await?;
        ensure_recent(&caller, context, unix_now())?;
        Ok(Self(caller))
    }
}

/// An admin, recently authenticated: 403 for anyone else first, then the
/// step-up of [`RecentUser`].
#[derive(Debug, Clone)]
pub struct RecentAdmin(pub AuthUser);

impl FromRequestParts<ApiContext> for RecentAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        context: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        let Admin(caller) = Admin::from_request_parts(parts, context).await?;
        ensure_recent(&caller, context, unix_now())?;
        Ok(Self(caller))
    }
}

/// The id of the account the path names, asked for by that account itself
/// or by an admin. Anyone else signed in gets 404 `not_found`, exactly as
/// for an id that names nothing: whether another account exists is not
/// theirs to learn.
#[derive(Debug, Clone, Copy)]
pub struct OwnAccountOrAdmin(pub UserId);

impl FromRequestParts<ApiContext> for OwnAccountOrAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        context: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        let caller = AuthUser::from_request_parts(parts, context).await?;
        let PathId(user_id) = PathId::<UserId>::from_request_parts(parts, context).await?;
        if may_see_account(&caller, user_id) {
            Ok(Self(user_id))
        } else {
            Err(ApiError::not_found())
        }
    }
}

fn may_see_account(caller: &AuthUser, user_id: UserId) -> bool {
    caller.user_id == user_id || caller.role == Role::Admin
}

fn ensure_recent(caller: &AuthUser, context: &ApiContext, now: i64) -> Result<(), ApiError> {
    let max_age = context.settings.reauth_max_age.as_secs();
    if is_recent(caller.auth_time, max_age, now) {
        Ok(())
    } else {
        Err(ApiError::insufficient_user_authentication(max_age))
    }
}

/// A proof from the future (another instance's clock) counts as now; one
/// never made (0) never counts.
fn is_recent(auth_time: i64, max_age: u64, now: i64) -> bool {
    auth_time > 0 && u64::try_from(now - auth_time).map_or(true, |age| age <= max_age)
}

/// What the `Authorization` header says about a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bearer<'a> {
    /// No `Authorization` header, another scheme (`Basic …`), or `Bearer`
    /// with nothing after it: no token was sent, so the answer is the bare
    /// challenge of RFC 6750 §3.1 (`authentication_required`).
    Absent,
    /// `Bearer` followed by something that cannot be a token: bytes that are
    /// not ASCII, or characters outside RFC 6750's `b64token`. A token was
    /// sent and is no good, exactly like a token that fails verification:
    /// 401 `invalid_token` with `error="invalid_token"`.
    Malformed,
    Token(&'a str),
}

/// Reads the header as bytes: a value that is not visible ASCII must still
/// be recognised as a bearer token (and refused as one), not taken for a
/// missing header.
fn bearer_token(headers: &HeaderMap) -> Bearer<'_> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Bearer::Absent;
    };
    let value = value.as_bytes().trim_ascii();
    let (scheme, token) = match value.iter().position(u8::is_ascii_whitespace) {
        Some(space) => (&value[..space], value[space..].trim_ascii()),
        None => (value, &[][..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") || token.is_empty() {
        return Bearer::Absent;
    }
    if !is_b64token(token) {
        return Bearer::Malformed;
    }
    // `is_b64token` admitted only ASCII.
    std::str::from_utf8(token).map_or(Bearer::Malformed, Bearer::Token)
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
/// "+" / "/" ) *"="`. Every access token this server signs (a JWT) is one.
fn is_b64token(token: &[u8]) -> bool {
    let body_len = token.len() - token.iter().rev().take_while(|&&byte| byte == b'=').count();
    body_len > 0
        && token[..body_len]
            .iter()
            .all(|&byte| byte.is_ascii_alphanumeric() || b"-._~+/".contains(&byte))
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
pub use super::client_ip::ClientIp;
pub use crate::device::Device;

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
mod tests;
