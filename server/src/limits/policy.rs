//! The endpoints that are limited, by name: what the variables, the
//! metrics and the buckets call them. Kept apart from the buckets so that
//! the metrics can name a policy without depending on the limits.

/// The endpoints that are limited, each with buckets of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Login,
    Register,
    ResendVerification,
    VerifyEmail,
    ForgotPassword,
    ResetPassword,
    ChangePassword,
    /// Asking to move an account to another address (mails that address).
    ChangeEmail,
    /// The two links of a change of address: confirm and undo.
    EmailChangeLink,
    Refresh,
    /// Passkey ceremonies: their options, and the answers (signatures, so
    /// nothing to guess, but each costs a verification).
    Passkey,
}

impl Policy {
    pub const ALL: [Policy; 11] = [
        Self::Login,
        Self::Register,
        Self::ResendVerification,
        Self::VerifyEmail,
        Self::ForgotPassword,
        Self::ResetPassword,
        Self::ChangePassword,
        Self::ChangeEmail,
        Self::EmailChangeLink,
        Self::Refresh,
        Self::Passkey,
    ];

    /// The middle of the variable names: `RATE_LIMIT_{name}_PER_IP`.
    pub const fn variable_name(self) -> &'static str {
        match self {
            Self::Login => "LOGIN",
            Self::Register => "REGISTER",
            Self::ResendVerification => "RESEND_VERIFICATION",
            Self::VerifyEmail => "VERIFY_EMAIL",
            Self::ForgotPassword => "FORGOT_PASSWORD",
            Self::ResetPassword => "RESET_PASSWORD",
            Self::ChangePassword => "CHANGE_PASSWORD",
            Self::ChangeEmail => "CHANGE_EMAIL",
            Self::EmailChangeLink => "EMAIL_CHANGE_LINK",
            Self::Refresh => "REFRESH",
            Self::Passkey => "PASSKEY",
        }
    }

    /// Its name in metrics: `rate_limit_refusals_total{policy="login"}`.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Register => "register",
            Self::ResendVerification => "resend_verification",
            Self::VerifyEmail => "verify_email",
            Self::ForgotPassword => "forgot_password",
            Self::ResetPassword => "reset_password",
            Self::ChangePassword => "change_password",
            Self::ChangeEmail => "change_email",
            Self::EmailChangeLink => "email_change_link",
            Self::Refresh => "refresh",
            Self::Passkey => "passkey",
        }
    }
}
