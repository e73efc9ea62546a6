//! The people directory: every signed-in user may list, read, add and
//! replace people; only admins delete; replacing needs the current ETag.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{both_backends, helpers::*};

both_backends!(
    users_add_read_and_replace_people,
    only_admins_delete_people,
    replacing_needs_the_current_version,
    concurrent_replaces_with_one_version_let_exactly_one_win,
    invalid_people_are_422_and_unknown_ones_404,
    paging_people_visits_each_once_while_people_are_added,
);

async fn create(app: &TestApp, session: &Session, body: Value) -> reqwest::Response {
    app.send_with_token(
        Method::POST,
        "/api/people",
        &session.access_token,
        Some(&body),
    )
    .await
}

async fn put(
    app: &TestApp,
    session: &Session,
    id: &str,
    if_match: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = app
        .client
        .put(app.url(&format!("/api/people/{id}")))
        .bearer_auth(&session.access_token)
        .json(&body);
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    request.send().await.unwrap()
}

fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

async fn users_add_read_and_replace_people(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("clerk").await;

    let response = create(
        &app,
        &user,
        json!({"name": " Ada Lovelace ", "email": "ADA@example.com", "phone": "+44 20 7946 0958"}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let tag = etag(&response);
    let person: Value = response.json().await.unwrap();
    assert_eq!(person["name"], "Ada Lovelace");
    assert_eq!(person["email"], "ada@example.com");
    assert_eq!(person["notes"], Value::Null);
    assert_eq!(person["created_by"], user.user_id.as_str());
    let id = person["id"].as_str().unwrap().to_owned();

    let read = app
        .get_with_token(&format!("/api/people/{id}"), &user.access_token)
        .await;
    assert_eq!(read.status(), 200);
    assert_eq!(etag(&read), tag);

    let replaced = put(
        &app,
        &user,
        &id,
        Some(&tag),
        json!({"name": "Ada King", "notes": "Countess"}),
    )
    .await;
    assert_eq!(replaced.status(), 200);
    assert_ne!(etag(&replaced), tag);
    let person: Value = replaced.json().await.unwrap();
    assert_eq!(person["name"], "Ada King");
    assert_eq!(
        person["email"],
        Value::Null,
        "a replace replaces every field"
    );
    assert_eq!(person["notes"], "Countess");

    let list: Value = app
        .get_with_token("/api/people", &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["people"].as_array().unwrap().len(), 1);
    assert_problem(app.get("/api/people").await, 401, "authentication_required").await;
}

async fn only_admins_delete_people(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("user").await;
    let admin = app.signed_in_admin("admin").await;
    let person: Value = create(&app, &user, json!({"name": "Grace"}))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/people/{}", person["id"].as_str().unwrap());

    let refused = app
        .send_with_token(Method::DELETE, &path, &user.access_token, None)
        .await;
    assert_problem(refused, 403, "forbidden").await;
    assert_eq!(
        app.get_with_token(&path, &user.access_token).await.status(),
        200,
        "still there"
    );

    let deleted = app
        .send_with_token(Method::DELETE, &path, &admin.access_token, None)
        .await;
    assert_eq!(deleted.status(), 204);
    assert_problem(
        app.get_with_token(&path, &user.access_token).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.send_with_token(Method::DELETE, &path, &admin.access_token, None)
            .await,
        404,
        "not_found",
    )
    .await;
}

async fn replacing_needs_the_current_version(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("editor").await;
    let response = create(&app, &user, json!({"name": "Original"})).await;
    let stale = etag(&response);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fresh = etag(&put(&app, &user, &id, Some(&stale), json!({"name": "Second"})).await);

    let body = json!({"name": "Overwrite"});
    assert_problem(
        put(&app, &user, &id, None, body.clone()).await,
        428,
        "precondition_required",
    )
    .await;
    assert_problem(
        put(&app, &user, &id, Some(&stale), body.clone()).await,
        412,
        "precondition_failed",
    )
    .await;
    assert_problem(
        put(&app, &user, &id, Some("W/\"v2\""), body.clone()).await,
        412,
        "precondition_failed",
    )
    .await;
    let current: Value = app
        .get_with_token(&format!("/api/people/{id}"), &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(current["name"], "Second", "nothing was overwritten");
    assert_eq!(
        put(&app, &user, &id, Some(&fresh), body).await.status(),
        200
    );
}

async fn concurrent_replaces_with_one_version_let_exactly_one_win(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("racer").await;
    let response = create(&app, &user, json!({"name": "Contested"})).await;
    let tag = etag(&response);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let attempts = (0..8).map(|n| {
        let (app, user, id, tag) = (&app, &user, id.clone(), tag.clone());
        async move {
            put(
                app,
                user,
                &id,
                Some(&tag),
                json!({"name": format!("Writer {n}")}),
            )
            .await
            .status()
            .as_u16()
        }
    });
    let mut statuses = futures::future::join_all(attempts).await;
    statuses.sort();
    assert_eq!(statuses, [200, 412, 412, 412, 412, 412, 412, 412]);
}

async fn invalid_people_are_422_and_unknown_ones_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("checker").await;
    let body = assert_problem(
        create(
            &app,
            &user,
            json!({"name": "", "email": "nope", "phone": "call me", "notes": "x".repeat(2001)}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<_> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "email", "phone", "notes"]);
    for id in [uuid::Uuid::new_v4().to_string(), "nope".to_owned()] {
        assert_problem(
            app.get_with_token(&format!("/api/people/{id}"), &user.access_token)
                .await,
            404,
            "not_found",
        )
        .await;
        assert_problem(
            put(&app, &user, &id, Some("\"v1\""), json!({"name": "X"})).await,
            404,
            "not_found",
        )
        .await;
    }
}

async fn paging_people_visits_each_once_while_people_are_added(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.signed_in("pager").await;
    for n in 0..250 {
        app.execute(&format!(
            "INSERT INTO people (id, name, version, created_at, updated_at) VALUES ('{}', 'Person {n}', 1, {}, {})",
            uuid::Uuid::new_v4(),
            1_000 + n / 25,
            1_000 + n / 25
        ))
        .await;
    }
    // Another client adds people the whole time.
    let writer = {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/people"),
            user.access_token.clone(),
        );
        tokio::spawn(async move {
            for n in 0..30 {
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"name": format!("Concurrent {n}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
            }
        })
    };
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/people?limit=9&cursor={cursor}"),
            None => "/api/people?limit=9".to_owned(),
        };
        let page: Value = app
            .get_with_token(&path, &user.access_token)
            .await
            .json()
            .await
            .unwrap();
        for person in page["people"].as_array().unwrap() {
            assert!(
                seen.insert(person["id"].as_str().unwrap().to_owned()),
                "seen twice: {person}"
            );
        }
        pages += 1;
        if pages % 5 == 0 {
            // Added while paging, through the API: now, after every row so far.
            create(&app, &user, json!({"name": format!("Late {pages}")})).await;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    writer.await.unwrap();
    // Each of the 250 that were there before paging began was seen, once
    // (no one twice: asserted above). Rows added meanwhile are seen when
    // they land after the pager's position, which keyset paging allows.
    let bulk: Vec<String> = sqlx::query_scalar("SELECT id FROM people WHERE created_at < 2000")
        .fetch_all(app.database.pool())
        .await
        .unwrap();
    assert_eq!(bulk.len(), 250);
    for id in &bulk {
        assert!(seen.contains(id), "skipped {id}");
    }
    let searched: Value = app
        .get_with_token("/api/people?q=concurrent&limit=100", &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(searched["people"].as_array().unwrap().len(), 30);
}
