//! SQLite's search of three characters or more: a walk through the FTS5
//! trigram table in list order (see the module above for why, and for the
//! two steps that take it).
//!
//! The FTS5 table's rowid is not the row's: it is a *list key*,
//! `created_at * 2^20 + (rowid mod 2^20)` (see the migration
//! `migrations/sqlite/20261207000001_search_in_list_order.sql`), so FTS5,
//! which answers in rowid order, hands out candidates by creation second,
//! and a walk can stop at the first full page instead of reading and
//! sorting every candidate. The low bits only keep the keys of one second
//! apart: two rows created in the same second share a key only if their
//! rowids are 2^20 apart, which takes a million inserts in that second.
//! Within a second the list's order is by id, which the keys do not know:
//! so a walk tests every row of each second its candidates are in.

use sqlx::{any::AnyRow, AnyPool, FromRow, Row};

use super::{
    sql::{Bind, Sql},
    Listed,
};
use crate::{db::Backend, store::After};

/// How many low bits of a list key are not the creation second. The
/// migration's triggers compute keys with the same number (2^20).
const KEY_LOW_BITS: u32 = 20;

/// How many list keys a second has: the factor of `created_at` in a key.
const KEYS_PER_SECOND: i64 = 1 << KEY_LOW_BITS;

/// How many candidates a walk asks the index for at first, per row of the
/// page; each next batch is four times the last.
const FIRST_BATCH_PER_ROW: i64 = 2;

/// The first `limit` rows after `after` that match `pattern`, found by
/// walking through the rows the FTS5 query `fts` matches (those that may
/// hold the term) in list order. With a `bound`, gives up (`None`) once it
/// has read that many candidates without filling the page: their matches
/// are then too sparse for a walk to be cheap.
///
/// Each batch is one statement: the next candidates' keys, in order; and
/// the matching rows created in their seconds, in list order, up to a page.
/// Every second up to the batch's last one that has a candidate has one in
/// the batch, and each such second's rows are all tested: so the batch
/// answers for every row up to the end of its last second, and the next
/// batch, larger, starts with the second after it.
pub(super) async fn walk<T>(
    pool: &AnyPool,
    listed: Listed,
    fts: &str,
    pattern: &str,
    after: Option<&After>,
    limit: i64,
    bound: Option<i64>,
) -> Result<Option<Vec<T>>, sqlx::Error>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let wanted = usize::try_from(limit).unwrap_or(0);
    let mut from = after.map_or(i64::MIN, |after| first_key(after.at));
    let mut batch = limit.max(1).saturating_mul(FIRST_BATCH_PER_ROW);
    let mut read = 0_i64;
    let mut page = Vec::with_capacity(wanted);
    loop {
        if let Some(bound) = bound {
            batch = batch.min(bound - read).max(1);
        }
        let rows = batch_statement(listed, fts, pattern, after, from, batch, limit)
            .fetch_rows(pool, true)
            .await?;
        let Some(first) = rows.first() else {
            return Ok(Some(page));
        };
        let candidates: i64 = first.try_get("candidates")?;
        let last_key: Option<i64> = first.try_get("last_key")?;
        read += candidates;
        for row in &rows {
            if page.len() < wanted && row.try_get::<Option<String>, _>("id")?.is_some() {
                page.push(T::from_row(row)?);
            }
        }
        // Fewer candidates than asked for: there are no more.
        let (true, Some(last_key)) = (candidates == batch && page.len() < wanted, last_key) else {
            return Ok(Some(page));
        };
        if bound.is_some_and(|bound| read >= bound) {
            return Ok(None);
        }
        let Some(next_second) = second_of(last_key).checked_add(1) else {
            return Ok(Some(page));
        };
        from = first_key(next_second);
        batch = batch.saturating_mul(4);
    }
}

/// One batch of a [`walk`]: its rows are the candidates' count and last
/// key, with a matching row each, or alone (the row's columns null) when
/// none of their seconds' rows matches.
fn batch_statement(
    listed: Listed,
    fts: &str,
    pattern: &str,
    after: Option<&After>,
    from: i64,
    batch: i64,
    limit: i64,
) -> Sql {
    let Listed {
        table,
        columns,
        search_table,
    } = listed;
    let mut sql = Sql::new(format!(
        "WITH candidates AS MATERIALIZED (SELECT rowid AS list_key FROM {search_table} \
         WHERE {search_table} MATCH "
    ));
    sql.bind(Bind::Text(fts.to_owned()))
        .push(" AND rowid >= ")
        .bind(Bind::Int(from))
        .push(" ORDER BY rowid LIMIT ")
        .bind(Bind::Int(batch))
        .push(
            "), walked AS (SELECT COUNT(*) AS candidates, MAX(list_key) AS last_key \
             FROM candidates) \
             SELECT walked.candidates, walked.last_key, page.* FROM walked LEFT JOIN (SELECT ",
        )
        .push(columns)
        .push(&format!(
            " FROM {table} WHERE created_at IN \
             (SELECT list_key >> {KEY_LOW_BITS} FROM candidates) AND "
        ));
    sql.matches(pattern, Backend::Sqlite);
    if let Some(after) = after {
        sql.condition(false).after(after);
    }
    sql.order(limit)
        .push(") page ON 1 = 1 ORDER BY page.created_at, page.id");
    sql
}

/// The first list key of a creation second (saturating: a cursor's time
/// comes from the client, and no row is created before or after these).
fn first_key(second: i64) -> i64 {
    second.saturating_mul(KEYS_PER_SECOND)
}

/// The creation second of a list key (`>>` in SQL: both round down).
fn second_of(key: i64) -> i64 {
    key.div_euclid(KEYS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_orders_by_its_second_first() {
        let key = |second: i64, rowid: i64| second * KEYS_PER_SECOND + (rowid & 0xF_FFFF);
        for second in [-3, -1, 0, 1, 1_700_000_000] {
            assert_eq!(first_key(second), key(second, 0));
            for rowid in [0, 1, 5, (1 << 20) - 1, 1 << 20, 123_456_789] {
                assert_eq!(second_of(key(second, rowid)), second, "{second} {rowid}");
                assert!(key(second, rowid) < first_key(second + 1));
            }
        }
        assert_eq!(first_key(i64::MAX), i64::MAX);
        assert_eq!(first_key(i64::MIN), i64::MIN);
    }
}
