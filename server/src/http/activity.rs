//! Account activity: the security event log read back, by the account's
//! owner for themselves and by admins for anyone.

use app::api::{
    endpoints::{MyActivity, UserActivity},
    types::{SecurityEvent, SecurityEventKind, SecurityEventList},
    values::UserId,
};
use axum::extract::State;

use super::{
    extract::{Admin, AuthUser, PathId},
    route::{ApiRouter, Reply},
    sessions::device_name,
    ApiContext,
};
use crate::{clock::rfc3339, error::ApiError, store::security_events::EventRow, store::users};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<MyActivity, _, _>(mine)
        .route::<UserActivity, _, _>(of_user)
}

async fn mine(
    State(context): State<ApiContext>,
    caller: AuthUser,
) -> Result<Reply<MyActivity>, ApiError> {
    Ok(Reply::new(list(&context, caller.user_id).await?))
}

async fn of_user(
    State(context): State<ApiContext>,
    Admin(_): Admin,
    PathId(id): PathId<UserId>,
) -> Result<Reply<UserActivity>, ApiError> {
    users::find_by_id(context.db.pool(), id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::new(list(&context, id).await?))
}

async fn list(context: &ApiContext, user_id: UserId) -> Result<SecurityEventList, ApiError> {
    let rows = context.security_log.recent(user_id).await?;
    Ok(SecurityEventList {
        events: rows.iter().filter_map(event_view).collect(),
    })
}

/// Rows of a kind this version does not know are left out rather than
/// failing the whole list.
pub(super) fn event_view(row: &EventRow) -> Option<SecurityEvent> {
    Some(SecurityEvent {
        kind: SecurityEventKind::parse(&row.kind)?,
        occurred_at: rfc3339(row.occurred_at),
        ip_address: row.ip_address.clone(),
        device: row
            .user_agent
            .as_deref()
            .map(|agent| device_name(Some(agent))),
        detail: row.detail.clone(),
    })
}
