//! An account's activity log as the API shows it: what happened (sign-ins,
//! changes of credentials, ended sessions, refused passkeys), when, and
//! from where. Re-exported by `types`, where the other bodies are.

use serde::{Deserialize, Serialize};

/// What happened to an account, as its activity log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SecurityEventKind {
    SignedIn,
    SignInFailed,
    /// Too many failed sign-ins: the address had to wait.
    SignInLocked,
    /// A rotated refresh token came back; its session was ended.
    RefreshTokenReused,
    PasswordChanged,
    PasswordReset,
    SessionEnded,
    RoleChanged,
    AccountDisabled,
    AccountEnabled,
    /// An authenticator app was turned on (with new recovery codes).
    TotpEnabled,
    TotpDisabled,
    RecoveryCodesReplaced,
    /// A recovery code was spent to sign in.
    RecoveryCodeUsed,
    /// A link to confirm a new email address was mailed to it.
    EmailChangeRequested,
    /// The new email address was confirmed: it is the one to sign in with.
    EmailChanged,
    /// A change of email address was undone from the old address.
    EmailChangeUndone,
    /// A change of email address was cancelled before its link was opened.
    EmailChangeCancelled,
    /// In an admin's activity: they deleted an account.
    AccountDeleted,
    PasskeyAdded,
    PasskeyRemoved,
    /// A passkey's signature counter went backwards: it may be a copy.
    PasskeyCounterRegressed,
}

impl SecurityEventKind {
    pub const ALL: [Self; 22] = [
        Self::SignedIn,
        Self::SignInFailed,
        Self::SignInLocked,
        Self::RefreshTokenReused,
        Self::PasswordChanged,
        Self::PasswordReset,
        Self::SessionEnded,
        Self::RoleChanged,
        Self::AccountDisabled,
        Self::AccountEnabled,
        Self::TotpEnabled,
        Self::TotpDisabled,
        Self::RecoveryCodesReplaced,
        Self::RecoveryCodeUsed,
        Self::EmailChangeRequested,
        Self::EmailChanged,
        Self::EmailChangeUndone,
        Self::EmailChangeCancelled,
        Self::AccountDeleted,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
        Self::PasskeyCounterRegressed,
    ];

    /// The snake_case form stored and sent.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SignedIn => "signed_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignInLocked => "sign_in_locked",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::SessionEnded => "session_ended",
            Self::RoleChanged => "role_changed",
            Self::AccountDisabled => "account_disabled",
            Self::AccountEnabled => "account_enabled",
            Self::TotpEnabled => "totp_enabled",
            Self::TotpDisabled => "totp_disabled",
            Self::RecoveryCodesReplaced => "recovery_codes_replaced",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailChanged => "email_changed",
            Self::EmailChangeUndone => "email_change_undone",
            Self::EmailChangeCancelled => "email_change_cancelled",
            Self::AccountDeleted => "account_deleted",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::PasskeyCounterRegressed => "passkey_counter_regressed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// In words, for the activity list.
    pub const fn describe(self) -> &'static str {
        match self {
            Self::SignedIn => "Signed in",
            Self::SignInFailed => "Failed sign-in (wrong password)",
            Self::SignInLocked => "Sign-in paused after too many wrong passwords",
            Self::RefreshTokenReused => "A stolen or copied session was detected and ended",
            Self::PasswordChanged => "Password changed",
            Self::PasswordReset => "Password reset by email link",
            Self::SessionEnded => "Signed out",
            Self::RoleChanged => "Role changed",
            Self::AccountDisabled => "Account disabled",
            Self::AccountEnabled => "Account enabled",
            Self::TotpEnabled => "Authenticator app turned on",
            Self::TotpDisabled => "Authenticator app turned off",
            Self::RecoveryCodesReplaced => "New recovery codes made",
            Self::RecoveryCodeUsed => "Signed in with a recovery code",
            Self::EmailChangeRequested => "Change of email address asked for",
            Self::EmailChanged => "Email address changed",
            Self::EmailChangeUndone => "Change of email address undone from the old address",
            Self::EmailChangeCancelled => "Change of email address cancelled",
            Self::AccountDeleted => "Deleted an account",
            Self::PasskeyAdded => "Passkey added",
            Self::PasskeyRemoved => "Passkey removed",
            Self::PasskeyCounterRegressed => "A passkey that may have been copied was refused",
        }
    }

    /// Whether the owner should look twice at it.
    pub const fn is_warning(self) -> bool {
        matches!(
            self,
            Self::SignInFailed
                | Self::SignInLocked
                | Self::RefreshTokenReused
                | Self::TotpDisabled
                | Self::RecoveryCodeUsed
                | Self::EmailChanged
                | Self::EmailChangeUndone
                | Self::PasskeyRemoved
                | Self::PasskeyCounterRegressed
        )
    }
}

/// One entry of an account's activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecurityEvent {
    pub kind: SecurityEventKind,
    /// RFC 3339.
    pub occurred_at: String,
    pub ip_address: Option<String>,
    /// The browser and system, such as "Firefox on Linux", when known.
    pub device: Option<String>,
    /// More about it, such as why a session ended or the new role.
    pub detail: Option<String>,
}

/// An account's recent activity, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecurityEventList {
    pub events: Vec<SecurityEvent>,
}
