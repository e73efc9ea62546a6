//! The `people` table: the directory. Replacing a person is one guarded
//! statement on the version the writer read, so of two concurrent writers
//! with the same version exactly one succeeds.

use app::{
    api::values::{DisplayName, Email, PersonId, UserId},
    validation::ValidPerson,
};
use sqlx::{Any, Executor};

use super::{
    listing::{self, Listed},
    parse_id, After,
};
use crate::db::Database;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonRow {
    #[sqlx(try_from = "String")]
    pub id: PersonId,
    #[sqlx(try_from = "String")]
    pub name: DisplayName,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
}

impl PersonRow {
    pub fn email(&self) -> Option<Email> {
        self.email
            .as_deref()
            .and_then(|email| Email::parse(email).ok())
    }

    pub fn created_by(&self) -> Option<UserId> {
        self.created_by.as_deref().and_then(|id| parse_id(id).ok())
    }

    pub fn updated_by(&self) -> Option<UserId> {
        self.updated_by.as_deref().and_then(|id| parse_id(id).ok())
    }
}

const COLUMNS: &str =
    "id, name, email, phone, notes, version, created_at, updated_at, created_by, updated_by";

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    id: PersonId,
    person: &ValidPerson,
    by: UserId,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO people \
         (id, name, email, phone, notes, version, created_at, updated_at, created_by, updated_by) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9)",
    )
    .bind(id.to_string())
    .bind(person.name.as_str())
    .bind(person.email.as_ref().map(Email::as_str))
    .bind(person.phone.as_deref())
    .bind(person.notes.as_deref())
    .bind(now)
    .bind(now)
    .bind(by.to_string())
    .bind(by.to_string())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    id: PersonId,
) -> Result<Option<PersonRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM people WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(db)
        .await
}

/// Replaces a person if they are still at `version`; `false` when not
/// (changed since, or gone).
pub async fn replace<'e>(
    db: impl Executor<'e, Database = Any>,
    id: PersonId,
    version: i64,
    person: &ValidPerson,
    by: UserId,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE people SET name = $1, email = $2, phone = $3, notes = $4, \
         version = version + 1, updated_at = $5, updated_by = $6 \
         WHERE id = $7 AND version = $8",
    )
    .bind(person.name.as_str())
    .bind(person.email.as_ref().map(Email::as_str))
    .bind(person.phone.as_deref())
    .bind(person.notes.as_deref())
    .bind(now)
    .bind(by.to_string())
    .bind(id.to_string())
    .bind(version)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// `true` if there was such a person.
pub async fn delete<'e>(
    db: impl Executor<'e, Database = Any>,
    id: PersonId,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM people WHERE id = $1")
        .bind(id.to_string())
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// The people `user_id` added, oldest first.
pub async fn created_by<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: UserId,
) -> Result<Vec<PersonRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM people WHERE created_by = $1 ORDER BY created_at, id"
    ))
    .bind(user_id.to_string())
    .fetch_all(db)
    .await
}

/// A page in creation order (ties broken by id) after `after`, optionally
/// only people whose email or name contains `search` (lower-cased by the
/// caller).
pub async fn page(
    db: &Database,
    search: Option<&str>,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<PersonRow>, sqlx::Error> {
    let listed = Listed {
        table: "people",
        columns: COLUMNS,
        search_table: "people_search",
    };
    listing::page(db, listed, search, after, limit).await
}
