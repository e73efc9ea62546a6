//! The signed-in user's own profile.

use app::api::{
    endpoints::{Me, UpdateMe},
    types::User,
    values::DisplayName,
    FieldError, ProblemCode,
};
use axum::extract::State;

use super::{
    extract::AuthUser,
    route::{ApiRouter, Payload, Reply},
    ApiContext,
};
use crate::{
    clock::{rfc3339, unix_now},
    error::ApiError,
    store::users::{self, UserRow},
};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<Me, _, _>(me)
        .route::<UpdateMe, _, _>(update_me)
}

/// The public view of an account: everything but the password hash.
pub fn user_view(row: &UserRow) -> User {
    User {
        id: row.id,
        email: row.email.clone(),
        name: row.name.clone(),
        role: row.role,
        email_verified: row.is_verified(),
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
