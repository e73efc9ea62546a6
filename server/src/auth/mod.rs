//! Credentials: password hashing, access tokens (JWT), opaque tokens for
//! refresh and email links, and the in-memory list of revoked sessions.

pub mod jwt;
pub mod password;
pub mod revocation;
pub mod secret;
pub mod tokens;
