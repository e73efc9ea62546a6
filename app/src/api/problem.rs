//! RFC 9457 problem details, the body of every API error, and the one list
//! of problem codes: the server answers with these, the client branches on
//! them and the OpenAPI document lists them, so a code cannot be misspelled
//! on one side only.

use serde::{Deserialize, Serialize};

/// The media type of every error body the API returns.
pub const PROBLEM_JSON: &str = "application/problem+json";

macro_rules! problem_codes {
    ($($(#[$doc:meta])* $variant:ident = ($code:literal, $status:literal, $title:literal),)*) => {
        /// Why a request failed: a stable identifier that clients branch on.
        /// Each code has exactly one HTTP status.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum ProblemCode {
            $($(#[$doc])* $variant,)*
        }

        impl ProblemCode {
            /// Every code, in the order of the list above.
            pub const ALL: &'static [ProblemCode] = &[$(ProblemCode::$variant,)*];

            /// The snake_case form used on the wire.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code,)* }
            }

            /// The HTTP status every response with this code carries.
            pub const fn status(self) -> u16 {
                match self { $(Self::$variant => $status,)* }
            }

            /// A short, fixed summary for people.
            pub const fn title(self) -> &'static str {
                match self { $(Self::$variant => $title,)* }
            }
        }
    };
}

problem_codes! {
    /// A body that is not JSON.
    MalformedBody = ("malformed_body", 400, "Malformed body"),
    /// JSON of the wrong shape (not an object, or fields of the wrong type).
    InvalidBody = ("invalid_body", 400, "Invalid body"),
    /// A body that could not be read at all.
    UnreadableBody = ("unreadable_body", 400, "Unreadable body"),
    /// Query parameters of the wrong type.
    InvalidQuery = ("invalid_query", 400, "Invalid query"),
    /// A sign-in's second-factor challenge, or a passkey ceremony's, that
    /// is unknown, used, expired or out of tries: start again.
    InvalidChallenge = ("invalid_challenge", 400, "Invalid challenge"),
    /// A passkey credential that is not what `navigator.credentials`
    /// answers (missing, or of the wrong shape).
    MalformedCredential = ("malformed_credential", 400, "Malformed credential"),
    /// The passkey's answer does not verify: made for another site or
    /// origin, another challenge, a bad signature, or without user
    /// verification.
    PasskeyRejected = ("passkey_rejected", 400, "Passkey not accepted"),
    /// A passkey no account has (never added, or removed since).
    UnknownPasskey = ("unknown_passkey", 400, "Unknown passkey"),
    /// A passkey of another account, where the signed-in account's own is
    /// asked for.
    PasskeyOfAnotherAccount = ("passkey_of_another_account", 400, "Passkey of another account"),
    /// The passkey's signature counter went backwards: it may have been
    /// copied. It was refused and the owner's activity records it.
    PasskeyCounterRegressed = ("passkey_counter_regressed", 400, "Passkey counter went backwards"),
    /// An emailed link that is unknown, used or expired.
    InvalidLink = ("invalid_link", 400, "Invalid link"),
    /// A bearer endpoint called without an access token.
    AuthenticationRequired = ("authentication_required", 401, "Authentication required"),
    /// An access token that is malformed, forged or of a signed-out session.
    InvalidToken = ("invalid_token", 401, "Invalid access token"),
    /// An access token past its expiry: refresh it.
    TokenExpired = ("token_expired", 401, "Access token expired"),
    /// Wrong email address or password (never says which).
    InvalidCredentials = ("invalid_credentials", 401, "Invalid credentials"),
    /// A sensitive action, and the user last proved who they are too long
    /// ago: re-authenticate (`POST /api/auth/reauthenticate`) and retry.
    /// `WWW-Authenticate` says `error="insufficient_user_authentication"`
    /// with the `max_age` allowed (RFC 9470).
    InsufficientUserAuthentication = ("insufficient_user_authentication", 401, "Recent authentication required"),
    /// The refresh cookie is missing, expired or of an ended session.
    InvalidRefreshToken = ("invalid_refresh_token", 401, "Invalid refresh token"),
    /// A rotated refresh token came back: the session was ended.
    RefreshTokenReused = ("refresh_token_reused", 401, "Refresh token reused"),
    /// The account exists but its address is not confirmed yet.
    EmailNotVerified = ("email_not_verified", 403, "Email address not verified"),
    /// A cookie endpoint called from a page of another origin.
    OriginNotAllowed = ("origin_not_allowed", 403, "Origin not allowed"),
    /// Signed in, but without the role this needs.
    Forbidden = ("forbidden", 403, "Forbidden"),
    /// The right password of an account an admin has disabled.
    AccountDisabled = ("account_disabled", 403, "Account disabled"),
    /// No such resource (or not one the caller may know about).
    NotFound = ("not_found", 404, "Not found"),
    MethodNotAllowed = ("method_not_allowed", 405, "Method not allowed"),
    /// The account already has that second factor on: turn it off first.
    SecondFactorEnabled = ("second_factor_enabled", 409, "Second factor already on"),
    /// The account has no second factor to do this with.
    SecondFactorNotEnabled = ("second_factor_not_enabled", 409, "No second factor"),
    /// The passkey is already registered.
    PasskeyExists = ("passkey_exists", 409, "Passkey already added"),
    /// The change would leave no enabled admin.
    LastAdmin = ("last_admin", 409, "Last admin"),
    /// Another account took the new email address since the change was
    /// asked for: nothing changed.
    EmailTaken = ("email_taken", 409, "Email address taken"),
    /// An admin's action on their own account that the account page does
    /// instead (deleting it: `DELETE /api/me`).
    OwnAccount = ("own_account", 409, "Own account"),
    /// `If-Match` names a version that is no longer current: nothing changed.
    PreconditionFailed = ("precondition_failed", 412, "Precondition failed"),
    PayloadTooLarge = ("payload_too_large", 413, "Payload too large"),
    /// A body sent without `Content-Type: application/json`.
    UnsupportedMediaType = ("unsupported_media_type", 415, "Unsupported media type"),
    /// Some fields are invalid; `errors` says which and why.
    ValidationFailed = ("validation_failed", 422, "Validation failed"),
    /// An update without `If-Match`: send the `ETag` you read.
    PreconditionRequired = ("precondition_required", 428, "Precondition required"),
    /// Too many requests from this client or for this account or address;
    /// `Retry-After` says when to try again.
    RateLimited = ("rate_limited", 429, "Too many requests"),
    /// Too many wrong passwords for this address in a row: sign-in waits
    /// for `Retry-After` seconds (or a password reset).
    SignInLocked = ("sign_in_locked", 429, "Too many failed sign-ins"),
    /// A bug on the server's side; it has been logged.
    InternalError = ("internal_error", 500, "Internal error"),
    /// A dependency (usually the database) is not answering; retry later.
    ServiceUnavailable = ("service_unavailable", 503, "Service unavailable"),
    /// Too much work is already waiting (password hashing); retry after
    /// `Retry-After` seconds.
    Overloaded = ("overloaded", 503, "Overloaded"),
}

impl ProblemCode {
    /// A passkey's answer was not accepted; another try, with a fresh
    /// challenge, may be.
    pub const fn is_passkey_refusal(self) -> bool {
        matches!(
            self,
            Self::InvalidChallenge
                | Self::MalformedCredential
                | Self::PasskeyRejected
                | Self::UnknownPasskey
                | Self::PasskeyOfAnotherAccount
                | Self::PasskeyCounterRegressed
        )
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// An RFC 9457 problem. `code` is the stable identifier; `title` and
/// `detail` are for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A relative URI naming the kind of problem: `/problems/{code}`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: ProblemCode,
    /// Present with `validation_failed`: one entry per invalid field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl Problem {
    /// The `type` URI for a code: a relative reference, resolved by clients
    /// against the API's own origin.
    pub fn type_for(code: ProblemCode) -> String {
        format!("/problems/{code}")
    }

    pub fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            type_uri: Self::type_for(code),
            title: code.title().to_owned(),
            status: code.status(),
            detail: detail.into(),
            code,
            errors: Vec::new(),
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// The message for one field, if the server rejected it.
    pub fn field_message(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_type_and_omits_empty_errors() {
        let problem = Problem::new(ProblemCode::NotFound, "No such thing.");
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["type"], "/problems/not_found");
        assert_eq!(json["code"], "not_found");
        assert_eq!(json["status"], 404);
        assert!(json.get("errors").is_none());
    }

    #[test]
    fn finds_field_messages_and_round_trips() {
        let problem = Problem::new(ProblemCode::ValidationFailed, "Fix it.")
            .with_errors(vec![FieldError::new("email", "bad")]);
        assert_eq!(problem.field_message("email"), Some("bad"));
        assert_eq!(problem.field_message("name"), None);
        let json = serde_json::to_string(&problem).unwrap();
        let back: Problem = serde_json::from_str(&json).unwrap();
        assert_eq!(back, problem);
    }

    #[test]
    fn every_code_serializes_as_its_wire_name_with_a_client_or_server_status() {
        for &code in ProblemCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str());
            let back: ProblemCode = serde_json::from_value(json).unwrap();
            assert_eq!(back, code);
            assert!((400..600).contains(&code.status()), "{code}");
            assert!(!code.title().is_empty());
        }
    }

    #[test]
    fn a_bad_link_and_a_bad_token_are_different_problems() {
        assert_eq!(ProblemCode::InvalidLink.status(), 400);
        assert_eq!(ProblemCode::InvalidToken.status(), 401);
    }
}
