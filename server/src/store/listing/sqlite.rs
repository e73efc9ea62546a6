//! SQLite's steps of a search of three characters or more (see the
//! module above for why there are three, and in this order).

use sqlx::{any::AnyRow, AnyPool, FromRow, Row};

use super::{
    sql::{Bind, Sql},
    Listed, PROBE_CANDIDATES, SCAN_WINDOW,
};
use crate::{db::Backend, store::After};

/// Step 1: the matches among the rows that hold the FTS5 query `ends` (the
/// term's first and last trigrams), if there are at most
/// [`PROBE_CANDIDATES`] of those; `None` if there are more. One statement:
/// the candidates are counted as they are read (no further than one past
/// the bound), and only a bounded few are fetched, tested and sorted. Its
/// rows are the count and the page's rows, or the count alone (its other
/// columns null) when the page is empty or the candidates too many.
pub(super) async fn through_ends<T>(
    pool: &AnyPool,
    listed: Listed,
    ends: &str,
    pattern: &str,
    after: Option<&After>,
    limit: i64,
) -> Result<Option<Vec<T>>, sqlx::Error>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let Listed {
        table,
        columns,
        search_table,
    } = listed;
    let mut sql = Sql::new(format!(
        "WITH probed AS MATERIALIZED (SELECT rowid AS candidate FROM {search_table} \
         WHERE {search_table} MATCH "
    ));
    sql.bind(Bind::Text(ends.to_owned()))
        .push(" LIMIT ")
        .bind(Bind::Int(PROBE_CANDIDATES + 1))
        .push(
            "), counted AS (SELECT COUNT(*) AS probed FROM probed) \
             SELECT counted.probed, page.* FROM counted LEFT JOIN (SELECT ",
        )
        .push(columns)
        .push(&format!(
            " FROM {table} WHERE (SELECT probed FROM counted) <= "
        ))
        .bind(Bind::Int(PROBE_CANDIDATES))
        .push(" AND rowid IN (SELECT candidate FROM probed) AND ");
    sql.matches(pattern, Backend::Sqlite);
    if let Some(after) = after {
        sql.condition(false).after(after);
    }
    sql.order(limit)
        .push(") page ON 1 = 1 ORDER BY page.created_at, page.id");
    let rows = sql.fetch_rows(pool, true).await?;
    let probed: i64 = match rows.first() {
        Some(row) => row.try_get("probed")?,
        None => 0,
    };
    if probed > PROBE_CANDIDATES {
        return Ok(None);
    }
    let mut page = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.try_get::<Option<String>, _>("id")?.is_some() {
            page.push(T::from_row(row)?);
        }
    }
    Ok(Some(page))
}

/// Step 2: the key of the [`SCAN_WINDOW`]th row after `after`, the
/// window's last; `None` if the list ends before it.
pub(super) async fn window_end(
    pool: &AnyPool,
    listed: Listed,
    after: Option<&After>,
) -> Result<Option<After>, sqlx::Error> {
    let mut sql = Sql::new(format!("SELECT created_at, id FROM {}", listed.table));
    if let Some(after) = after {
        sql.condition(true).after(after);
    }
    sql.order(1)
        .push(" OFFSET ")
        .bind(Bind::Int(SCAN_WINDOW - 1));
    let end: Vec<(i64, String)> = sql.fetch_all(pool).await?;
    Ok(end.into_iter().next().map(|(at, id)| After { at, id }))
}

/// Step 2: the matches after `after` up to the window's last row
/// `end`, read in list order until a page is full.
pub(super) async fn in_window<T>(
    pool: &AnyPool,
    listed: Listed,
    pattern: &str,
    after: Option<&After>,
    end: &After,
    limit: i64,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let Listed { table, columns, .. } = listed;
    let mut sql = Sql::new(format!("SELECT {columns} FROM {table} WHERE "));
    if let Some(after) = after {
        sql.after(after).push(" AND ");
    }
    sql.up_to(end).push(" AND ");
    sql.matches(pattern, Backend::Sqlite).order(limit);
    sql.fetch_all(pool).await
}

/// Step 3: the rows that hold the FTS5 query `trigrams`, tested and sorted.
pub(super) async fn through_fts<T>(
    pool: &AnyPool,
    listed: Listed,
    trigrams: &str,
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
    sql.bind(Bind::Text(trigrams.to_owned())).push(") AND ");
    sql.matches(pattern, Backend::Sqlite);
    if let Some(after) = after {
        sql.condition(false).after(after);
    }
    sql.order(limit);
    sql.fetch_all(pool).await
}
