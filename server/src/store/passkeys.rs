//! The `passkeys` table: an account's WebAuthn credentials. Races are
//! single statements: a credential id is added once across all accounts
//! (UNIQUE), a rename or removal names the owner in its `WHERE` (another
//! account's id matches nothing), and a use is taken only while the
//! passkey still exists and its signature counter moves forward.

use app::api::values::{PasskeyId, UserId};
use sqlx::{Any, Executor};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasskeyRow {
    #[sqlx(try_from = "String")]
    pub id: PasskeyId,
    #[sqlx(try_from = "String")]
    pub user_id: UserId,
    pub name: String,
    /// The library's record of the credential, as JSON.
    pub credential: String,
    pub sign_count: i64,
    pub backed_up: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// How far back a session opened with this passkey may reach: the
    /// footing of the session that added it (its creation, in older rows).
    pub footing: i64,
}

const COLUMNS: &str = "id, user_id, name, credential, sign_count, backed_up, created_at, \
                       last_used_at, COALESCE(footing, created_at) AS footing";

pub struct NewPasskey<'a> {
    pub id: PasskeyId,
    pub user_id: UserId,
    pub credential_id: &'a str,
    pub name: &'a str,
    pub credential: &'a str,
    pub sign_count: i64,
    pub backed_up: bool,
    /// The footing of the session that adds it.
    pub footing: i64,
    pub now: i64,
}

/// Adds the passkey; `false` when its credential id is registered already
/// (to this account or another).
pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    passkey: NewPasskey<'_>,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO passkeys \
         (id, user_id, credential_id, name, credential, sign_count, backed_up, created_at, \
          footing) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (credential_id) DO NOTHING",
    )
    .bind(passkey.id.to_string())
    .bind(passkey.user_id.to_string())
    .bind(passkey.credential_id)
    .bind(passkey.name)
    .bind(passkey.credential)
    .bind(passkey.sign_count)
    .bind(i64::from(passkey.backed_up))
    .bind(passkey.now)
    .bind(passkey.footing)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The account's passkeys, oldest first.
pub async fn list<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
) -> Result<Vec<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
    ))
    .bind(user_id.to_string())
    .fetch_all(db)
    .await
}

/// Whether the account has a passkey, without reading any.
pub async fn exists<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
) -> Result<bool, sqlx::Error> {
    let found: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM passkeys WHERE user_id = $1 LIMIT 1")
        .bind(user_id.to_string())
        .fetch_optional(db)
        .await?;
    Ok(found.is_some())
}

pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    id: PasskeyId,
) -> Result<Option<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM passkeys WHERE id = $1 AND user_id = $2"
    ))
    .bind(id.to_string())
    .bind(user_id.to_string())
    .fetch_optional(db)
    .await
}

/// The passkey of a credential id, whichever account has it.
pub async fn find_by_credential_id<'e>(
    db: impl Executor<'e, Database = Any>,
    credential_id: &str,
) -> Result<Option<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM passkeys WHERE credential_id = $1"
    ))
    .bind(credential_id)
    .fetch_optional(db)
    .await
}

/// Renames the owner's passkey; `None` when the owner has no such passkey.
pub async fn rename<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    id: PasskeyId,
    name: &str,
) -> Result<Option<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3 RETURNING {COLUMNS}"
    ))
    .bind(name)
    .bind(id.to_string())
    .bind(user_id.to_string())
    .fetch_optional(db)
    .await
}

/// Removes the owner's passkey; `None` when the owner has no such passkey.
pub async fn delete<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    id: PasskeyId,
) -> Result<Option<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    ))
    .bind(id.to_string())
    .bind(user_id.to_string())
    .fetch_optional(db)
    .await
}

/// Removes the account's passkeys added at `since` or later; returns how
/// many.
pub async fn delete_added_since<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
    since: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM passkeys WHERE user_id = $1 AND created_at >= $2")
        .bind(user_id.to_string())
        .bind(since)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// Records a verified use: the new counter, flags and credential record.
/// `false` when the passkey is gone, or when the counter does not move
/// forward from the one stored (WebAuthn §7.2 step 21: a copy of the
/// credential may be in use). A counter of 0 on both sides means the
/// authenticator keeps none, and passes.
pub async fn take_use<'e>(
    db: impl Executor<'e, Database = Any>,
    id: PasskeyId,
    sign_count: i64,
    backed_up: bool,
    credential: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE passkeys SET sign_count = $1, backed_up = $2, credential = $3, last_used_at = $4 \
         WHERE id = $5 AND (sign_count < $6 OR (sign_count = 0 AND $7 = 0))",
    )
    .bind(sign_count)
    .bind(i64::from(backed_up))
    .bind(credential)
    .bind(now)
    .bind(id.to_string())
    .bind(sign_count)
    .bind(sign_count)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}
