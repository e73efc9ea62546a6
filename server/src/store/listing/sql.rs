//! A query's text with its `$n` parameters numbered as they are added, and
//! the conditions the listing queries share.

use sqlx::{any::AnyRow, AnyPool, FromRow};

use super::After;
use crate::db::Backend;

/// A query's text with its `$n` parameters numbered as they are added.
pub(super) struct Sql {
    text: String,
    binds: Vec<Bind>,
}

pub(super) enum Bind {
    Int(i64),
    Text(String),
}

impl Sql {
    pub(super) fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            binds: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    pub(super) fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        self.text.push_str(&format!("${}", self.binds.len()));
        self
    }

    /// `WHERE` or `AND` before a condition: `first` says which.
    pub(super) fn condition(&mut self, first: bool) -> &mut Self {
        self.push(if first { " WHERE " } else { " AND " })
    }

    /// `(created_at, id) > (…, …)`: the rows after a cursor.
    pub(super) fn after(&mut self, after: &After) -> &mut Self {
        self.key_compared(">", after)
    }

    fn key_compared(&mut self, operator: &str, key: &After) -> &mut Self {
        self.push(&format!("(created_at, id) {operator} ("))
            .bind(Bind::Int(key.at))
            .push(", ")
            .bind(Bind::Text(key.id.clone()))
            .push(")")
    }

    /// The email or the name contains the (escaped, lower-case) pattern,
    /// ignoring case. SQLite's LIKE and LOWER() ignore the case of ASCII
    /// letters only, so there a pattern with other letters is tested
    /// against each column lower-cased by the server's `fold()`
    /// (`db/fold.rs`), by the same rules as the term. An ASCII pattern is
    /// tested against the columns as they are, sparing a call of `fold()`
    /// for every row a short term reads in list order: LIKE already ignores
    /// the case of its letters. Only two letters beyond ASCII lower-case to
    /// an ASCII one, the Kelvin sign (U+212A, to `k`) and the capital I
    /// with a dot (U+0130, to `i` and a combining dot); an ASCII term does
    /// not find them.
    pub(super) fn matches(&mut self, pattern: &str, backend: Backend) -> &mut Self {
        let (email, name) = match backend {
            Backend::Sqlite if pattern.is_ascii() => ("(email LIKE ", " ESCAPE '\\' OR name LIKE "),
            Backend::Sqlite => ("(fold(email) LIKE ", " ESCAPE '\\' OR fold(name) LIKE "),
            Backend::Postgres => ("(LOWER(email) LIKE ", " ESCAPE '\\' OR LOWER(name) LIKE "),
        };
        self.push(email)
            .bind(Bind::Text(pattern.to_owned()))
            .push(name)
            .bind(Bind::Text(pattern.to_owned()))
            .push(" ESCAPE '\\')")
    }

    pub(super) fn order(&mut self, limit: i64) -> &mut Self {
        self.push(" ORDER BY created_at, id LIMIT ")
            .bind(Bind::Int(limit))
    }

    /// `prepared: false` has PostgreSQL plan the query afresh for these
    /// values rather than reuse a plan made for any values.
    pub(super) async fn fetch_all_planned<T>(
        &self,
        pool: &AnyPool,
        prepared: bool,
    ) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        self.fetch_rows(pool, prepared)
            .await?
            .iter()
            .map(T::from_row)
            .collect()
    }

    /// The rows as they come, for a caller that reads them column by column.
    pub(super) async fn fetch_rows(
        &self,
        pool: &AnyPool,
        prepared: bool,
    ) -> Result<Vec<AnyRow>, sqlx::Error> {
        let mut query = sqlx::query(&self.text).persistent(prepared);
        for bind in &self.binds {
            query = match bind {
                Bind::Int(value) => query.bind(*value),
                Bind::Text(value) => query.bind(value.as_str()),
            };
        }
        query.fetch_all(pool).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_in_order() {
        let mut sql = Sql::new("SELECT 1 FROM t");
        sql.condition(true).matches("%a%", Backend::Postgres);
        sql.condition(false).after(&After {
            at: 5,
            id: "x".into(),
        });
        sql.order(3);
        assert_eq!(
            sql.text,
            "SELECT 1 FROM t WHERE (LOWER(email) LIKE $1 ESCAPE '\\' OR LOWER(name) LIKE $2 \
             ESCAPE '\\') AND (created_at, id) > ($3, $4) ORDER BY created_at, id LIMIT $5"
        );
        assert_eq!(sql.binds.len(), 5);
    }
}
