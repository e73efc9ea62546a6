use app::api::types::{Role, User};
use sqlx::{Any, Executor};

use crate::clock::rfc3339;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub name: String,
    pub role: String,
    pub email_verified_at: Option<i64>,
    pub created_at: i64,
}

impl UserRow {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or_default()
    }

    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    /// The public view: everything but the password hash.
    pub fn to_api(&self) -> User {
        User {
            id: self.id.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role(),
            email_verified: self.is_verified(),
            created_at: rfc3339(self.created_at),
        }
    }
}

pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub name: &'a str,
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
    .bind(user.id)
    .bind(user.email)
    .bind(user.password_hash)
    .bind(user.name)
    .bind(now)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find_by_email<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
        .bind(email)
        .fetch_optional(db)
        .await
}

pub async fn find_by_id<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Marks the address verified; a second verification keeps the first time.
pub async fn mark_verified<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $2 \
         WHERE id = $3",
    )
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn update_name<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    name: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET name = $1, updated_at = $2 WHERE id = $3")
        .bind(name)
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}
