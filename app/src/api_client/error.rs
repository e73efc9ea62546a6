use crate::api::{Problem, ProblemCode};

/// Why an API call did not produce its result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server refused, saying why (RFC 9457 problem details).
    #[error("{}", .0.detail)]
    Problem(Box<Problem>),
    /// The access token was refused and the session could not be renewed.
    #[error("Your session has ended. Please sign in again.")]
    SessionExpired,
    /// The action needed the user to confirm who they are, and they
    /// declined: nothing was changed.
    #[error("Cancelled: confirm your password to do this.")]
    ReauthenticationCancelled,
    /// No answer: offline, or the server is unreachable.
    #[error("Could not reach the server. Check your connection and try again.")]
    Network(String),
    /// An answer that is not what the API promises.
    #[error("The server sent an answer this page does not understand.")]
    Decode(String),
    /// An error status without a problem body (a proxy's error page, say).
    #[error("The server answered with status {status}. Please try again.")]
    Unexpected { status: u16 },
}

impl From<Problem> for ClientError {
    fn from(problem: Problem) -> Self {
        Self::Problem(Box::new(problem))
    }
}

impl ClientError {
    /// The problem's stable code, when the server sent one.
    pub fn code(&self) -> Option<ProblemCode> {
        match self {
            Self::Problem(problem) => Some(problem.code),
            _ => None,
        }
    }

    /// The server's message for one form field.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            Self::Problem(problem) => problem.field_message(field).map(str::to_owned),
            _ => None,
        }
    }

    /// A sentence to show a person.
    pub fn message(&self) -> String {
        self.to_string()
    }
}
