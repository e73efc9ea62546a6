//! The part of the product that both the browser and the server compile:
//! the API contract (paths, request/response types, problem details),
//! validation rules, and the Leptos UI.

pub mod api;
pub mod api_client;
pub mod auth;
pub mod components;
#[cfg(feature = "ssr")]
mod csp;
pub mod hydration;
pub mod pages;
pub mod routes;
pub mod site_flags;
pub mod theme;
pub mod validation;

mod shell;

pub use shell::{shell, App};
