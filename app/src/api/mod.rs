//! The JSON API contract, shared so that the server and the SPA cannot drift
//! apart.

pub mod paths;
pub mod problem;
pub mod types;

pub use problem::{FieldError, Problem};
