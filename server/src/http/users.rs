//! The signed-in user's own profile.

use app::{
    api::{
        paths,
        types::{UpdateProfileRequest, User},
        FieldError,
    },
    validation::check_name,
};
use axum::{extract::State, routing::get, Json, Router};

use super::{extract::AuthUser, ApiContext, ApiJson};
use crate::{clock::unix_now, error::ApiError, store::users};

pub fn router() -> Router<ApiContext> {
    Router::new().route(paths::ME, get(me).patch(update_me))
}

async fn me(State(context): State<ApiContext>, caller: AuthUser) -> Result<Json<User>, ApiError> {
    let user = users::find_by_id(context.db.pool(), &caller.user_id)
        .await?
        .ok_or_else(gone)?;
    Ok(Json(user.to_api()))
}

async fn update_me(
    State(context): State<ApiContext>,
    caller: AuthUser,
    ApiJson(request): ApiJson<UpdateProfileRequest>,
) -> Result<Json<User>, ApiError> {
    let name = check_name(&request.name)
        .map_err(|message| ApiError::Validation(vec![FieldError::new("name", message)]))?;
    let pool = context.db.pool();
    users::update_name(pool, &caller.user_id, &name, unix_now()).await?;
    let user = users::find_by_id(pool, &caller.user_id)
        .await?
        .ok_or_else(gone)?;
    Ok(Json(user.to_api()))
}

fn gone() -> ApiError {
    ApiError::bearer("invalid_token", "This account no longer exists.")
}
