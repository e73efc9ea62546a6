//! What fills an endpoint's path: ids for `{id}`, and a list's query.

use crate::api::{
    types::ListQuery,
    values::{PasskeyId, PersonId, SessionId, UserId},
};

/// Values that fill a path pattern's `{parameters}`, and its query string.
pub trait PathParams {
    fn fill(&self, pattern: &'static str) -> String;
}

/// A list's search and page: `?q=&limit=&cursor=`.
impl PathParams for ListQuery {
    fn fill(&self, pattern: &'static str) -> String {
        let mut url = pattern.to_owned();
        let mut separator = '?';
        let limit = self.limit.map(|limit| limit.to_string());
        for (name, value) in [
            ("q", self.q.as_deref()),
            ("limit", limit.as_deref()),
            ("cursor", self.cursor.as_deref()),
        ] {
            if let Some(value) = value {
                url.push(separator);
                url.push_str(name);
                url.push('=');
                url.push_str(&percent_encode(value));
                separator = '&';
            }
        }
        url
    }
}

/// RFC 3986 query encoding: unreserved characters as they are, every other
/// byte as `%XX`.
fn percent_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A query parameter, as documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryParam {
    pub name: &'static str,
    pub description: &'static str,
    /// `Some((min, max))` for an integer; `None` for text.
    pub integer_range: Option<(u32, u32)>,
}

const SEARCH: QueryParam = QueryParam {
    name: "q",
    description: "Matches any part of the email address or the name, ignoring case.",
    integer_range: None,
};
const LIMIT: QueryParam = QueryParam {
    name: "limit",
    description: "How many to return: 1 to 100, 20 when absent.",
    integer_range: Some((1, 100)),
};
const CURSOR: QueryParam = QueryParam {
    name: "cursor",
    description: "The `next_cursor` of the previous page.",
    integer_range: None,
};

/// The query of a searched list.
pub const LIST_QUERY: &[QueryParam] = &[SEARCH, LIMIT, CURSOR];

/// The query of a list that pages but is not searched (`q` is refused).
pub const PAGE_QUERY: &[QueryParam] = &[LIMIT, CURSOR];

/// Endpoints without path parameters.
impl PathParams for () {
    fn fill(&self, pattern: &'static str) -> String {
        pattern.to_owned()
    }
}

/// Ids fill the one `{id}` of their endpoint's path.
macro_rules! id_params {
    ($($id:ty),*) => {
        $(impl PathParams for $id {
            fn fill(&self, pattern: &'static str) -> String {
                pattern.replace("{id}", &self.to_string())
            }
        })*
    };
}
id_params!(PasskeyId, PersonId, SessionId, UserId);
