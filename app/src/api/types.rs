//! Request and response bodies of the JSON API.
//!
//! Request fields default to empty so that a missing field is reported as a
//! field error (422) rather than as a body that failed to parse.

use serde::{Deserialize, Serialize};

pub use super::activity::{SecurityEvent, SecurityEventKind, SecurityEventList};
pub use super::values::{DisplayName, Email, PersonId, Role, SessionId, UserId};

/// The body of the health and readiness probes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StatusResponse {
    pub status: String,
}

impl StatusResponse {
    pub fn ok() -> Self {
        Self {
            status: "ok".into(),
        }
    }
}

/// A human-readable acknowledgement, for requests whose outcome the server
/// deliberately does not reveal (registration, resending a link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MessageResponse {
    pub message: String,
}

impl MessageResponse {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct VerifyEmailRequest {
    pub token: String,
    /// The password chosen at sign-up: the link confirms only the sign-up
    /// that chose it, so a second sign-up for the same address with another
    /// password can never be confirmed by the owner's click.
    pub password: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ResendVerificationRequest {
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// Keep the session across browser restarts (a persistent cookie and
    /// the long session lifetime). Without it the cookie lasts as long as
    /// the browser session and the session at most `SESSION_TTL_SECS`.
    pub remember: bool,
}

impl Default for LoginRequest {
    fn default() -> Self {
        Self {
            email: String::new(),
            password: String::new(),
            remember: true,
        }
    }
}

/// Asks for a password reset link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ForgotPasswordRequest {
    pub email: String,
}

/// Sets a new password with the token from a reset link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ResetPasswordRequest {
    pub token: String,
    pub password: String,
}

/// Changes the signed-in user's password.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Proof, again, of who the signed-in user is, before a sensitive action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ReauthenticateRequest {
    pub password: String,
    /// With a second factor on: a code from the authenticator app, or an
    /// unused recovery code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// A new authenticator-app secret, waiting for its first code: type the
/// secret or scan the QR code, then confirm with a code it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TotpEnrollment {
    /// The secret, in base32 as authenticator apps take it typed in.
    pub secret: String,
    /// The `otpauth://totp/…` URI the QR code holds.
    pub otpauth_uri: String,
    /// The QR code of `otpauth_uri`, as an SVG image.
    pub qr_svg: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ConfirmTotpRequest {
    pub code: String,
}

/// Single-use codes for when the authenticator app is not at hand: shown
/// this once, stored only as hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// Which second factors the account has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecondFactorStatus {
    /// An authenticator app is on.
    pub totp: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
}

/// One place where the user is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub id: SessionId,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339: the sign-in or the latest token renewal.
    pub last_used_at: String,
    /// The browser and system, such as "Firefox on Linux".
    pub device: String,
    pub ip_address: Option<String>,
    /// Whether this is the session of the request's own access token.
    pub current: bool,
}

/// A page of the signed-in user's live sessions, the most recently used
/// first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
    /// Pass as `cursor` for the next page; absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Changes to the signed-in user's own profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct UpdateProfileRequest {
    pub name: String,
}

/// A user as the API shows it (never with secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: DisplayName,
    pub role: Role,
    pub email_verified: bool,
    /// Disabled by an admin: cannot sign in.
    pub disabled: bool,
    /// RFC 3339.
    pub created_at: String,
}

/// What login and refresh answer: a short-lived access token for the
/// `Authorization: Bearer` header, and who it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    pub user: User,
}

/// A kind of second factor a sign-in can be finished with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorMethod {
    /// A code from the authenticator app.
    Totp,
    /// One of the account's unused recovery codes.
    RecoveryCode,
    /// One of the account's passkeys (`POST
    /// /api/auth/login/second-factor/passkey-options`).
    Passkey,
}

/// The password was right and the account has a second factor: finish
/// the sign-in with `POST /api/auth/login/second-factor` within
/// `expires_in` seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecondFactorChallenge {
    /// Single use; good for a few tries.
    pub challenge: String,
    /// What the account can finish with.
    pub methods: Vec<SecondFactorMethod>,
    pub expires_in: u64,
}

/// What a sign-in answers: the tokens (200), or, for an account with a
/// second factor, the challenge to finish with (202).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum LoginResponse {
    SignedIn(TokenResponse),
    SecondFactor(SecondFactorChallenge),
}

/// The second step of a sign-in: the challenge, and a `code` from the
/// authenticator app or a `recovery_code`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SecondFactorRequest {
    pub challenge: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_code: Option<String>,
}

/// A message in the development outbox (`APP_ENV=development` only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MailboxMessage {
    pub id: String,
    pub to: String,
    pub subject: String,
    /// RFC 3339.
    pub sent_at: String,
    pub text: String,
    pub links: Vec<String>,
}

/// The newest messages of the development outbox, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Mailbox {
    pub messages: Vec<MailboxMessage>,
}

/// The query of a list: a search, a page size and where to continue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// Matches any part of the email address or the name, ignoring case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// 1 to 100; 20 when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// One page of users, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserPage {
    pub users: Vec<User>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// An admin's change to an account; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct UpdateUserRequest {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// A person of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    pub email: Option<Email>,
    pub phone: Option<String>,
    pub notes: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Absent once that account is deleted.
    pub created_by: Option<UserId>,
    pub updated_by: Option<UserId>,
}

/// A person as created or replaced; empty optional fields mean "none".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PersonInput {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub notes: String,
}

/// One page of people, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PersonPage {
    pub people: Vec<Person>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}
