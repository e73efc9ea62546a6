//! Lists a page at a time: the checked query (`q`, `limit`, `cursor`) and
//! opaque cursors that say where the previous page ended. Keyset paging on
//! (creation time, id) visits every row once, however many are added while
//! a client pages.

use app::api::{types::ListQuery, FieldError};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

use crate::{error::ApiError, store::After};

const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;
const MAX_QUERY_CHARS: usize = 100;

/// A list query, checked.
pub struct Page {
    /// Lower-cased: the list holds the rows whose email or name contains it.
    pub search: Option<String>,
    pub after: Option<After>,
    pub limit: u32,
}

impl Page {
    /// How many rows to fetch: one more than the page, to know whether
    /// another page follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Cuts `rows` (fetched with [`Page::fetch`]) to the page and returns
    /// the cursor of the next one, if any.
    pub fn next_cursor<T>(&self, rows: &mut Vec<T>, key: impl Fn(&T) -> After) -> Option<String> {
        let more = rows.len() > self.limit as usize;
        rows.truncate(self.limit as usize);
        match rows.last() {
            Some(last) if more => Some(encode_cursor(&key(last))),
            _ => None,
        }
    }

    pub fn read(query: &ListQuery) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let limit = query.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            errors.push(FieldError::new("limit", "Ask for 1 to 100 at a time."));
        }
        let search = query
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_lowercase);
        if search
            .as_deref()
            .is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS || q.contains('\0'))
        {
            errors.push(FieldError::new("q", "Search with at most 100 characters."));
        }
        let after = match query.cursor.as_deref().filter(|cursor| !cursor.is_empty()) {
            Some(cursor) => match decode_cursor(cursor) {
                Some(after) => Some(after),
                None => {
                    errors.push(FieldError::new(
                        "cursor",
                        "This cursor is not one we gave out.",
                    ));
                    None
                }
            },
            None => None,
        };
        if errors.is_empty() {
            Ok(Self {
                search,
                after,
                limit,
            })
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// Opaque to clients: where the last page ended.
pub fn encode_cursor(after: &After) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", after.at, after.id))
}

fn decode_cursor(cursor: &str) -> Option<After> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (at, id) = text.split_once(':')?;
    let id = uuid::Uuid::try_parse(id).ok()?;
    Some(After {
        at: at.parse().ok()?,
        id: id.hyphenated().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        let after = After {
            at: 1_795_000_000,
            id: uuid::Uuid::from_u128(9).to_string(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&after)), Some(after));
        for forged in [
            "",
            "!!",
            "bm90aGluZw",
            &URL_SAFE_NO_PAD.encode("12:not-a-uuid"),
        ] {
            assert_eq!(decode_cursor(forged), None, "{forged}");
        }
    }
}
