//! SQL, one module per table. Queries are portable between SQLite and
//! PostgreSQL; writes that must not race are single conditional statements.

pub mod email_tokens;
pub mod sessions;
pub mod users;

/// Whether the error is a UNIQUE constraint refusing a duplicate.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}
