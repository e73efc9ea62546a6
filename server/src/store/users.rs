//! The `users` table.

use app::api::values::{DisplayName, Email, Role, UserId};
use sqlx::{Any, Executor};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    #[sqlx(try_from = "String")]
    pub id: UserId,
    #[sqlx(try_from = "String")]
    pub email: Email,
    pub password_hash: String,
    #[sqlx(try_from = "String")]
    pub name: DisplayName,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub email_verified_at: Option<i64>,
    pub created_at: i64,
}

impl UserRow {
    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

pub struct NewUser<'a> {
    pub id: UserId,
    pub email: &'a Email,
    pub password_hash: &'a str,
    pub name: &'a DisplayName,
}

const COLUMNS: &str = "id, email, password_hash, name, role, email_verified_at, created_at";

/// Fails with a unique violation when the email is taken.
pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    user: NewUser<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, email, password_hash, name, role, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'user', $5, $6)",
    )
    .bind(user.id.to_string())
    .bind(user.email.as_str())
    .bind(user.password_hash)
    .bind(user.name.as_str())
    .bind(now)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find_by_email<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &Email,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
        .bind(email.as_str())
        .fetch_optional(db)
        .await
}

pub async fn find_by_id<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(db)
        .await
}

/// Marks the address verified; a second verification keeps the first time.
pub async fn mark_verified<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $2 \
         WHERE id = $3",
    )
    .bind(now)
    .bind(now)
    .bind(id.to_string())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn update_name<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
    name: &DisplayName,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET name = $1, updated_at = $2 WHERE id = $3")
        .bind(name.as_str())
        .bind(now)
        .bind(id.to_string())
        .execute(db)
        .await?;
    Ok(())
}
