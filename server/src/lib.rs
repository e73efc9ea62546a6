//! The server: configuration, database, the JSON API under `/api`, and the
//! server-rendered Leptos app, assembled by [`startup::Application`].

// Leptos views are deeply nested types; their layout needs more than the default.
#![recursion_limit = "256"]

pub mod account_lifecycle;
pub mod accounts;
pub mod admin;
pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod device;
pub mod error;
pub mod housekeeping;
pub mod http;
pub mod limits;
pub mod lockout;
pub mod mail;
pub mod me_cache;
pub mod metrics;
mod middleware;
pub mod password_resets;
pub mod security_log;
pub mod serve;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
