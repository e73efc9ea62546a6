//! The JSON API contract, shared so that the server and the SPA cannot drift
//! apart: the endpoints, their bodies, the typed values inside them and the
//! problems they answer with.

pub mod activity;
pub mod endpoints;
pub mod lifecycle;
pub mod passkeys;
pub mod problem;
pub mod types;
pub mod values;

pub use problem::{FieldError, Problem, ProblemCode};
