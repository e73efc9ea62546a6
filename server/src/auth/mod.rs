//! Credentials: password hashing, access tokens (JWT), opaque tokens for
//! refresh and email links, the in-memory list of revoked sessions, and the
//! session service that owns a session's life.

pub mod device_cookie;
pub mod factors;
pub mod jwt;
pub mod password;
pub mod revocation;
pub mod secret;
pub mod sessions;
pub mod tokens;
