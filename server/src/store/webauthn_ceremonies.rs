//! The `webauthn_ceremonies` table: the server's half of a passkey
//! ceremony, waiting for the browser's answer. Taking one is a single
//! `DELETE … RETURNING` of a live row, so an answer is checked against its
//! state once, however many copies of it arrive together.

use app::api::values::{SessionId, UserId};
use sqlx::{Any, Executor};

/// What a ceremony is for; a state is only taken for its own purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    SignIn,
    SecondFactor,
    StepUp,
}

impl Purpose {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::SignIn => "sign_in",
            Self::SecondFactor => "second_factor",
            Self::StepUp => "step_up",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CeremonyRow {
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    /// The library's state, as JSON.
    pub state: String,
}

pub struct NewCeremony<'a> {
    pub key_hash: &'a str,
    pub purpose: Purpose,
    pub user_id: Option<UserId>,
    pub session_id: Option<SessionId>,
    pub state: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

/// Stores the state under its key, replacing one waiting under the same
/// key (a second "add a passkey" replaces the first).
pub async fn put<'e>(
    db: impl Executor<'e, Database = Any>,
    ceremony: NewCeremony<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webauthn_ceremonies \
         (key_hash, purpose, user_id, session_id, state, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (key_hash) DO UPDATE SET purpose = $8, user_id = $9, session_id = $10, \
         state = $11, created_at = $12, expires_at = $13",
    )
    .bind(ceremony.key_hash)
    .bind(ceremony.purpose.as_str())
    .bind(ceremony.user_id.map(|id| id.to_string()))
    .bind(ceremony.session_id.map(|id| id.to_string()))
    .bind(ceremony.state)
    .bind(ceremony.now)
    .bind(ceremony.expires_at)
    .bind(ceremony.purpose.as_str())
    .bind(ceremony.user_id.map(|id| id.to_string()))
    .bind(ceremony.session_id.map(|id| id.to_string()))
    .bind(ceremony.state)
    .bind(ceremony.now)
    .bind(ceremony.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Takes the live state stored under the key for this purpose, once;
/// `None` when it is unknown, expired, taken or for something else.
pub async fn take<'e>(
    db: impl Executor<'e, Database = Any>,
    key_hash: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<CeremonyRow>, sqlx::Error> {
    sqlx::query_as(
        "DELETE FROM webauthn_ceremonies WHERE key_hash = $1 AND purpose = $2 AND expires_at > $3 \
         RETURNING user_id, session_id, state",
    )
    .bind(key_hash)
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn delete_expired_before<'e>(
    db: impl Executor<'e, Database = Any>,
    before: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at < $1")
        .bind(before)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}
