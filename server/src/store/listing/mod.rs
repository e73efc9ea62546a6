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
//! indexed column, given a plan made for the term at hand (see
//! [`in_order`]). SQLite has no such statistics; but its index can hand out
//! the candidates in list order (the FTS5 table's rowid is a key made from
//! the creation second, see `sqlite`), so a search there walks through
//! them in order and stops at a full page, in up to two steps:
//! 1. it walks through the rows holding the term's first and last
//!    trigrams, and stops at a full page: a common term fills it at once, a
//!    rare one after as many candidates as it takes. If more than
//!    [`PROBE_CANDIDATES`] candidates leave the page unfilled (many rows
//!    hold both trigrams, few the term), it stops there too;
//! 2. then it walks through the rows holding a third of the term's
//!    trigrams, which leave few candidates besides the matches.
//!
//! Either way the LIKE decides what matches: the index only narrows which
//! rows are tested, so the answer is the one a full scan would give. Every
//! trigram the index is asked for costs reading that trigram's posting
//! list (on SQLite, as far as the walk goes), long for a common one, which
//! is why no step asks for all of them. A term shorter than three
//! characters has no trigram, so the index cannot help it: it is always
//! answered in list order.

use sqlx::{any::AnyRow, AnyPool, FromRow};

mod sql;
mod sqlite;
mod terms;

use self::{
    sql::{Bind, Sql},
    sqlite::walk,
    terms::{ends_pattern, escape_like, fts_ends, fts_trigrams, INDEXED_TERM_CHARS},
};
use super::After;
use crate::db::{Backend, Database};

/// How many candidates of the term's first and last trigrams a search on
/// SQLite walks through at most (step 1) before it asks for more of the
/// term's trigrams: about 1 ms of reading. A term that does not fill a page
/// within them is in under one in fifty of the rows holding both.
pub const PROBE_CANDIDATES: i64 = 1_000;

/// PostgreSQL's column of what a search tests, in both lists (see
/// `migrations/postgres/20261207000001_one_search_text.sql`): the email and
/// the name, lower-cased and joined by a line break, stored, with a trigram
/// index of its own. A search reads each trigram's posting list once, not
/// once per column, and tests a candidate without lower-casing anything.
/// No email or name holds a line break (both refuse control characters),
/// so a term without one is in this text exactly when it is in either
/// column; a term with one is tested against each column.
const SEARCH_TEXT: &str = "search_text";

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
    let Some(term) = search else {
        return in_order(db, listed, None, after, limit).await;
    };
    let pattern = format!("%{}%", escape_like(term));
    if term.chars().count() < INDEXED_TERM_CHARS {
        return in_order(db, listed, Some(&pattern), after, limit).await;
    }
    if db.backend() == Backend::Postgres {
        return through_trigrams(db.pool(), listed, term, after, limit).await;
    }
    let pool = db.pool();
    if let Some(found) = walk(
        pool,
        listed,
        &fts_ends(term),
        &pattern,
        after,
        limit,
        Some(PROBE_CANDIDATES),
    )
    .await?
    {
        return Ok(found);
    }
    // Unbounded, the walk always ends with the page.
    let found = walk(
        pool,
        listed,
        &fts_trigrams(term),
        &pattern,
        after,
        limit,
        None,
    )
    .await?;
    Ok(found.unwrap_or_default())
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
        sql.condition(true).matches(pattern, db.backend());
    }
    if let Some(after) = after {
        sql.condition(pattern.is_none()).after(after);
    }
    sql.order(limit);
    let prepared = pattern.is_none() || db.backend() == Backend::Sqlite;
    sql.fetch_all_planned(db.pool(), prepared).await
}

/// PostgreSQL: the candidates from the trigram index of [`SEARCH_TEXT`],
/// each tested for the term itself.
///
/// The index is asked for the pattern of the term's first and last three
/// characters, `%gra%hop%` for `grace hop`: two of its trigrams, which
/// still narrow a million rows to a few hundred candidates, but spare
/// reading the long posting lists of the rest when every trigram is common
/// (13-17 ms at a million rows for all of them, 4-6 ms for a third, 2-4 ms
/// for these two). The test of the
/// whole term is `strpos`, which the planner, having no statistics for it,
/// takes to pass almost every row: so it still estimates the matches from
/// the column's statistics (a second LIKE would have it multiply two
/// estimates, guess far too few matches for a common term, and sort all of
/// them through the index instead of reading a few rows in list order).
/// Planned afresh for the term, like [`in_order`].
///
/// The joined values are all different, so the planner's estimate comes
/// from a histogram of them, and the migration keeps 1,000 of them instead
/// of 100: a histogram entry that happens to match then rates a term at
/// 0.1% instead of 1% (a rare term's estimate was 1% after one `ANALYZE` in
/// three or so, and the list was read in order, 25-60 ms). At 0.1%, and
/// with pages out of order priced as cached ([`crate::db`]), the planner
/// still takes the index; a term in 2% of the rows is still read in order.
async fn through_trigrams<T>(
    pool: &AnyPool,
    listed: Listed,
    term: &str,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let Listed { table, columns, .. } = listed;
    let mut sql = Sql::new(format!("SELECT {columns} FROM {table} WHERE "));
    sql.push(SEARCH_TEXT)
        .push(" LIKE ")
        .bind(Bind::Text(ends_pattern(term)))
        .push(" ESCAPE '\\' AND ");
    if term.contains('\n') {
        sql.push("(strpos(LOWER(email), ")
            .bind(Bind::Text(term.to_owned()))
            .push(") <> 0 OR strpos(LOWER(name), ")
            .bind(Bind::Text(term.to_owned()))
            .push(") <> 0)");
    } else {
        sql.push(&format!("strpos({SEARCH_TEXT}, "))
            .bind(Bind::Text(term.to_owned()))
            .push(") <> 0");
    }
    if let Some(after) = after {
        sql.condition(false).after(after);
    }
    sql.order(limit);
    sql.fetch_all_planned(pool, false).await
}
