//! The one error type of the API. Every failure a handler can meet becomes an
//! [`ApiError`], and every `ApiError` leaves the server as an RFC 9457
//! `application/problem+json` response whose `code` is one of the shared
//! [`ProblemCode`]s, with the status that code always has.

use std::borrow::Cow;

use app::api::{problem::PROBLEM_JSON, FieldError, Problem, ProblemCode};
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

/// The RFC 6750 challenge a 401 from a bearer endpoint carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// No credentials were sent: `WWW-Authenticate: Bearer` (§3.1 says no
    /// error code then).
    Bare,
    /// A token was sent and is no good: `error="invalid_token"`, which tells
    /// a client that a fresh token may help.
    InvalidToken,
    /// The token is good but its user proved who they are longer ago than
    /// this many seconds allow (RFC 9470): re-authenticating may help.
    InsufficientUserAuthentication { max_age: u64 },
}

impl Challenge {
    fn header_value(self) -> HeaderValue {
        match self {
            Self::Bare => HeaderValue::from_static("Bearer"),
            // RFC 6750 names this error exactly as the problem code does.
            Self::InvalidToken => {
                HeaderValue::from_str(&format!("Bearer error=\"{}\"", ProblemCode::InvalidToken))
                    .unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
            }
            Self::InsufficientUserAuthentication { max_age } => HeaderValue::from_str(&format!(
                "Bearer error=\"{}\", max_age={max_age}",
                ProblemCode::InsufficientUserAuthentication
            ))
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// One entry per invalid field.
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),

    /// A request refused for the reason `code` names.
    #[error("{code}: {detail}")]
    Refused {
        code: ProblemCode,
        detail: Cow<'static, str>,
        challenge: Option<Challenge>,
        /// Seconds after which trying again may succeed (`Retry-After`).
        retry_after: Option<u64>,
    },

    /// A bug or an unexpected failure: logged in full, reported vaguely.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn new(code: ProblemCode, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::Refused {
            code,
            detail: detail.into(),
            challenge: None,
            retry_after: None,
        }
    }

    /// Refused for now: `Retry-After` tells when to try again (at least a
    /// second, rounded up).
    pub fn retry_later(
        code: ProblemCode,
        detail: impl Into<Cow<'static, str>>,
        after: std::time::Duration,
    ) -> Self {
        let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        Self::Refused {
            code,
            detail: detail.into(),
            challenge: None,
            retry_after: Some(seconds.max(1)),
        }
    }

    /// Too many requests of one kind from one client or for one target.
    pub fn rate_limited(after: std::time::Duration) -> Self {
        let seconds = after.as_secs().max(1);
        Self::retry_later(
            ProblemCode::RateLimited,
            format!("Too many attempts. Try again in {}.", in_words(seconds)),
            after,
        )
    }

    /// More work is waiting than the server takes on; nothing was done.
    pub fn overloaded() -> Self {
        Self::retry_later(
            ProblemCode::Overloaded,
            "The server is busy. Please try again in a moment.",
            std::time::Duration::from_secs(2),
        )
    }

    /// A 401 from a bearer endpoint for a token that was sent and refused.
    pub fn bad_token(code: ProblemCode, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::Refused {
            code,
            detail: detail.into(),
            challenge: Some(Challenge::InvalidToken),
            retry_after: None,
        }
    }

    /// A 401 for a sensitive action whose caller proved who they are more
    /// than `max_age` seconds ago (RFC 9470).
    pub fn insufficient_user_authentication(max_age: u64) -> Self {
        Self::Refused {
            code: ProblemCode::InsufficientUserAuthentication,
            detail: "For your security, confirm it's you: re-authenticate, then try again.".into(),
            challenge: Some(Challenge::InsufficientUserAuthentication { max_age }),
            retry_after: None,
        }
    }

    /// A 401 from a bearer endpoint called without a token.
    pub fn authentication_required() -> Self {
        Self::Refused {
            code: ProblemCode::AuthenticationRequired,
            detail: "Send an access token as `Authorization: Bearer <token>`.".into(),
            challenge: Some(Challenge::Bare),
            retry_after: None,
        }
    }

    /// The change would leave no enabled admin; `detail` says what to do
    /// instead.
    pub fn last_admin(detail: &'static str) -> Self {
        Self::new(ProblemCode::LastAdmin, detail)
    }

    /// An emailed link that is unknown, used or expired (never which).
    pub fn invalid_link() -> Self {
        Self::new(
            ProblemCode::InvalidLink,
            "This link is invalid, already used or expired. Ask for a new one.",
        )
    }

    pub fn not_found() -> Self {
        Self::new(ProblemCode::NotFound, "There is no such resource.")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            ProblemCode::MethodNotAllowed,
            "This resource does not support that method.",
        )
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            ProblemCode::PayloadTooLarge,
            "The request body is larger than the server accepts.",
        )
    }

    /// A dependency (usually the database) did not answer in time. The
    /// client may retry; nothing was lost.
    pub fn unavailable(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ProblemCode::ServiceUnavailable, detail)
    }

    pub fn code(&self) -> ProblemCode {
        match self {
            Self::Validation(_) => ProblemCode::ValidationFailed,
            Self::Refused { code, .. } => *code,
            Self::Internal(_) => ProblemCode::InternalError,
        }
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn to_problem(&self) -> Problem {
        match self {
            Self::Validation(errors) => Problem::new(
                ProblemCode::ValidationFailed,
                "Some fields are invalid; see `errors`.",
            )
            .with_errors(errors.clone()),
            Self::Refused { code, detail, .. } => Problem::new(*code, detail.clone()),
            Self::Internal(_) => Problem::new(
                ProblemCode::InternalError,
                "Something went wrong on our side. It has been logged.",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(error) => tracing::error!(error = ?error, "internal error"),
            Self::Refused {
                code: ProblemCode::ServiceUnavailable,
                detail,
                ..
            } => tracing::warn!(detail = %detail, "dependency unavailable"),
            _ => {}
        }
        let mut response = (self.status(), Json(self.to_problem())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Self::Refused {
            challenge: Some(challenge),
            ..
        } = &self
        {
            headers.insert(header::WWW_AUTHENTICATE, challenge.header_value());
        }
        match &self {
            Self::Refused {
                retry_after: Some(seconds),
                ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*seconds));
            }
            _ if self.code() == ProblemCode::ServiceUnavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// "3 seconds", "1 minute", "15 minutes", "2 hours": for details people read.
pub fn in_words(seconds: u64) -> String {
    let (amount, unit) = match seconds {
        0..=59 => (seconds.max(1), "second"),
        60..=3599 => (seconds.div_ceil(60), "minute"),
        _ => (seconds.div_ceil(3600), "hour"),
    };
    if amount == 1 {
        format!("1 {unit}")
    } else {
        format!("{amount} {unit}s")
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if is_transient(&error) {
            tracing::warn!(error = %error, "transient database error");
            return Self::unavailable("The database is busy; please retry.");
        }
        // A row this request writes names one that a request at the same
        // moment deleted (an account, with everything naming it): the
        // request's subject is gone, which is no fault of the server's.
        if matches!(&error, sqlx::Error::Database(db) if db.is_foreign_key_violation()) {
            return Self::new(
                ProblemCode::NotFound,
                "What this request refers to was deleted while it was being handled.",
            );
        }
        Self::Internal(anyhow::Error::new(error).context("database error"))
    }
}

/// Errors that mean "not now" rather than "never": the pool is exhausted or
/// closed, the connection dropped, or SQLite stayed locked past its timeout.
fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLITE_BUSY, SQLITE_LOCKED (and their extended codes); PostgreSQL
            // class 08 (connection), 40001 (serialization), 40P01 (a deadlock
            // the server broke by rolling this transaction back), 57P0x
            // (shutdown).
            matches!(
                code.as_ref(),
                "5" | "6" | "261" | "517" | "262" | "40001" | "40P01"
            ) || code.starts_with("08")
                || code.starts_with("57P")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_token_carries_the_invalid_token_challenge() {
        let response = ApiError::bad_token(ProblemCode::TokenExpired, "expired").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            r#"Bearer error="invalid_token""#
        );
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }

    #[test]
    fn a_missing_token_gets_a_bare_challenge() {
        let response = ApiError::authentication_required().into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }

    #[test]
    fn the_status_is_the_codes() {
        for &code in ProblemCode::ALL {
            assert_eq!(ApiError::new(code, "x").status().as_u16(), code.status());
        }
        assert_eq!(
            ApiError::Validation(Vec::new()).status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }

    #[test]
    fn internal_errors_do_not_leak_details() {
        let error = ApiError::Internal(anyhow::anyhow!("secret connection string"));
        let problem = error.to_problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("secret"));
    }

    #[test]
    fn waits_carry_retry_after_and_words() {
        let response =
            ApiError::rate_limited(std::time::Duration::from_millis(61_500)).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "62");
        assert_eq!(in_words(0), "1 second");
        assert_eq!(in_words(59), "59 seconds");
        assert_eq!(in_words(61), "2 minutes");
        assert_eq!(in_words(3600), "1 hour");
        let response = ApiError::overloaded().into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }

    #[test]
    fn pool_exhaustion_is_a_503() {
        let error = ApiError::from(sqlx::Error::PoolTimedOut);
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.to_problem().code, ProblemCode::ServiceUnavailable);
    }
}
