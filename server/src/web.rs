//! The server-rendered Leptos app, and the static files cargo-leptos built.

use app::{dev_tools::DevTools, shell, App};
use axum::Router;
use leptos::prelude::{provide_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};

/// `dev_tools` turns on the development-only pages.
pub fn router(options: LeptosOptions, dev_tools: bool) -> Router {
    let routes = generate_route_list(App);
    Router::new()
        .leptos_routes_with_context(
            &options,
            routes,
            move || provide_context(DevTools(dev_tools)),
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context(
            move || provide_context(DevTools(dev_tools)),
            shell,
        ))
        .with_state(options)
}
