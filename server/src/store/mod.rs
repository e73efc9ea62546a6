//! SQL, one module per table. Queries are portable between SQLite and
//! PostgreSQL; writes that must not race are single conditional statements.

pub mod email_change_undos;
pub mod email_changes;
pub mod email_tokens;
pub mod login_challenges;
pub mod mail_outbox;
pub mod pending_signups;
pub mod people;
pub mod recovery_codes;
pub mod revoked_sessions;
pub mod security_events;
pub mod sessions;
pub mod sign_in_failures;
pub mod totp_factors;
pub mod users;

use sqlx::{Any, Executor};

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

/// Where a page of a list starts after: the last row of the page before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub created_at: i64,
    pub id: String,
}

/// One page of a table with `created_at`, `id`, `email` and `name`
/// columns, in creation order (ties broken by id): those after `after`,
/// optionally only rows whose email or name starts with `prefix`
/// (lower-cased by the caller). Keyset paging: rows added meanwhile never
/// shift a page, so a client paging through sees each row once.
pub async fn keyset_page<'e, T>(
    db: impl Executor<'e, Database = Any>,
    table: &'static str,
    columns: &'static str,
    prefix: Option<&str>,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let pattern = prefix.map(|prefix| format!("{}%", escape_like(prefix)));
    let (after_created, after_id) = match after {
        Some(after) => (Some(after.created_at), Some(after.id.as_str())),
        None => (None, None),
    };
    sqlx::query_as(&format!(
        "SELECT {columns} FROM {table} \
         WHERE ($1 IS NULL OR LOWER(email) LIKE $2 ESCAPE '\\' OR LOWER(name) LIKE $3 ESCAPE '\\') \
           AND ($4 IS NULL OR created_at > $5 OR (created_at = $6 AND id > $7)) \
         ORDER BY created_at, id \
         LIMIT $8"
    ))
    .bind(pattern.as_deref())
    .bind(pattern.as_deref())
    .bind(pattern.as_deref())
    .bind(after_created)
    .bind(after_created)
    .bind(after_created)
    .bind(after_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// For `LIKE … ESCAPE '\'`: `%`, `_` and the escape character itself match
/// literally.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}
