//! The device list a page at a time, most recently used first, with a
//! cursor like the other lists. Attacks tried: a forged cursor, another
//! account's cursor, a search where none is offered.

use serde_json::Value;

use crate::{both_backends, helpers::*};

both_backends!(
    the_sessions_page_by_cursor_each_once_most_recently_used_first,
    bad_queries_are_field_errors_and_a_cursor_lists_only_ones_own,
);

async fn page(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.get_with_token(&format!("/api/me/sessions{query}"), token)
        .await
}

async fn read_page(response: reqwest::Response) -> (Vec<String>, Vec<String>, Option<String>) {
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let sessions = body["sessions"].as_array().unwrap();
    (
        sessions
            .iter()
            .map(|session| session["id"].as_str().unwrap().to_owned())
            .collect(),
        sessions
            .iter()
            .map(|session| session["last_used_at"].as_str().unwrap().to_owned())
            .collect(),
        body["next_cursor"].as_str().map(str::to_owned),
    )
}

async fn the_sessions_page_by_cursor_each_once_most_recently_used_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.signed_in("pager").await;
    for _ in 0..4 {
        app.sign_in(&first.email).await;
    }
    let (all, _, none) = read_page(page(&app, &first.access_token, "").await).await;
    assert_eq!(all.len(), 5);
    assert_eq!(none, None);

    let mut seen = Vec::new();
    let mut times = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            None => "?limit=2".to_owned(),
            Some(cursor) => format!("?limit=2&cursor={cursor}"),
        };
        let (ids, last_used, next) = read_page(page(&app, &first.access_token, &query).await).await;
        assert!(ids.len() <= 2);
        seen.extend(ids);
        times.extend(last_used);
        pages += 1;
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    // Every session once, in the order of the whole list.
    assert_eq!(seen, all);
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "most recently used first");
}

async fn bad_queries_are_field_errors_and_a_cursor_lists_only_ones_own(backend: Backend) {
    let app = spawn_app(backend).await;
    let mine = app.signed_in("cursor-owner").await;
    app.sign_in(&mine.email).await;
    let theirs = app.signed_in("cursor-reader").await;

    for (query, field) in [
        ("?cursor=not-a-cursor", "cursor"),
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?q=firefox", "q"),
    ] {
        let response = page(&app, &mine.access_token, query).await;
        assert_eq!(response.status(), 422, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }

    // A cursor from one account's list positions another's; it shows only
    // that account's own sessions.
    let (_, _, cursor) = read_page(page(&app, &mine.access_token, "?limit=1").await).await;
    let cursor = cursor.expect("a second page");
    let (listed, _, _) =
        read_page(page(&app, &theirs.access_token, &format!("?cursor={cursor}")).await).await;
    let (own, _, _) = read_page(page(&app, &theirs.access_token, "").await).await;
    assert!(
        listed.iter().all(|id| own.contains(id)),
        "{listed:?} not in {own:?}"
    );
}
