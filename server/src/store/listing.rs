//! One page of a list of users or people, optionally searched: the queries
//! both tables share (each has `created_at`, `id`, `email` and `name`).
//!
//! Paging is by keyset on (created_at, id), written as the row-value
//! comparison `(created_at, id) > (?, ?)`: the `(created_at, id)` index
//! seeks straight to the cursor, so a page deep in the list costs what the
//! first one does, and nothing counts or reads the rows before it. The
//! first page has no such condition at all (a `? IS NULL OR …` there would
//! keep the index from seeking on the later ones).
//!
//! A search is a case-insensitive substring of the email or the name,
//! `LOWER(column) LIKE '%term%'`. There are two ways to find the matches,
//! each cheap where the other is slow:
//! - in list order, testing the rows after the cursor one by one: a common
//!   term fills a page within a few rows, but a rare one reads the table;
//! - through the substring index (PostgreSQL's `pg_trgm`, SQLite's FTS5
//!   trigram table): a rare term has few candidates, but every candidate
//!   must be read and sorted to find the first page, which is slow for a
//!   term that half the rows contain.
//!
//! PostgreSQL chooses between them itself, from its statistics of the
//! indexed expressions, given a plan made for the term at hand (see
//! [`in_order`]). SQLite has no such statistics, so there a search first
//! tests the next [`SCAN_WINDOW`] rows in list order, and asks the index
//! only when they hold less than a page, that is when the term is rare (or
//! the list ends there). Either way the LIKE decides what matches: the
//! index only narrows which rows are tested, so the answer is the one a
//! full scan would give. A term shorter than three characters has no
//! trigram, so the index cannot help it: it is always answered in list
//! order.

use sqlx::{any::AnyRow, AnyPool, FromRow};

use super::After;
use crate::db::{Backend, Database};

/// How many rows after the cursor a search on SQLite tests in list order
/// before it turns to the index: about 1.5 ms of reading. A term that does
/// not fill a page within them is in under one row in a hundred, few
/// enough to sort.
pub const SCAN_WINDOW: i64 = 2_000;

/// The shortest term the trigram indexes can answer.
const INDEXED_TERM_CHARS: usize = 3;

/// A table that can be listed: users or people.
#[derive(Debug, Clone, Copy)]
pub struct Listed {
    /// The table, and its columns to select.
    pub table: &'static str,
    pub columns: &'static str,
    /// SQLite's FTS5 table over its email and name (see the migration in
    /// `migrations/sqlite`); PostgreSQL's index needs no name in queries.
    pub search_table: &'static str,
}

/// One page in creation order (ties broken by id) after `after`; with a
/// `search` (lower-cased by the caller), only the rows whose email or name
/// contains it.
pub async fn page<T>(
    db: &Database,
    listed: Listed,
    search: Option<&str>,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let pool = db.pool();
    let Some(term) = search else {
        return in_order(db, listed, None, after, limit).await;
    };
    let pattern = format!("%{}%", escape_like(term));
    if db.backend() == Backend::Postgres || term.chars().count() < INDEXED_TERM_CHARS {
        return in_order(db, listed, Some(&pattern), after, limit).await;
    }
    let found = in_window(pool, listed, &pattern, after, limit).await?;
    if i64::try_from(found.len()).unwrap_or(i64::MAX) >= limit
        || !window_is_full(pool, listed, after).await?
    {
        return Ok(found);
    }
    through_fts(pool, listed, term, &pattern, after, limit).await
}

/// A query's text with its `$n` parameters numbered as they are added.
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

enum Bind {
    Int(i64),
    Text(String),
}

impl Sql {
    fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            binds: Vec::new(),
        }
    }

    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        self.text.push_str(&format!("${}", self.binds.len()));
        self
    }

    /// `WHERE` or `AND` before a condition: `first` says which.
    fn condition(&mut self, first: bool) -> &mut Self {
        self.push(if first { " WHERE " } else { " AND " })
    }

    /// `(created_at, id) > (…, …)`.
    fn after(&mut self, after: &After) -> &mut Self {
        self.push("(created_at, id) > (")
            .bind(Bind::Int(after.at))
            .push(", ")
            .bind(Bind::Text(after.id.clone()))
            .push(")")
    }

    /// The email or the name contains the (escaped) pattern.
    fn matches(&mut self, pattern: &str) -> &mut Self {
        self.push("(LOWER(email) LIKE ")
            .bind(Bind::Text(pattern.to_owned()))
            .push(" ESCAPE '\\' OR LOWER(name) LIKE ")
            .bind(Bind::Text(pattern.to_owned()))
            .push(" ESCAPE '\\')")
    }

    fn order(&mut self, limit: i64) -> &mut Self {
        self.push(" ORDER BY created_at, id LIMIT ")
            .bind(Bind::Int(limit))
    }

    async fn fetch_all<T>(&self, pool: &AnyPool) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        self.fetch_all_planned(pool, true).await
    }

    /// `prepared: false` has PostgreSQL plan the query afresh for these
    /// values rather than reuse a plan made for any values.
    async fn fetch_all_planned<T>(
        &self,
        pool: &AnyPool,
        prepared: bool,
    ) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let mut query = sqlx::query_as(&self.text).persistent(prepared);
        for bind in &self.binds {
            query = match bind {
                Bind::Int(value) => query.bind(*value),
                Bind::Text(value) => query.bind(value.as_str()),
            };
        }
        query.fetch_all(pool).await
    }
}

/// The rows after `after` in list order, those matching `pattern` if any,
/// read until a page is full. On PostgreSQL with a pattern, the planner
/// answers it from the trigram index instead when its statistics say few
/// rows match. That needs a plan made for this pattern: a statement
/// prepared once and kept would, after a few runs, get PostgreSQL's generic
/// plan, made for a pattern it does not know, which guesses one row in 100
/// and reads the table in order, to its end when nothing matches.
async fn in_order<T>(
    db: &Database,
    listed: Listed,
    pattern: Option<&str>,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let mut sql = Sql::new(format!("SELECT {} FROM {}", listed.columns, listed.table));
    if let Some(pattern) = pattern {
        sql.condition(true).matches(pattern);
    }
    if let Some(after) = after {
        sql.condition(pattern.is_none()).after(after);
    }
    sql.order(limit);
    let prepared = pattern.is_none() || db.backend() == Backend::Sqlite;
    sql.fetch_all_planned(db.pool(), prepared).await
}

/// The matches among the next [`SCAN_WINDOW`] rows after `after`.
async fn in_window<T>(
    pool: &AnyPool,
    listed: Listed,
    pattern: &str,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let Listed { table, columns, .. } = listed;
    let mut sql = Sql::new(format!(
        "SELECT {columns} FROM (SELECT {columns} FROM {table}"
    ));
    if let Some(after) = after {
        sql.condition(true).after(after);
    }
    sql.order(SCAN_WINDOW).push(") window_rows WHERE ");
    sql.matches(pattern).order(limit);
    sql.fetch_all(pool).await
}

/// Whether [`SCAN_WINDOW`] rows follow `after`: if not, the window held the
/// rest of the list, and what it matched is all there is.
async fn window_is_full(
    pool: &AnyPool,
    listed: Listed,
    after: Option<&After>,
) -> Result<bool, sqlx::Error> {
    let mut sql = Sql::new(format!(
        "SELECT COUNT(*) AS n FROM (SELECT id FROM {}",
        listed.table
    ));
    if let Some(after) = after {
        sql.condition(true).after(after);
    }
    sql.order(SCAN_WINDOW).push(") window_rows");
    let counted: Vec<(i64,)> = sql.fetch_all(pool).await?;
    Ok(counted.first().is_some_and(|(n,)| *n >= SCAN_WINDOW))
}

/// SQLite: the candidates from the FTS5 trigram table, tested and sorted.
async fn through_fts<T>(
    pool: &AnyPool,
    listed: Listed,
    term: &str,
    pattern: &str,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let Listed {
        table,
        columns,
        search_table,
    } = listed;
    let mut sql = Sql::new(format!(
        "SELECT {columns} FROM {table} WHERE rowid IN \
         (SELECT rowid FROM {search_table} WHERE {search_table} MATCH "
    ));
    sql.bind(Bind::Text(fts_phrase(term))).push(") AND ");
    sql.matches(pattern);
    if let Some(after) = after {
        sql.condition(false).after(after);
    }
    sql.order(limit);
    sql.fetch_all(pool).await
}

/// An FTS5 query for `term` as one phrase: in double quotes, a quote
/// doubled, every other character literal. With the trigram tokenizer a
/// phrase matches the rows that contain it anywhere, ignoring case.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// For `LIKE … ESCAPE '\'`: `%`, `_` and the escape character itself match
/// literally.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_and_fts_take_every_character_literally() {
        assert_eq!(escape_like(r"100%_\x"), r"100\%\_\\x");
        assert_eq!(fts_phrase(r#"o"brien "*"#), r#""o""brien ""*""#);
    }

    #[test]
    fn parameters_are_numbered_in_order() {
        let mut sql = Sql::new("SELECT 1 FROM t");
        sql.condition(true).matches("%a%");
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
