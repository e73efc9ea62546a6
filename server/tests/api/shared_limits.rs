//! Rate limits across instances: on PostgreSQL the buckets live in the
//! database, so two instances behind a load balancer allow what one
//! would; on SQLite (one instance) memory holds them. Attacks tried: a
//! parallel burst spread over both instances, and a burst at the moment
//! the bucket refills.

use futures::future::join_all;
use serde_json::json;

use crate::{
    both_backends,
    helpers::{spawn_app_with, unique_email, Backend, TestApp},
};

both_backends!(
    a_burst_spread_over_two_instances_gets_one_limit,
    a_refilled_bucket_gives_back_one_token_not_a_burst,
);

const LIMIT: usize = 6;

async fn login_from(app: &TestApp, client_ip: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", client_ip)
        .json(&json!({"email": unique_email("burst"), "password": "Not-The-Password-42"}))
        .send()
        .await
        .unwrap()
}

async fn limited_apps(backend: Backend, rate: &str) -> (TestApp, Option<TestApp>) {
    let app = spawn_app_with(
        backend,
        &[
            ("RATE_LIMITS", "on"),
            ("RATE_LIMIT_LOGIN_PER_IP", rate),
            ("TRUSTED_PROXIES", "127.0.0.1/32, ::1"),
        ],
    )
    .await;
    // SQLite serves one instance; PostgreSQL several.
    let other = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(app.another_instance().await),
    };
    (app, other)
}

async fn a_burst_spread_over_two_instances_gets_one_limit(backend: Backend) {
    let (app, other) = limited_apps(backend, &format!("{LIMIT}/hour")).await;
    let instances: Vec<&TestApp> = [Some(&app), other.as_ref()].into_iter().flatten().collect();

    // Twice the limit from one client, at once, in turn on each instance.
    let answers = join_all(
        (0..2 * LIMIT).map(|i| login_from(instances[i % instances.len()], "198.51.100.20")),
    )
    .await;
    let refused: Vec<&reqwest::Response> = answers
        .iter()
        .filter(|answer| answer.status() == 429)
        .collect();
    assert_eq!(
        answers.len() - refused.len(),
        LIMIT,
        "{:?}",
        answers
            .iter()
            .map(|answer| answer.status())
            .collect::<Vec<_>>()
    );
    for answer in refused {
        let wait: u64 = answer.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=3600).contains(&wait), "{wait}");
    }
    // Another client keeps a bucket of its own, on either instance.
    for instance in &instances {
        assert_eq!(login_from(instance, "198.51.100.21").await.status(), 401);
    }
}

async fn a_refilled_bucket_gives_back_one_token_not_a_burst(backend: Backend) {
    // Two at once, then one more every three seconds.
    let (app, other) = limited_apps(backend, "2/6s").await;
    let second = other.as_ref().unwrap_or(&app);
    let client = "198.51.100.30";
    // The burst, at once (sign-ins one after the other could each wait
    // seconds for their hash on a loaded machine, and meet a refill).
    let burst = join_all([&app, second, &app].map(|instance| login_from(instance, client))).await;
    let mut statuses: Vec<u16> = burst
        .iter()
        .map(|answer| answer.status().as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [401, 401, 429]);

    // Refused requests spend nothing: ask in pairs, one on each instance,
    // until the next token is back. The pair is sent at once, so both are
    // counted within moments of each other (a granted answer still waits
    // for its password hash, which a loaded machine may take seconds over;
    // asking one after the other could then meet the token after).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (first, then) = tokio::join!(login_from(&app, client), login_from(second, client));
        let statuses = [first.status().as_u16(), then.status().as_u16()];
        if statuses != [429, 429] {
            // One token came back, not a burst: exactly one of the pair got it.
            let mut sorted = statuses;
            sorted.sort_unstable();
            assert_eq!(sorted, [401, 429], "{statuses:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the bucket never refilled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
