//! `GET /api/openapi.json`: the document of the routes mounted beside it,
//! built once when the router is.

use std::sync::Arc;

use app::api::endpoints::OpenApiDocument;

use super::{
    openapi,
    route::{ApiRouter, Reply},
};

/// Mounts the document route on `api` and describes everything in it,
/// itself included.
pub fn mount(api: ApiRouter) -> ApiRouter {
    let slot: Arc<std::sync::OnceLock<serde_json::Value>> = Arc::default();
    let served = Arc::clone(&slot);
    let api = api.route::<OpenApiDocument, _, _>(move || {
        let served = Arc::clone(&served);
        async move { Reply::<OpenApiDocument>::new(served.get().cloned().unwrap_or_default()) }
    });
    let document = serde_json::to_value(openapi::document(
        api.mounted().iter().map(|endpoint| endpoint.document),
    ))
    .expect("an OpenAPI document serializes to JSON");
    let _ = slot.set(document);
    api
}
