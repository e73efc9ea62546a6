//! Reading an answer: whether a 401 asks for a fresh token (RFC 6750), and
//! the body (or the problem) of everything else.

use serde::de::DeserializeOwned;

use super::{ClientError, HttpResponse};
use crate::api::{Problem, ProblemCode};

/// A 401 that a fresh access token could cure, by the standard's words
/// (RFC 6750 §3): a `Bearer` challenge with `error="invalid_token"`. A bare
/// challenge means no token was sent; other errors are not about the token.
pub(super) fn wants_renewal(response: &HttpResponse) -> bool {
    response.status == 401
        && response
            .www_authenticate
            .as_deref()
            .is_some_and(is_invalid_token_challenge)
}

pub(super) fn is_invalid_token_challenge(challenge: &str) -> bool {
    let challenge = challenge.trim();
    let Some((scheme, params)) = challenge.split_once(char::is_whitespace) else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && params.split(',').any(|param| {
            param.split_once('=').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("error")
                    && value.trim().trim_matches('"') == ProblemCode::InvalidToken.as_str()
            })
        })
}

/// A value with the version of it that the server named (`ETag`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    pub value: T,
    pub etag: Option<String>,
}

pub(super) fn decode<T: DeserializeOwned>(
    response: HttpResponse,
) -> Result<Versioned<T>, ClientError> {
    if (200..300).contains(&response.status) {
        let body = if response.body.trim().is_empty() {
            "null"
        } else {
            response.body.as_str()
        };
        let value =
            serde_json::from_str(body).map_err(|error| ClientError::Decode(error.to_string()))?;
        return Ok(Versioned {
            value,
            etag: response.etag,
        });
    }
    match serde_json::from_str::<Problem>(&response.body) {
        Ok(problem) => Err(problem.into()),
        Err(_) => Err(ClientError::Unexpected {
            status: response.status,
        }),
    }
}
