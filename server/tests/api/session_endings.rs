//! Two endings of one session at once, at the store's level, where the
//! order can be forced: each ending is one conditional statement, so of a
//! sign-out and the session cap's eviction exactly one ends the session and
//! is announced, whichever waited for the other. On PostgreSQL the cap's
//! statement picks its victims in a subquery; one that waited on a row the
//! sign-out was ending sees the row again but not the subquery, which is
//! why its outer condition checks the row itself.

use app::api::values::{SessionId, UserId};
use server::{
    clock::unix_now,
    store::sessions::{revoke_beyond, revoke_own, EndReason},
};

use crate::{both_backends, helpers::*, sessions::session_id_of};

both_backends!(an_eviction_that_waited_for_a_sign_out_does_not_end_it_again);

async fn an_eviction_that_waited_for_a_sign_out_does_not_end_it_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = app.verified_user("twice").await;
    let older = app.sign_in(&email).await;
    let newer = app.sign_in(&email).await;
    let user_id: UserId = older.user_id.parse().unwrap();
    let older_id: SessionId = session_id_of(&older.access_token).parse().unwrap();
    let newer_id: SessionId = session_id_of(&newer.access_token).parse().unwrap();
    let pool = app.database.pool().clone();
    let now = unix_now();

    // The sign-out holds the row (on SQLite, the database) until it commits.
    let mut sign_out = pool.begin().await.unwrap();
    assert!(
        revoke_own(&mut *sign_out, user_id, older_id, EndReason::Logout, now)
            .await
            .unwrap()
    );
    // The cap, keeping only the newest session, would end the older one.
    let eviction = tokio::spawn({
        let pool = pool.clone();
        async move { revoke_beyond(&pool, user_id, newer_id, 1, EndReason::SessionLimit, now).await }
    });
    // Commit only once the eviction waits for the row (where that shows).
    app.wait_for_lock_waiters(backend, 1).await;
    sign_out.commit().await.unwrap();

    let evicted = eviction.await.unwrap().unwrap();
    assert!(
        evicted.is_empty(),
        "ended once, by the sign-out, not again by the cap: {evicted:?}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE id = '{older_id}' AND revoked_reason = 'logout'"
        ))
        .await,
        1
    );
}
