//! SQL, one module per table. Queries are portable between SQLite and
//! PostgreSQL; writes that must not race are single conditional statements.

pub mod email_change_undos;
pub mod email_changes;
pub mod email_tokens;
pub mod listing;
pub mod login_challenges;
pub mod mail_outbox;
pub mod passkeys;
pub mod pending_signups;
pub mod people;
pub mod rate_limit_buckets;
pub mod recovery_codes;
pub mod revoked_sessions;
pub mod security_events;
pub mod sessions;
pub mod sign_in_failures;
pub mod totp_factors;
pub mod users;
pub mod webauthn_ceremonies;

/// Whether the error is a UNIQUE constraint refusing a duplicate.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Reads an id column into its typed id.
pub fn parse_id<T>(text: &str) -> Result<T, sqlx::Error>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse()
        .map_err(|error| sqlx::Error::Decode(Box::new(error)))
}

/// Where a page of a list starts after: the last row of the page before,
/// by the list's order (creation time for users and people, last use for
/// sessions), ties broken by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub at: i64,
    pub id: String,
}
