//! Every API path in one place: the server routes on these and the SPA
//! calls them.

/// Where the JSON API lives; everything else is the web app.
pub const API_PREFIX: &str = "/api";

pub const HEALTH: &str = "/api/health";
pub const READY: &str = "/api/ready";

/// The path the refresh cookie is scoped to: the browser sends it to the
/// auth endpoints and nowhere else.
pub const AUTH_PREFIX: &str = "/api/auth";
pub const REGISTER: &str = "/api/auth/register";
pub const VERIFY_EMAIL: &str = "/api/auth/verify-email";
pub const RESEND_VERIFICATION: &str = "/api/auth/resend-verification";
pub const LOGIN: &str = "/api/auth/login";
pub const REFRESH: &str = "/api/auth/refresh";
pub const LOGOUT: &str = "/api/auth/logout";
pub const LOGOUT_ALL: &str = "/api/auth/logout-all";
pub const ME: &str = "/api/me";

/// Development only: the messages in the mail outbox.
pub const DEV_MAILBOX: &str = "/api/dev/mailbox";

/// Pages of the web app that emails and redirects point at.
pub mod pages {
    pub const HOME: &str = "/";
    pub const LOGIN: &str = "/login";
    pub const REGISTER: &str = "/register";
    pub const VERIFY_EMAIL: &str = "/verify-email";
    pub const ACCOUNT: &str = "/account";
    pub const DEV_MAILBOX: &str = "/dev/mailbox";
}
