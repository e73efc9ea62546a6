//! The `email_change_undos` table: confirmed changes of address that the
//! old address may still undo, by the SHA-256 of the link's token. Using a
//! link is one conditional delete, so it works once even when opened
//! twice at the same moment.

use app::api::values::{Email, UserId};
use sqlx::{Any, Executor};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UndoRow {
    /// A UUIDv7: undos of one account sort by when their change was made.
    pub id: String,
    #[sqlx(try_from = "String")]
    pub user_id: UserId,
    #[sqlx(try_from = "String")]
    pub old_email: Email,
    #[sqlx(try_from = "String")]
    pub new_email: Email,
    /// When the change was confirmed.
    pub created_at: i64,
    /// Since when the account was in the hands that made the change: the
    /// second factors added since are taken back by the undo.
    pub suspect_since: Option<i64>,
}

impl UndoRow {
    /// Since when second factors are suspect; for undos stored before
    /// this was recorded, since the change itself.
    pub fn suspect_since(&self) -> i64 {
        self.suspect_since.unwrap_or(self.created_at)
    }
}

pub struct NewUndo<'a> {
    pub token_hash: &'a str,
    pub user_id: UserId,
    pub old_email: &'a Email,
    pub new_email: &'a Email,
    pub suspect_since: i64,
}

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    undo: NewUndo<'_>,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO email_change_undos \
             (id, token_hash, user_id, old_email, new_email, created_at, expires_at, \
              suspect_since) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(undo.token_hash)
    .bind(undo.user_id.to_string())
    .bind(undo.old_email.as_str())
    .bind(undo.new_email.as_str())
    .bind(now)
    .bind(expires_at)
    .bind(undo.suspect_since)
    .execute(db)
    .await?;
    Ok(())
}

const COLUMNS: &str = "id, user_id, old_email, new_email, created_at, suspect_since";

/// The live undo a link's token names, without using it.
pub async fn find_live<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
    now: i64,
) -> Result<Option<UndoRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM email_change_undos WHERE token_hash = $1 AND expires_at > $2"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Uses up the live undo of `user_id` that the token names, in one
/// statement: `None` when it is gone (used, expired, or spent by an
/// earlier change's undo).
pub async fn take<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
    user_id: UserId,
    now: i64,
) -> Result<Option<UndoRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "DELETE FROM email_change_undos \
         WHERE token_hash = $1 AND user_id = $2 AND expires_at > $3 RETURNING {COLUMNS}"
    ))
    .bind(token_hash)
    .bind(user_id.to_string())
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Spends the undos of the account's changes made after the one with
/// `id`: they would move it away from the address just restored.
pub async fn delete_later<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    id: &str,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM email_change_undos WHERE user_id = $1 AND id > $2")
        .bind(user_id.to_string())
        .bind(id)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// The addresses the account had or moved to in the changes it can still
/// undo.
pub async fn addresses_of<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
) -> Result<Vec<Email>, sqlx::Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT old_email, new_email FROM email_change_undos WHERE user_id = $1")
            .bind(user_id.to_string())
            .fetch_all(db)
            .await?;
    let mut addresses = Vec::new();
    for (old, new) in rows {
        for address in [old, new] {
            addresses.push(
                Email::try_from(address).map_err(|error| sqlx::Error::Decode(Box::new(error)))?,
            );
        }
    }
    Ok(addresses)
}

/// Deletes undos whose link expired before `before`.
pub async fn delete_expired_before<'e>(
    db: impl Executor<'e, Database = Any>,
    before: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM email_change_undos WHERE expires_at < $1")
        .bind(before)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}
