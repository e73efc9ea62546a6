//! The catalog: every endpoint of the API, described once.

use super::{first_doc_line, Credentials, Endpoint, EndpointInfo, Method, QueryParam, PAGE_QUERY};
use crate::api::{
    lifecycle::{AccountExport, ChangeEmailRequest, EmailChangeStatus, EmailLinkRequest},
    problem::ProblemCode,
    types::{
        ChangePasswordRequest, ConfirmTotpRequest, ForgotPasswordRequest, ListQuery, LoginRequest,
        LoginResponse, MessageResponse, ReauthenticateRequest, RecoveryCodes, RegisterRequest,
        ResendVerificationRequest, ResetPasswordRequest, SecondFactorRequest, SecondFactorStatus,
        SecurityEventList, SessionList, StatusResponse, TokenResponse, TotpEnrollment,
        UpdateProfileRequest, User, VerifyEmailRequest,
    },
    values::SessionId,
};

endpoints! {
    /// The process is up and serving requests.
    Health {
        Get "/api/health",
        params: (),
        credentials: None,
        request: (),
        response: 200 StatusResponse,
        problems: [],
        uses_database: false,
    }

    /// The process can do useful work: its database answers.
    Ready {
        Get "/api/ready",
        params: (),
        credentials: None,
        request: (),
        response: 200 StatusResponse,
        problems: [],
    }

    /// This document: the API's contract as OpenAPI 3.1.
    OpenApiDocument {
        Get "/api/openapi.json",
        params: (),
        credentials: None,
        request: (),
        response: 200 serde_json::Value,
        problems: [],
        uses_database: false,
    }

    /// Creates an account and emails a link to confirm the address; answers the same when the address is taken.
    Register {
        Post "/api/auth/register",
        params: (),
        credentials: None,
        request: RegisterRequest,
        response: 202 MessageResponse,
        problems: [ValidationFailed, RateLimited, Overloaded],
    }

    /// Confirms a sign-up with the token from the emailed link and the password chosen at sign-up; creates the account and signs in (sets the refresh cookie).
    VerifyEmail {
        Post "/api/auth/verify-email",
        params: (),
        credentials: None,
        request: VerifyEmailRequest,
        response: 200 TokenResponse,
        problems: [ValidationFailed, InvalidLink, RateLimited, Overloaded],
    }

    /// Mails a fresh link for the newest pending sign-up of the address; answers the same for any address.
    ResendVerification {
        Post "/api/auth/resend-verification",
        params: (),
        credentials: None,
        request: ResendVerificationRequest,
        response: 202 MessageResponse,
        problems: [RateLimited],
    }

    /// Signs in: an access token in the body, the refresh token in an HttpOnly cookie.
    Login {
        Post "/api/auth/login",
        params: (),
        credentials: None,
        request: LoginRequest,
        response: 200 LoginResponse,
        also: 202,
        problems: [ValidationFailed, InvalidCredentials, AccountDisabled, RateLimited, SignInLocked, Overloaded],
    }

    /// Finishes a sign-in that asked for a second factor; sets the refresh cookie.
    LoginSecondFactor {
        Post "/api/auth/login/second-factor",
        params: (),
        credentials: None,
        request: SecondFactorRequest,
        response: 200 TokenResponse,
        problems: [ValidationFailed, InvalidChallenge, AccountDisabled, InvalidCredentials, RateLimited, SignInLocked],
    }

    /// Exchanges the refresh cookie for a new access token and a rotated cookie.
    Refresh {
        Post "/api/auth/refresh",
        params: (),
        credentials: RefreshCookie,
        request: (),
        response: 200 TokenResponse,
        problems: [InvalidRefreshToken, RefreshTokenReused, RateLimited],
    }

    /// Ends the session of the refresh cookie and clears the cookie.
    Logout {
        Post "/api/auth/logout",
        params: (),
        credentials: RefreshCookie,
        request: (),
        response: 204 (),
        problems: [],
    }

    /// Ends every session of the signed-in user.
    LogoutAll {
        Post "/api/auth/logout-all",
        params: (),
        credentials: Bearer,
        request: (),
        response: 204 (),
        problems: [],
    }

    /// Proves again who the signed-in user is: a new access token for the same session, with a fresh `auth_time`.
    Reauthenticate {
        Post "/api/auth/reauthenticate",
        params: (),
        credentials: Bearer,
        request: ReauthenticateRequest,
        response: 200 TokenResponse,
        problems: [ValidationFailed, RateLimited, SignInLocked, Overloaded],
    }

    /// Emails a link to set a new password; answers the same for any address.
    ForgotPassword {
        Post "/api/auth/forgot-password",
        params: (),
        credentials: None,
        request: ForgotPasswordRequest,
        response: 202 MessageResponse,
        problems: [RateLimited],
    }

    /// Sets a new password with the token from a reset link, and ends every session of the account.
    ResetPassword {
        Post "/api/auth/reset-password",
        params: (),
        credentials: None,
        request: ResetPasswordRequest,
        response: 200 MessageResponse,
        problems: [InvalidLink, ValidationFailed, RateLimited, Overloaded],
    }

    /// The signed-in user.
    Me {
        Get "/api/me",
        params: (),
        credentials: Bearer,
        request: (),
        response: 200 User,
        problems: [],
    }

    /// Changes the signed-in user's own profile.
    UpdateMe {
        Patch "/api/me",
        params: (),
        credentials: Bearer,
        request: UpdateProfileRequest,
        response: 200 User,
        problems: [ValidationFailed],
    }

    /// Asks to move the account to another email address: a link to confirm it goes to that address. Answers the same whether or not another account has it (its mail then says so). Until the link is opened, sign-in keeps the old address.
    ChangeEmail {
        Post "/api/me/email",
        params: (),
        credentials: RecentBearer,
        request: ChangeEmailRequest,
        response: 202 MessageResponse,
        problems: [ValidationFailed, RateLimited],
    }

    /// The change of email address waiting for its confirmation link, if any: the address it would move to and when the link stops working.
    GetEmailChange {
        Get "/api/me/email",
        params: (),
        credentials: Bearer,
        request: (),
        response: 200 EmailChangeStatus,
        problems: [],
    }

    /// Cancels the change of email address waiting for its confirmation link: the link stops working. Answers the same when there is none.
    CancelEmailChange {
        Delete "/api/me/email",
        params: (),
        credentials: Bearer,
        request: (),
        response: 204 (),
        problems: [],
    }

    /// Confirms a change of email address with the token of the link mailed to the new address. The session that asked keeps going, every other session ends, and the old address gets a link to undo the change (7 days).
    ConfirmEmailChange {
        Post "/api/auth/confirm-email",
        params: (),
        credentials: None,
        request: EmailLinkRequest,
        response: 200 MessageResponse,
        problems: [InvalidLink, EmailTaken, RateLimited],
    }

    /// Undoes a change of email address with the token of the notice mailed to the old address: the old address is back, every session ends, the password stops working, and a link to choose a new one goes to the old address. Second factors stay.
    UndoEmailChange {
        Post "/api/auth/undo-email-change",
        params: (),
        credentials: None,
        request: EmailLinkRequest,
        response: 200 MessageResponse,
        problems: [InvalidLink, EmailTaken, RateLimited, Overloaded],
    }

    /// Deletes the signed-in user's account and everything that is theirs; every session ends at once. People they added to the directory stay, without their name.
    DeleteMe {
        Delete "/api/me",
        params: (),
        credentials: RecentBearer,
        request: (),
        response: 204 (),
        problems: [LastAdmin],
    }

    /// The signed-in user's data (profile, sessions, second factors, activity, the people they added), as a JSON download. Holds no secret and no hash of one.
    ExportMe {
        Get "/api/me/export",
        params: (),
        credentials: Bearer,
        request: (),
        response: 200 AccountExport,
        problems: [],
        download: "account-export.json",
    }

    /// Changes the password, ending every other session of the user.
    ChangePassword {
        Post "/api/me/password",
        params: (),
        credentials: RecentBearer,
        request: ChangePasswordRequest,
        response: 204 (),
        problems: [ValidationFailed, RateLimited, Overloaded],
    }

    /// Which second factors the signed-in user has, and how many recovery codes are left.
    MySecondFactor {
        Get "/api/me/second-factor",
        params: (),
        credentials: Bearer,
        request: (),
        response: 200 SecondFactorStatus,
        problems: [],
    }

    /// Starts turning on an authenticator app: a new secret, waiting for its first code.
    StartTotp {
        Post "/api/me/totp",
        params: (),
        credentials: RecentBearer,
        request: (),
        response: 200 TotpEnrollment,
        problems: [SecondFactorEnabled],
    }

    /// Turns the authenticator app on with a code it shows; answers the recovery codes, once. Other sessions end.
    ConfirmTotp {
        Post "/api/me/totp/confirm",
        params: (),
        credentials: RecentBearer,
        request: ConfirmTotpRequest,
        response: 200 RecoveryCodes,
        problems: [ValidationFailed, SecondFactorEnabled, SecondFactorNotEnabled],
    }

    /// Turns the authenticator app off, with its recovery codes. Other sessions end.
    DisableTotp {
        Delete "/api/me/totp",
        params: (),
        credentials: RecentBearer,
        request: (),
        response: 204 (),
        problems: [SecondFactorNotEnabled],
    }

    /// Replaces the recovery codes with new ones, answered once. Other sessions end.
    ReplaceRecoveryCodes {
        Post "/api/me/recovery-codes",
        params: (),
        credentials: RecentBearer,
        request: (),
        response: 200 RecoveryCodes,
        problems: [SecondFactorNotEnabled],
    }

    /// Where the signed-in user is signed in: their live sessions.
    MySessions {
        Get "/api/me/sessions",
        params: ListQuery,
        credentials: Bearer,
        request: (),
        response: 200 SessionList,
        problems: [ValidationFailed],
        query: PAGE_QUERY,
    }

    /// The signed-in user's recent account activity, newest first.
    MyActivity {
        Get "/api/me/activity",
        params: (),
        credentials: Bearer,
        request: (),
        response: 200 SecurityEventList,
        problems: [],
    }

    /// Signs one of the user's own sessions out, at once.
    EndMySession {
        Delete "/api/me/sessions/{id}",
        params: SessionId,
        credentials: Bearer,
        request: (),
        response: 204 (),
        problems: [NotFound],
    }
}
