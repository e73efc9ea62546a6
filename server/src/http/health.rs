//! Liveness and readiness, for load balancers and orchestrators.

use std::time::Duration;

use app::api::{paths, types::StatusResponse};
use axum::{extract::State, routing::get, Json, Router};

use super::ApiContext;
use crate::error::ApiError;

/// A readiness probe must answer quickly even when the database does not.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route(paths::HEALTH, get(health))
        .route(paths::READY, get(ready))
}

/// The process is up and serving requests.
async fn health() -> Json<StatusResponse> {
    Json(StatusResponse::ok())
}

/// The process can do useful work: its database answers.
async fn ready(State(context): State<ApiContext>) -> Result<Json<StatusResponse>, ApiError> {
    match tokio::time::timeout(READINESS_TIMEOUT, context.db.ping()).await {
        Ok(Ok(())) => Ok(Json(StatusResponse::ok())),
        Ok(Err(error)) => Err(ApiError::Unavailable(format!(
            "The database is not answering: {error}."
        ))),
        Err(_) => Err(ApiError::Unavailable(
            "The database did not answer in time.".into(),
        )),
    }
}
