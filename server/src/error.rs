//! The one error type of the API. Every failure a handler can meet becomes an
//! [`ApiError`], and every `ApiError` leaves the server as an RFC 9457
//! `application/problem+json` response with a stable `code`.

use app::api::{problem::PROBLEM_JSON, FieldError, Problem};
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// One entry per invalid field.
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),

    /// A request the server understood but will not act on, with the code
    /// saying why (for example `malformed_body` or `invalid_token`).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },

    /// Missing or unusable credentials. `bearer` adds the RFC 6750
    /// `WWW-Authenticate` challenge for endpoints that read a Bearer token.
    #[error("{detail}")]
    Unauthorized {
        code: &'static str,
        detail: String,
        bearer: bool,
    },

    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },

    #[error("no such resource")]
    NotFound,

    #[error("method not allowed")]
    MethodNotAllowed,

    #[error("request body too large")]
    PayloadTooLarge,

    #[error("{0}")]
    UnsupportedMediaType(String),

    /// A dependency (usually the database) did not answer in time. The
    /// client may retry; nothing was lost.
    #[error("{0}")]
    Unavailable(String),

    /// A bug or an unexpected failure: logged in full, reported vaguely.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            detail: detail.into(),
        }
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            detail: detail.into(),
            bearer: false,
        }
    }

    pub fn bearer(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            detail: detail.into(),
            bearer: true,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        let title = status.canonical_reason().unwrap_or("Error");
        let problem = |code: &str, detail: &str| Problem::new(status.as_u16(), code, title, detail);
        match self {
            Self::Validation(errors) => problem(
                "validation_failed",
                "Some fields are invalid; see `errors`.",
            )
            .with_errors(errors.clone()),
            Self::BadRequest { code, detail }
            | Self::Unauthorized { code, detail, .. }
            | Self::Forbidden { code, detail } => problem(code, detail),
            Self::NotFound => problem("not_found", "There is no such resource."),
            Self::MethodNotAllowed => problem(
                "method_not_allowed",
                "This resource does not support that method.",
            ),
            Self::PayloadTooLarge => problem(
                "payload_too_large",
                "The request body is larger than the server accepts.",
            ),
            Self::UnsupportedMediaType(detail) => problem("unsupported_media_type", detail),
            Self::Unavailable(detail) => problem("service_unavailable", detail),
            Self::Internal(_) => problem(
                "internal_error",
                "Something went wrong on our side. It has been logged.",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(error) => tracing::error!(error = ?error, "internal error"),
            Self::Unavailable(detail) => tracing::warn!(detail, "dependency unavailable"),
            _ => {}
        }
        let mut response = (self.status(), Json(self.to_problem())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match &self {
            Self::Unauthorized { bearer: true, .. } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer error="invalid_token""#),
                );
            }
            Self::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if is_transient(&error) {
            tracing::warn!(error = %error, "transient database error");
            return Self::Unavailable("The database is busy; please retry.".into());
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
            // class 08 (connection), 40001 (serialization), 57P0x (shutdown).
            matches!(code.as_ref(), "5" | "6" | "261" | "517" | "262" | "40001")
                || code.starts_with("08")
                || code.starts_with("57P")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_bearer_errors_carry_a_challenge() {
        let response = ApiError::bearer("token_expired", "expired").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            r#"Bearer error="invalid_token""#
        );
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }

    #[test]
    fn internal_errors_do_not_leak_details() {
        let error = ApiError::Internal(anyhow::anyhow!("secret connection string"));
        let problem = error.to_problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("secret"));
    }

    #[test]
    fn pool_exhaustion_is_a_503() {
        let error = ApiError::from(sqlx::Error::PoolTimedOut);
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.to_problem().code, "service_unavailable");
    }
}
