//! The `security_events` table: an account's activity log. Rows are only
//! ever added (and swept when old), so no write races another.

use app::api::{types::SecurityEventKind, values::UserId};
use sqlx::{Any, Executor};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub kind: String,
    pub occurred_at: i64,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

pub struct NewEvent<'a> {
    /// Time-ordered (UUIDv7), made when the event happened: events of one
    /// second keep the order they happened in, even when one waited in a
    /// queue before it was written.
    pub id: uuid::Uuid,
    pub user_id: UserId,
    pub kind: SecurityEventKind,
    pub ip_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub detail: Option<&'a str>,
}

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    event: NewEvent<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO security_events (id, user_id, kind, occurred_at, ip_address, user_agent, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(event.id.to_string())
    .bind(event.user_id.to_string())
    .bind(event.kind.as_str())
    .bind(now)
    .bind(event.ip_address)
    .bind(event.user_agent)
    .bind(event.detail)
    .execute(db)
    .await?;
    Ok(())
}

/// The user's newest `limit` events, newest first.
pub async fn recent<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, occurred_at, ip_address, user_agent, detail FROM security_events \
         WHERE user_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2",
    )
    .bind(user_id.to_string())
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Replaces the address `address` wherever another account's events
/// mention it (an admin's "turned off the authenticator app of …"), in one
/// statement: a deleted account's address stays in nobody's activity. Only
/// the whole address, as details write it (between spaces, or at either
/// end): `ce@example.com` is not scrubbed out of `alice@example.com`.
pub async fn scrub_mentions<'e>(
    db: impl Executor<'e, Database = Any>,
    address: &str,
    replacement: &str,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE security_events \
         SET detail = TRIM(REPLACE(' ' || detail || ' ', ' ' || $1 || ' ', ' ' || $2 || ' ')) \
         WHERE detail IS NOT NULL \
           AND REPLACE(' ' || detail || ' ', ' ' || $3 || ' ', '') <> ' ' || detail || ' '",
    )
    .bind(address)
    .bind(replacement)
    .bind(address)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

pub async fn delete_before<'e>(
    db: impl Executor<'e, Database = Any>,
    before: i64,
) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM security_events WHERE occurred_at < $1")
        .bind(before)
        .execute(db)
        .await
        .map(|done| done.rows_affected())
}
