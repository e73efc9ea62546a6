//! Rate limits and the sign-in lockout: 429 with `Retry-After`, the same
//! for known and unknown addresses; the lockout counted in the database,
//! so that it holds on another instance and after a restart; and shedding
//! of password work past the queue.

use serde_json::{json, Value};

use crate::{
    both_backends,
    helpers::{assert_problem, spawn_app_with, unique_email, Backend, TestApp, STRONG_PASSWORD},
};

const WRONG: &str = "Not-The-Password-42";

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is a number of seconds")
}

/// The problem of the `attempt`-th wrong sign-in, with its Retry-After.
async fn wrong_sign_ins(
    app: &TestApp,
    email: &str,
    attempts: usize,
) -> Vec<(u16, Option<u64>, Value)> {
    let mut answers = Vec::new();
    for _ in 0..attempts {
        let response = app.login(email, WRONG).await;
        let status = response.status().as_u16();
        let wait = response
            .headers()
            .get("retry-after")
            .map(|_| retry_after(&response));
        let body: Value = response.json().await.unwrap();
        answers.push((status, wait, body));
    }
    answers
}

/// Limits on, with room for 100 sign-ins from one client but 3 per target.
pub(crate) const THREE_PER_TARGET: [(&str, &str); 3] = [
    ("RATE_LIMITS", "on"),
    ("RATE_LIMIT_LOGIN_PER_IP", "100/hour"),
    ("RATE_LIMIT_LOGIN_PER_TARGET", "3/hour"),
];

async fn per_target_limits_treat_unknown_addresses_like_known_ones(backend: Backend) {
    let app = spawn_app_with(backend, &THREE_PER_TARGET).await;
    let known = app.verified_user("Known").await;
    let unknown = unique_email("nobody");

    let known_answers = wrong_sign_ins(&app, &known, 4).await;
    let unknown_answers = wrong_sign_ins(&app, &unknown, 4).await;
    for answers in [&known_answers, &unknown_answers] {
        for (status, _, body) in &answers[..3] {
            assert_eq!(*status, 401, "{body}");
        }
        let (status, wait, body) = &answers[3];
        assert_eq!(*status, 429, "{body}");
        assert_eq!(body["code"], "rate_limited");
        let wait = wait.expect("a 429 says when to come back");
        assert!((1..=3600).contains(&wait), "{wait}");
    }
    // Word for word the same: a 429 tells nothing about the address.
    assert_eq!(known_answers[3].2, unknown_answers[3].2);
    // The bucket is the address's, not the client's: another address is fine.
    let response = app.login(&unique_email("other"), WRONG).await;
    assert_eq!(response.status(), 401);
}

async fn per_ip_limits_answer_429_with_retry_after(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("RATE_LIMITS", "on"),
            ("RATE_LIMIT_FORGOT_PASSWORD_PER_IP", "2/hour"),
        ],
    )
    .await;
    for _ in 0..2 {
        let response = app
            .post_json(
                "/api/auth/forgot-password",
                &json!({"email": unique_email("someone")}),
            )
            .await;
        assert_eq!(response.status(), 202);
    }
    let response = app
        .post_json(
            "/api/auth/forgot-password",
            &json!({"email": unique_email("someone")}),
        )
        .await;
    let wait = retry_after(&response);
    assert!((1..=3600).contains(&wait), "{wait}");
    assert_problem(response, 429, "rate_limited").await;
    // Other endpoints have buckets of their own.
    let response = app
        .post_json(
            "/api/auth/resend-verification",
            &json!({"email": unique_email("someone")}),
        )
        .await;
    assert_eq!(response.status(), 202);
}

async fn forwarded_addresses_count_only_behind_trusted_proxies(backend: Backend) {
    let login_from = |app: &TestApp, forwarded_for: &'static str| {
        let request = app
            .client
            .post(app.url("/api/auth/login"))
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({"email": unique_email("x"), "password": WRONG}));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let limits = [("RATE_LIMITS", "on"), ("RATE_LIMIT_LOGIN_PER_IP", "2/hour")];

    let mut behind_proxy = limits.to_vec();
    behind_proxy.push(("TRUSTED_PROXIES", "127.0.0.1/32, ::1"));
    let app = spawn_app_with(backend, &behind_proxy).await;
    assert_eq!(login_from(&app, "198.51.100.1").await, 401);
    assert_eq!(login_from(&app, "198.51.100.1").await, 401);
    assert_eq!(login_from(&app, "198.51.100.1").await, 429);
    // Another client behind the same proxy has its own bucket…
    assert_eq!(login_from(&app, "198.51.100.2").await, 401);
    // …and what a client writes left of the proxy's entry is not believed.
    assert_eq!(login_from(&app, "203.0.113.5, 198.51.100.1").await, 429);

    // Without trusted proxies the header is the client's word: ignored.
    let app = spawn_app_with(backend, &limits).await;
    assert_eq!(login_from(&app, "198.51.100.1").await, 401);
    assert_eq!(login_from(&app, "198.51.100.2").await, 401);
    assert_eq!(login_from(&app, "198.51.100.3").await, 429);
}

const LOCKOUT: [(&str, &str); 2] = [("LOCKOUT_THRESHOLD", "3"), ("LOCKOUT_DELAY_SECS", "60")];

async fn a_lockout_holds_on_another_instance_and_after_a_restart(backend: Backend) {
    let app = spawn_app_with(backend, &LOCKOUT).await;
    let email = app.verified_user("Locked").await;
    let unknown = unique_email("ghost");
    for address in [&email, &unknown] {
        for (status, _, body) in wrong_sign_ins(&app, address, 3).await {
            assert_eq!(status, 401, "{body}");
        }
    }

    // A second instance (fresh memory, as after a restart) on the same
    // database refuses even the right password, before hashing anything.
    let other = app.another_instance().await;
    let response = other.login(&email, STRONG_PASSWORD).await;
    // What is left of the minute's lock (less on a slow machine).
    let wait = retry_after(&response);
    assert!((1..=60).contains(&wait), "{wait}");
    let locked = assert_problem(response, 429, "sign_in_locked").await;
    let response = other.login(&unknown, WRONG).await;
    let unknown_locked = assert_problem(response, 429, "sign_in_locked").await;
    // Alike but for the seconds left in the wait.
    for field in ["code", "title", "status", "type"] {
        assert_eq!(
            locked[field], unknown_locked[field],
            "unknown addresses lock alike"
        );
    }

    // Once the wait is over, the owner's right password works and clears it.
    app.execute("UPDATE sign_in_failures SET locked_until = 1")
        .await;
    let response = other.login(&email, STRONG_PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sign_in_failures WHERE email LIKE 'locked.%'")
            .await,
        0
    );
}

async fn waits_grow_with_each_failure_after_a_lock(backend: Backend) {
    let app = spawn_app_with(backend, &LOCKOUT).await;
    let email = unique_email("grow");
    wrong_sign_ins(&app, &email, 3).await;
    let first = app.login(&email, WRONG).await;
    let first_wait = retry_after(&first);
    assert_eq!(first.status(), 429);

    // The lock runs out; the next wrong password locks for twice as long.
    app.execute("UPDATE sign_in_failures SET locked_until = 1")
        .await;
    assert_eq!(app.login(&email, WRONG).await.status(), 401);
    let second = app.login(&email, WRONG).await;
    assert_eq!(second.status(), 429);
    let second_wait = retry_after(&second);
    assert!(
        second_wait > first_wait + 30,
        "{first_wait} then {second_wait}"
    );
}

async fn a_password_reset_lifts_a_lockout(backend: Backend) {
    let app = spawn_app_with(backend, &LOCKOUT).await;
    let email = app.verified_user("Resetter").await;
    wrong_sign_ins(&app, &email, 3).await;
    assert_eq!(app.login(&email, STRONG_PASSWORD).await.status(), 429);

    let response = app
        .post_json("/api/auth/forgot-password", &json!({"email": email}))
        .await;
    assert_eq!(response.status(), 202);
    let token = app.reset_token(&email, 2).await;
    let new_password = "Fresh-Lantern-Orbit-77";
    let response = app
        .post_json(
            "/api/auth/reset-password",
            &json!({"token": token, "password": new_password}),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(app.login(&email, new_password).await.status(), 200);
}

async fn password_work_past_the_queue_is_shed_with_503(backend: Backend) {
    let app = spawn_app_with(backend, &[("PASSWORD_HASH_QUEUE", "1")]).await;
    let logins = (0..60).map(|_| {
        let request = app
            .client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": unique_email("flood"), "password": WRONG}));
        async move { request.send().await.unwrap() }
    });
    let responses = futures::future::join_all(logins).await;
    let mut shed = 0;
    for response in responses {
        match response.status().as_u16() {
            401 => {}
            503 => {
                assert!(retry_after(&response) >= 1);
                assert_problem(response, 503, "overloaded").await;
                shed += 1;
            }
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    assert!(shed > 0, "some of 60 concurrent logins are shed");
    assert_eq!(app.get("/api/health").await.status(), 200);
}

/// A wrong sign-in shed for want of CPU was never checked: it is not
/// counted toward the lockout, while those checked all are (concurrent, so
/// that the give-back races the counting of the others).
async fn sign_ins_shed_unchecked_do_not_count_toward_the_lockout(backend: Backend) {
    const THRESHOLD: usize = 40;
    let app = spawn_app_with(
        backend,
        &[
            ("PASSWORD_HASH_QUEUE", "1"),
            ("LOCKOUT_THRESHOLD", "40"),
            ("LOCKOUT_DELAY_SECS", "60"),
        ],
    )
    .await;
    let email = app.verified_user("Shed").await;
    let logins = (0..30).map(|_| {
        let request = app
            .client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": email, "password": WRONG}));
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures::future::join_all(logins).await;
    let checked = statuses.iter().filter(|status| **status == 401).count();
    let shed = statuses.iter().filter(|status| **status == 503).count();
    assert_eq!(checked + shed, statuses.len(), "{statuses:?}");
    assert!(shed > 0, "some of 30 concurrent sign-ins are shed");

    // Exactly the checked ones were counted: the lock comes after the rest
    // of the threshold, not sooner.
    let rest = THRESHOLD - checked;
    let answers = wrong_sign_ins(&app, &email, rest + 1).await;
    for (status, _, body) in &answers[..rest] {
        assert_eq!(*status, 401, "{body}");
    }
    assert_eq!(answers[rest].0, 429, "{}", answers[rest].2);
}

both_backends!(
    sign_ins_shed_unchecked_do_not_count_toward_the_lockout,
    per_target_limits_treat_unknown_addresses_like_known_ones,
    per_ip_limits_answer_429_with_retry_after,
    forwarded_addresses_count_only_behind_trusted_proxies,
    a_lockout_holds_on_another_instance_and_after_a_restart,
    waits_grow_with_each_failure_after_a_lock,
    a_password_reset_lifts_a_lockout,
    password_work_past_the_queue_is_shed_with_503,
);
