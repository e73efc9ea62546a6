//! Bodies of the account's lifecycle: changing its email address (and
//! undoing that from the old address), and the export of its data. Kept
//! apart from `types` only for size; the same rules apply (request fields
//! default to empty, so a missing one is a field error, not a bad body).

use serde::{Deserialize, Serialize};

use super::{
    types::{Person, SecondFactorStatus, SecurityEvent, SessionInfo, User},
    values::Email,
};

/// Asks to move the signed-in account to another email address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ChangeEmailRequest {
    pub email: String,
}

/// The token of an emailed link about a change of address: the
/// confirmation sent to the new address, or the undo sent to the old one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct EmailLinkRequest {
    pub token: String,
}

/// A change of address waiting for its confirmation link to be opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PendingEmailChange {
    pub new_email: Email,
    /// RFC 3339: when the link stops working.
    pub expires_at: String,
}

/// Whether a change of address waits for its confirmation link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EmailChangeStatus {
    pub pending: Option<PendingEmailChange>,
}

/// Everything the account holds about its owner, as a download. It holds
/// no secret: no password hash, no token, no authenticator-app secret,
/// no recovery code, and no hash of any of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccountExport {
    /// RFC 3339.
    pub exported_at: String,
    pub profile: User,
    pub pending_email_change: Option<PendingEmailChange>,
    /// The live sessions, the most recently used first.
    pub sessions: Vec<SessionInfo>,
    pub second_factor: SecondFactorStatus,
    /// The whole activity log kept for the account, newest first.
    pub activity: Vec<SecurityEvent>,
    /// The people of the directory this account added, oldest first.
    pub people_created: Vec<Person>,
}
