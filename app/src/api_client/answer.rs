//! Reading an answer: whether a 401 asks for a fresh token (RFC 6750) or
//! for a fresh proof of who the user is (RFC 9470), and the body (or the
//! problem) of everything else.

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
    bearer_error(challenge) == Some(ProblemCode::InvalidToken.as_str())
}

/// A 401 that proving again who the user is could cure (RFC 9470): the
/// access token is fine, but the user signed in too long ago for this
/// action. Recognised by the challenge or by the problem's code.
pub(super) fn wants_step_up(response: &HttpResponse) -> bool {
    const CODE: ProblemCode = ProblemCode::InsufficientUserAuthentication;
    response.status == 401
        && (response.www_authenticate.as_deref().and_then(bearer_error) == Some(CODE.as_str())
            || serde_json::from_str::<Problem>(&response.body)
                .is_ok_and(|problem| problem.code == CODE))
}

/// The `error` parameter of a `Bearer` challenge.
fn bearer_error(challenge: &str) -> Option<&str> {
    let (scheme, params) = challenge.trim().split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    params.split(',').find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("error")
            .then(|| value.trim().trim_matches('"'))
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
    Err(refusal(&response))
}

/// The error of an answer that is not a success: one function for every
/// response type.
fn refusal(response: &HttpResponse) -> ClientError {
    match serde_json::from_str::<Problem>(&response.body) {
        Ok(problem) => problem.into(),
        Err(_) => ClientError::Unexpected {
            status: response.status,
        },
    }
}
