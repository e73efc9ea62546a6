//! The change of address while it waits for its link: shown to its owner
//! (and no one else), asked again (a new link replaces the old), and
//! cancelled. Attacks tried: reading another account's waiting change,
//! a cancelled link opened anyway, a cancel racing the confirmation.

use futures::future::join;
use reqwest::Method;
use serde_json::Value;

use crate::{
    both_backends,
    email_change::{ask, confirm},
    helpers::*,
};

both_backends!(
    the_waiting_change_is_shown_to_its_owner_only,
    asking_again_replaces_the_link,
    a_cancelled_change_has_a_dead_link_and_shows_in_the_activity,
    a_cancel_racing_the_confirmation_leaves_one_consistent_outcome,
);

async fn pending(app: &TestApp, token: &str) -> Value {
    let response = app.get_with_token("/api/me/email", token).await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["pending"].clone()
}

async fn cancel(app: &TestApp, token: &str) -> reqwest::Response {
    app.send_with_token(Method::DELETE, "/api/me/email", token, None)
        .await
}

async fn the_waiting_change_is_shown_to_its_owner_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("waiting").await;
    let other = app.signed_in("neighbour").await;
    assert_eq!(pending(&app, &session.access_token).await, Value::Null);
    assert_eq!(
        app.get("/api/me/email").await.status(),
        401,
        "it needs a session"
    );

    let new_email = unique_email("waiting-new");
    assert_eq!(
        ask(&app, &session.access_token, &new_email).await.status(),
        202
    );
    let shown = pending(&app, &session.access_token).await;
    assert_eq!(shown["new_email"], new_email.as_str());
    let expires_at = shown["expires_at"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(expires_at, &time::format_description::well_known::Rfc3339)
            .is_ok(),
        "{expires_at}"
    );
    assert_eq!(pending(&app, &other.access_token).await, Value::Null);

    // Once confirmed, nothing waits any more.
    let token = app.confirm_email_token(&new_email, 1).await;
    assert_eq!(confirm(&app, &token).await.status(), 200);
    assert_eq!(pending(&app, &session.access_token).await, Value::Null);
}

async fn asking_again_replaces_the_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("resender").await;
    let new_email = unique_email("resent");
    assert_eq!(
        ask(&app, &session.access_token, &new_email).await.status(),
        202
    );
    let first = app.confirm_email_token(&new_email, 1).await;
    assert_eq!(
        ask(&app, &session.access_token, &new_email).await.status(),
        202
    );
    let second = app.confirm_email_token(&new_email, 2).await;
    assert_ne!(first, second);

    assert_problem(confirm(&app, &first).await, 400, "invalid_link").await;
    assert_eq!(confirm(&app, &second).await.status(), 200);
}

async fn a_cancelled_change_has_a_dead_link_and_shows_in_the_activity(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signed_in("canceller").await;
    // Nothing to cancel is not an error.
    assert_eq!(cancel(&app, &session.access_token).await.status(), 204);

    let new_email = unique_email("cancelled");
    assert_eq!(
        ask(&app, &session.access_token, &new_email).await.status(),
        202
    );
    let token = app.confirm_email_token(&new_email, 1).await;
    assert_eq!(cancel(&app, &session.access_token).await.status(), 204);
    assert_eq!(pending(&app, &session.access_token).await, Value::Null);
    assert_problem(confirm(&app, &token).await, 400, "invalid_link").await;

    let me: Value = app
        .get_with_token("/api/me", &session.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], session.email.as_str());
    let activity: Value = app
        .get_with_token("/api/me/activity", &session.access_token)
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| **kind == "email_change_cancelled")
            .count(),
        1,
        "{kinds:?}"
    );
}

async fn a_cancel_racing_the_confirmation_leaves_one_consistent_outcome(backend: Backend) {
    let app = spawn_app(backend).await;
    for round in 0..3 {
        let session = app.signed_in(&format!("racer{round}")).await;
        let new_email = unique_email(&format!("raced{round}"));
        assert_eq!(
            ask(&app, &session.access_token, &new_email).await.status(),
            202
        );
        let token = app.confirm_email_token(&new_email, 1).await;

        let (confirmed, cancelled) =
            join(confirm(&app, &token), cancel(&app, &session.access_token)).await;
        assert_eq!(cancelled.status(), 204);
        let me: Value = app
            .get_with_token("/api/me", &session.access_token)
            .await
            .json()
            .await
            .unwrap();
        match confirmed.status().as_u16() {
            // The confirmation came first: the address moved.
            200 => assert_eq!(me["email"], new_email.as_str()),
            // The cancel came first: nothing moved.
            400 => assert_eq!(me["email"], session.email.as_str()),
            status => panic!("unexpected {status}"),
        }
        assert_eq!(pending(&app, &session.access_token).await, Value::Null);
    }
}
