//! RFC 9457 problem details, the body of every API error.

use serde::{Deserialize, Serialize};

/// The media type of every error body the API returns.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem. `code` is a stable snake_case identifier that
/// clients branch on; `title` and `detail` are for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl Problem {
    /// The `type` URI for a code: a relative reference, resolved by clients
    /// against the API's own origin.
    pub fn type_for(code: &str) -> String {
        format!("/problems/{code}")
    }

    pub fn new(status: u16, code: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            type_uri: Self::type_for(code),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            code: code.to_owned(),
            errors: Vec::new(),
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// The message for one field, if the server rejected it.
    pub fn field_message(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_type_and_omits_empty_errors() {
        let problem = Problem::new(404, "not_found", "Not Found", "No such thing.");
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["type"], "/problems/not_found");
        assert_eq!(json["status"], 404);
        assert!(json.get("errors").is_none());
    }

    #[test]
    fn finds_field_messages() {
        let problem = Problem::new(422, "validation_failed", "Invalid", "Fix it.")
            .with_errors(vec![FieldError::new("email", "bad")]);
        assert_eq!(problem.field_message("email"), Some("bad"));
        assert_eq!(problem.field_message("name"), None);
        let json = serde_json::to_string(&problem).unwrap();
        let back: Problem = serde_json::from_str(&json).unwrap();
        assert_eq!(back, problem);
    }
}
