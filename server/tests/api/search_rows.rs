//! The rows the search tests search among, and their searches: filler rows
//! put straight into a table, the rows to find, and every page of a search.

use std::collections::HashSet;

use serde_json::Value;

use crate::helpers::*;

/// More rows than a search on SQLite walks through, when they all hold the
/// term's first and last trigrams, before it asks for more of them.
pub const PAST_THE_WINDOW: i64 = 2_100;

/// `count` filler rows, created at `start`, `start + 1`, …: "Someone 17",
/// someone17@example.org. No letter k, no underscore, no quote.
pub async fn fill(app: &TestApp, backend: Backend, table: &str, count: i64, start: i64) {
    let digits = match backend {
        Backend::Sqlite => "printf('%012d', i)",
        Backend::Postgres => "lpad(CAST(i AS TEXT), 12, '0')",
    };
    let (columns, values) = match table {
        "people" => ("id, name, email, version, created_at, updated_at", "1"),
        _ => (
            "id, name, email, password_hash, role, email_verified_at, created_at, updated_at",
            "'x', 'user', 1",
        ),
    };
    app.execute(&format!(
        "WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
         INSERT INTO {table} ({columns}) \
         SELECT '00000000-0000-4000-8000-' || {digits}, 'Someone ' || i, \
                'someone' || i || '@example.org', {values}, {start} + i, {start} + i FROM n",
        last = count - 1,
    ))
    .await;
}

pub fn filler(i: i64) -> (String, String) {
    (format!("Someone {i}"), format!("someone{i}@example.org"))
}

/// A person put straight into the table, with an id that sorts by `n`.
pub async fn insert_person(app: &TestApp, n: u32, name: &str, email: &str, created_at: i64) {
    app.execute(&format!(
        "INSERT INTO people (id, name, email, version, created_at, updated_at) \
         VALUES ('11111111-0000-4000-8000-{n:012}', '{}', '{email}', 1, {created_at}, {created_at})",
        name.replace('\'', "''"),
    ))
    .await;
}

/// Every row a search finds, page after page of `limit`; none twice.
pub async fn search_all(app: &TestApp, token: &str, list: &str, q: &str, limit: u32) -> Vec<Value> {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/{list}?q={q}&limit={limit}");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let response = app.get_with_token(&path, token).await;
        assert_eq!(response.status(), 200, "{path}");
        let page: Value = response.json().await.unwrap();
        let rows = page[list].as_array().unwrap();
        assert!(rows.len() <= limit as usize);
        for row in rows {
            assert!(
                seen.insert(row["id"].as_str().unwrap().to_owned()),
                "{q}: seen twice: {row}"
            );
            found.push(row.clone());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return found,
        }
    }
}

pub async fn names(app: &TestApp, token: &str, list: &str, q: &str, limit: u32) -> Vec<String> {
    search_all(app, token, list, q, limit)
        .await
        .iter()
        .map(|row| row["name"].as_str().unwrap().to_owned())
        .collect()
}
