//! Accounts: the signed-in user's own profile, and for admins every
//! account, a page at a time, with its role and status to change. A user
//! may read their own account by id; anyone else's is not found (404), so
//! an id reveals nothing.

use app::api::{
    endpoints::{GetUser, ListUsers, Me, UpdateMe, UpdateUser},
    types::{ListQuery, User, UserPage},
    values::{DisplayName, Role, UserId},
    FieldError, ProblemCode,
};
use axum::extract::State;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

use super::{
    extract::{Admin, AuthUser, PathId, QueryParams},
    route::{ApiRouter, Payload, Reply},
    ApiContext,
};
use crate::{
    accounts::ChangeRefused,
    clock::{rfc3339, unix_now},
    error::ApiError,
    store::users::{self, After, Change, UserRow},
};

const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;
const MAX_QUERY_CHARS: usize = 100;

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<Me, _, _>(me)
        .route::<UpdateMe, _, _>(update_me)
        .route::<ListUsers, _, _>(list_users)
        .route::<GetUser, _, _>(get_user)
        .route::<UpdateUser, _, _>(update_user)
}

/// The public view of an account: everything but the password hash.
pub fn user_view(row: &UserRow) -> User {
    User {
        id: row.id,
        email: row.email.clone(),
        name: row.name.clone(),
        role: row.role,
        email_verified: row.is_verified(),
        disabled: row.is_disabled(),
        created_at: rfc3339(row.created_at),
    }
}

async fn me(State(context): State<ApiContext>, caller: AuthUser) -> Result<Reply<Me>, ApiError> {
    let user = users::find_by_id(context.db.pool(), caller.user_id)
        .await?
        .ok_or_else(gone)?;
    Ok(Reply::new(user_view(&user)))
}

async fn update_me(
    State(context): State<ApiContext>,
    caller: AuthUser,
    Payload(request): Payload<UpdateMe>,
) -> Result<Reply<UpdateMe>, ApiError> {
    let name = DisplayName::parse(&request.name)
        .map_err(|invalid| ApiError::Validation(vec![FieldError::new("name", invalid.0)]))?;
    let pool = context.db.pool();
    users::update_name(pool, caller.user_id, &name, unix_now()).await?;
    let user = users::find_by_id(pool, caller.user_id)
        .await?
        .ok_or_else(gone)?;
    Ok(Reply::new(user_view(&user)))
}

fn gone() -> ApiError {
    ApiError::bad_token(ProblemCode::InvalidToken, "This account no longer exists.")
}

async fn list_users(
    State(context): State<ApiContext>,
    _admin: Admin,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Reply<ListUsers>, ApiError> {
    let page = Page::read(&query)?;
    let mut rows = users::page(
        context.db.pool(),
        page.prefix.as_deref(),
        page.after.as_ref(),
        i64::from(page.limit) + 1,
    )
    .await?;
    let more = rows.len() > page.limit as usize;
    rows.truncate(page.limit as usize);
    let next_cursor = match rows.last() {
        Some(last) if more => Some(encode_cursor(&After {
            created_at: last.created_at,
            id: last.id.to_string(),
        })),
        _ => None,
    };
    Ok(Reply::new(UserPage {
        users: rows.iter().map(user_view).collect(),
        next_cursor,
    }))
}

async fn get_user(
    State(context): State<ApiContext>,
    caller: AuthUser,
    PathId(id): PathId<UserId>,
) -> Result<Reply<GetUser>, ApiError> {
    if caller.user_id != id && caller.role != Role::Admin {
        return Err(ApiError::not_found());
    }
    let user = users::find_by_id(context.db.pool(), id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::new(user_view(&user)))
}

async fn update_user(
    State(context): State<ApiContext>,
    Admin(caller): Admin,
    PathId(id): PathId<UserId>,
    Payload(request): Payload<UpdateUser>,
) -> Result<Reply<UpdateUser>, ApiError> {
    let change = Change {
        role: request.role,
        disabled: request.disabled,
    };
    match context.accounts.change(id, change, unix_now()).await {
        Ok(user) => {
            tracing::info!(admin = %caller.user_id, user_id = %id, "an admin changed an account");
            Ok(Reply::new(user_view(&user)))
        }
        Err(ChangeRefused::NotFound) => Err(ApiError::not_found()),
        Err(ChangeRefused::LastAdmin) => Err(ApiError::new(
            ProblemCode::LastAdmin,
            "This would leave no enabled admin. Make someone else an admin first.",
        )),
        Err(ChangeRefused::Database(error)) => Err(error.into()),
    }
}

/// A list query, checked.
struct Page {
    prefix: Option<String>,
    after: Option<After>,
    limit: u32,
}

impl Page {
    fn read(query: &ListQuery) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let limit = query.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            errors.push(FieldError::new("limit", "Ask for 1 to 100 at a time."));
        }
        let prefix = query
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_lowercase);
        if prefix
            .as_deref()
            .is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS || q.contains('\0'))
        {
            errors.push(FieldError::new("q", "Search with at most 100 characters."));
        }
        let after = match query.cursor.as_deref().filter(|cursor| !cursor.is_empty()) {
            Some(cursor) => match decode_cursor(cursor) {
                Some(after) => Some(after),
                None => {
                    errors.push(FieldError::new(
                        "cursor",
                        "This cursor is not one we gave out.",
                    ));
                    None
                }
            },
            None => None,
        };
        if errors.is_empty() {
            Ok(Self {
                prefix,
                after,
                limit,
            })
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// Opaque to clients: where the last page ended.
fn encode_cursor(after: &After) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", after.created_at, after.id))
}

fn decode_cursor(cursor: &str) -> Option<After> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (created_at, id) = text.split_once(':')?;
    let id: UserId = id.parse().ok()?;
    Some(After {
        created_at: created_at.parse().ok()?,
        id: id.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        let after = After {
            created_at: 1_795_000_000,
            id: uuid::Uuid::from_u128(9).to_string(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&after)), Some(after));
        for forged in [
            "",
            "!!",
            "bm90aGluZw",
            &URL_SAFE_NO_PAD.encode("12:not-a-uuid"),
        ] {
            assert_eq!(decode_cursor(forged), None, "{forged}");
        }
    }
}
