//! Accounts: the signed-in user's own profile, and for admins every
//! account, a page at a time, with its role and status to change, and
//! deleting one. A user may read their own account by id; anyone else's
//! is not found (404), so an id reveals nothing (`OwnAccountOrAdmin`).

use app::api::{
    endpoints::{DeleteUser, GetUser, ListUsers, Me, UpdateMe, UpdateUser},
    types::{ListQuery, User, UserPage},
    values::{DisplayName, UserId},
    FieldError, ProblemCode,
};
use axum::extract::State;

use super::{
    extract::{Admin, AuthUser, Device, OwnAccountOrAdmin, PathId, QueryParams, RecentAdmin},
    listing::Page,
    route::{ApiRouter, Payload, Reply},
    ApiContext,
};
use crate::{
    account_lifecycle::{DeleteRefused, Deleter},
    accounts::ChangeRefused,
    clock::{rfc3339, unix_now},
    error::ApiError,
    me_cache::Lookup,
    store::{
        users::{self, Change, ProfileRow},
        After,
    },
};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<Me, _, _>(me)
        .route::<UpdateMe, _, _>(update_me)
        .route::<ListUsers, _, _>(list_users)
        .route::<GetUser, _, _>(get_user)
        .route::<UpdateUser, _, _>(update_user)
        .route::<DeleteUser, _, _>(delete_user)
}

/// The public view of an account: everything but the password hash.
pub fn user_view(row: &ProfileRow) -> User {
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
    let ticket = match context.me_cache.get(caller.session_id, caller.user_id) {
        Lookup::Kept(user) => return Ok(Reply::new(user)),
        Lookup::Missing(ticket) => ticket,
    };
    let row = users::find_by_id(context.db.pool(), caller.user_id)
        .await?
        .ok_or_else(gone)?;
    let user = user_view(&row);
    context.me_cache.keep(ticket, caller.session_id, &user);
    Ok(Reply::new(user))
}

async fn update_me(
    State(context): State<ApiContext>,
    caller: AuthUser,
    Payload(request): Payload<UpdateMe>,
) -> Result<Reply<UpdateMe>, ApiError> {
    let name = DisplayName::parse(&request.name)
        .map_err(|invalid| ApiError::Validation(vec![FieldError::new("name", invalid.0)]))?;
    let user = context
        .accounts
        .rename(caller.user_id, &name, unix_now())
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
        &context.db,
        page.search.as_deref(),
        page.after.as_ref(),
        page.fetch(),
    )
    .await?;
    let next_cursor = page.next_cursor(&mut rows, |row| After {
        at: row.created_at,
        id: row.id.to_string(),
    });
    Ok(Reply::new(UserPage {
        users: rows.iter().map(user_view).collect(),
        next_cursor,
    }))
}

async fn get_user(
    State(context): State<ApiContext>,
    OwnAccountOrAdmin(id): OwnAccountOrAdmin,
) -> Result<Reply<GetUser>, ApiError> {
    let user = users::find_by_id(context.db.pool(), id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::new(user_view(&user)))
}

/// A sensitive action: the admin must have proved who they are recently.
async fn update_user(
    State(context): State<ApiContext>,
    RecentAdmin(caller): RecentAdmin,
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
        Err(ChangeRefused::LastAdmin) => Err(ApiError::last_admin(
            "This would leave no enabled admin. Make someone else an admin first.",
        )),
        Err(ChangeRefused::Database(error)) => Err(error.into()),
    }
}

/// A sensitive action, recorded in the admin's own activity; the same
/// deletion as the owner's (see `account_lifecycle::deletion`). An admin's
/// own account is deleted from the account page, where its owner's
/// consequences are spelled out.
async fn delete_user(
    State(context): State<ApiContext>,
    RecentAdmin(caller): RecentAdmin,
    device: Device,
    PathId(id): PathId<UserId>,
) -> Result<Reply<DeleteUser>, ApiError> {
    if id == caller.user_id {
        return Err(ApiError::new(
            ProblemCode::OwnAccount,
            "To delete your own account, use your account page (DELETE /api/me).",
        ));
    }
    let by = Deleter::Admin {
        id: caller.user_id,
        device,
    };
    match context.lifecycle.delete_account(id, by, unix_now()).await {
        Ok(_) => {
            tracing::info!(admin = %caller.user_id, user_id = %id, "an admin deleted an account");
            Ok(Reply::empty())
        }
        Err(DeleteRefused::NotFound) => Err(ApiError::not_found()),
        Err(DeleteRefused::LastAdmin) => Err(ApiError::last_admin(
            "This is the last enabled admin. Make someone else an admin first.",
        )),
        Err(DeleteRefused::Database(error)) => Err(error.into()),
    }
}
