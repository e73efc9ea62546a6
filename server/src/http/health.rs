//! Liveness and readiness, for load balancers and orchestrators.

use std::time::Duration;

use app::api::{
    endpoints::{Health, Ready},
    types::StatusResponse,
};
use axum::extract::State;

use super::{
    route::{ApiRouter, Reply},
    ApiContext,
};
use crate::error::ApiError;

/// A readiness probe must answer quickly even when the database does not.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<Health, _, _>(health)
        .route::<Ready, _, _>(ready)
}

/// The process is up and serving requests.
async fn health() -> Reply<Health> {
    Reply::new(StatusResponse::ok())
}

/// The process can do useful work: its database answers.
async fn ready(State(context): State<ApiContext>) -> Result<Reply<Ready>, ApiError> {
    if context
        .revoked
        .listener_down_too_long(crate::clock::unix_now())
    {
        return Err(ApiError::unavailable(
            "Not listening for revocations from other instances.",
        ));
    }
    match tokio::time::timeout(READINESS_TIMEOUT, context.db.ping()).await {
        Ok(Ok(())) => Ok(Reply::new(StatusResponse::ok())),
        Ok(Err(error)) => {
            // The driver's words stay in the log: they may name hosts.
            tracing::warn!(%error, "readiness: the database is not answering");
            Err(ApiError::unavailable("The database is not answering."))
        }
        Err(_) => Err(ApiError::unavailable(
            "The database did not answer in time.",
        )),
    }
}
