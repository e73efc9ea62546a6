//! Prometheus metrics on their own address (`METRICS_ADDR`): what is
//! counted, under which labels (route templates, never ids), and that the
//! public port does not serve them.

use std::{collections::BTreeMap, time::Duration};

use serde_json::Value;

use crate::{both_backends, helpers::*};

both_backends!(
    requests_and_sign_ins_are_counted_per_route_template_and_outcome,
    lockouts_refusals_and_reuse_are_counted,
    metrics_are_off_by_default_and_never_on_the_public_port,
);

/// One line of the text format: `name{label="value",…} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A scrape, parsed; panics on a line that is not the text format.
#[derive(Debug)]
struct Scrape(Vec<Sample>);

impl Scrape {
    fn parse(text: &str) -> Self {
        let samples = text
            .lines()
            .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
            .map(|line| parse_sample(line).unwrap_or_else(|| panic!("not a sample: {line}")))
            .collect();
        Self(samples)
    }

    /// The value of the series with exactly these labels.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        self.0
            .iter()
            .find(|sample| sample.name == name && sample.labels == wanted)
            .map(|sample| sample.value)
    }

    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in {:#?}", self.names()))
    }

    fn with_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.0.iter().filter(move |sample| sample.name == name)
    }

    fn names(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|sample| format!("{} {:?}", sample.name, sample.labels))
            .collect()
    }
}

fn parse_sample(line: &str) -> Option<Sample> {
    let (series, value) = line.rsplit_once(' ')?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        value => value.parse().ok()?,
    };
    let Some((name, rest)) = series.split_once('{') else {
        return Some(Sample {
            name: series.to_owned(),
            labels: BTreeMap::new(),
            value,
        });
    };
    let mut labels = BTreeMap::new();
    let mut chars = rest.strip_suffix('}')?.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if chars.next()? != '"' {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '\\' => match chars.next()? {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break,
                other => value.push(other),
            }
        }
        labels.insert(key, value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

const METRICS_ON: (&str, &str) = ("METRICS_ADDR", "127.0.0.1:0");

async fn scrape(app: &TestApp) -> Scrape {
    let address = app.metrics_address.as_ref().expect("metrics are on");
    let response = app
        .client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .expect("the metrics listener answers");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    Scrape::parse(&response.text().await.unwrap())
}

/// Scrapes until `ready` holds (the mail worker records after its answer).
async fn scrape_until(app: &TestApp, ready: impl Fn(&Scrape) -> bool) -> Scrape {
    for _ in 0..100 {
        let scrape = scrape(app).await;
        if ready(&scrape) {
            return scrape;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let scrape = scrape(app).await;
    panic!("not reached in 5 s: {:#?}", scrape.names())
}

async fn requests_and_sign_ins_are_counted_per_route_template_and_outcome(backend: Backend) {
    let app = spawn_app_with(backend, &[METRICS_ON]).await;
    let email = app.verified_user("Metered").await;
    let session = app.sign_in(&email).await;
    let wrong = app.login(&email, "Not-The-Password-42").await;
    assert_eq!(wrong.status(), 401);
    let unknown = app.login(&unique_email("nobody"), STRONG_PASSWORD).await;
    assert_eq!(unknown.status(), 401);
    let rotated = app.refresh(&session.refresh_token).await;
    assert_eq!(rotated.status(), 200);
    let own = format!("/api/users/{}", session.user_id);
    for _ in 0..2 {
        let response = app.get_with_token(&own, &session.access_token).await;
        assert_eq!(response.status(), 200);
    }
    let stranger = format!("/api/users/{}", uuid::Uuid::now_v7());
    let refused = app
        .get_with_token(&stranger, &session.access_token)
        .await
        .status()
        .as_u16()
        .to_string();
    let page = format!("/no-such-page-{}", uuid::Uuid::new_v4().simple());
    app.get(&page).await;

    let scrape = scrape_until(&app, |scrape| {
        scrape.value("mail_sent_total", &[("kind", "verify_email")]) == Some(1.0)
    })
    .await;

    let sign_ins = |outcome| scrape.get("auth_sign_ins_total", &[("outcome", outcome)]);
    assert_eq!(sign_ins("success"), 1.0);
    assert_eq!(
        sign_ins("wrong_password"),
        2.0,
        "unknown addresses included"
    );
    for outcome in ["locked", "second_factor", "wrong_code", "disabled"] {
        assert_eq!(sign_ins(outcome), 0.0, "{outcome}");
    }
    assert_eq!(scrape.get("auth_refresh_rotations_total", &[]), 1.0);
    assert_eq!(scrape.get("auth_refresh_reuse_detected_total", &[]), 0.0);

    let requests = |method, route, status| {
        scrape.get(
            "http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("POST", "/api/auth/login", "200"), 1.0);
    assert_eq!(requests("POST", "/api/auth/login", "401"), 2.0);
    assert_eq!(requests("POST", "/api/auth/refresh", "200"), 1.0);
    assert_eq!(requests("GET", "/api/users/{id}", "200"), 2.0);
    assert_eq!(requests("GET", "/api/users/{id}", &refused), 1.0);
    assert_eq!(requests("GET", "unmatched", "404"), 1.0);
    // Ids and raw paths never become labels.
    for sample in scrape.with_name("http_requests_total") {
        let route = &sample.labels["route"];
        assert!(
            !route.contains(&session.user_id) && !route.contains("no-such-page"),
            "{route}"
        );
    }

    let login_ok = [
        ("method", "POST"),
        ("route", "/api/auth/login"),
        ("status", "200"),
    ];
    assert_eq!(
        scrape.get("http_request_duration_seconds_count", &login_ok),
        1.0
    );
    let mut bucket = login_ok.to_vec();
    bucket.push(("le", "+Inf"));
    assert_eq!(
        scrape.get("http_request_duration_seconds_bucket", &bucket),
        1.0
    );
    assert!(scrape.get("http_request_duration_seconds_sum", &login_ok) > 0.0);

    assert_eq!(
        scrape.get("mail_queued_total", &[("kind", "verify_email")]),
        1.0
    );
    assert_eq!(
        scrape.get("mail_failed_total", &[("outcome", "retry")]),
        0.0
    );
    assert!(scrape.value("mail_queue_depth", &[]).is_some());
    // Each of the three sign-ins checked a password on a hashing thread.
    assert!(scrape.get("password_hash_queue_wait_seconds_count", &[]) >= 3.0);
    assert_eq!(scrape.get("password_hash_rejections_total", &[]), 0.0);
    assert!(scrape.get("db_pool_max_connections", &[]) >= 1.0);
    let in_use = scrape.get("db_pool_connections", &[("state", "in_use")]);
    let idle = scrape.get("db_pool_connections", &[("state", "idle")]);
    assert!(in_use + idle <= scrape.get("db_pool_max_connections", &[]));
}

async fn lockouts_refusals_and_reuse_are_counted(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            METRICS_ON,
            ("RATE_LIMITS", "on"),
            ("RATE_LIMIT_LOGIN_PER_TARGET", "3/hour"),
            ("LOCKOUT_THRESHOLD", "2"),
            ("LOCKOUT_DELAY_SECS", "60"),
        ],
    )
    .await;
    let target = unique_email("target");
    for _ in 0..2 {
        let response = app.login(&target, "Wrong-Guess-123").await;
        assert_eq!(response.status(), 401);
    }
    assert_problem(
        app.login(&target, "Wrong-Guess-123").await,
        429,
        "sign_in_locked",
    )
    .await;
    assert_problem(
        app.login(&target, "Wrong-Guess-123").await,
        429,
        "rate_limited",
    )
    .await;

    let disabled = app.verified_user("Disabled").await;
    app.execute(&format!(
        "UPDATE users SET disabled_at = 1 WHERE email = '{disabled}'"
    ))
    .await;
    assert_problem(
        app.login(&disabled, STRONG_PASSWORD).await,
        403,
        "account_disabled",
    )
    .await;

    // A rotated token presented again after the grace window.
    let session = app.signed_in("Reused").await;
    let rotated = app.refresh(&session.refresh_token).await;
    assert_eq!(rotated.status(), 200);
    app.execute(
        "UPDATE refresh_tokens SET rotated_at = rotated_at - 11 WHERE rotated_at IS NOT NULL",
    )
    .await;
    assert_problem(
        app.refresh(&session.refresh_token).await,
        401,
        "refresh_token_reused",
    )
    .await;

    let scrape = scrape(&app).await;
    let sign_ins = |outcome| scrape.get("auth_sign_ins_total", &[("outcome", outcome)]);
    assert_eq!(sign_ins("wrong_password"), 2.0);
    assert_eq!(sign_ins("locked"), 1.0);
    assert_eq!(sign_ins("disabled"), 1.0);
    assert_eq!(sign_ins("success"), 1.0);
    assert_eq!(scrape.get("auth_lockouts_total", &[]), 1.0);
    assert_eq!(
        scrape.get(
            "rate_limit_refusals_total",
            &[("policy", "login"), ("scope", "target")]
        ),
        1.0
    );
    assert_eq!(
        scrape.get(
            "rate_limit_refusals_total",
            &[("policy", "login"), ("scope", "ip")]
        ),
        0.0
    );
    assert_eq!(scrape.get("auth_refresh_rotations_total", &[]), 1.0);
    assert_eq!(scrape.get("auth_refresh_reuse_detected_total", &[]), 1.0);
    assert_eq!(
        scrape.get(
            "http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/api/auth/login"),
                ("status", "429")
            ]
        ),
        2.0
    );
}

async fn metrics_are_off_by_default_and_never_on_the_public_port(backend: Backend) {
    let off = spawn_app(backend).await;
    assert!(off.metrics_address.is_none());
    assert_eq!(off.get("/metrics").await.status(), 404);

    let on = spawn_app_with(backend, &[METRICS_ON]).await;
    let metrics_address = on.metrics_address.clone().unwrap();
    assert_ne!(metrics_address, on.address);
    let public = on.get("/metrics").await;
    assert_eq!(public.status(), 404);
    let body = public.text().await.unwrap();
    assert!(!body.contains("http_requests_total"), "{body}");
    // The metrics address serves nothing else.
    for path in ["/", "/api/me", "/metrics/x"] {
        let response = on
            .client
            .get(format!("{metrics_address}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    // Its scrapes are not counted among the public requests.
    let first = scrape(&on).await;
    assert!(first
        .with_name("http_requests_total")
        .all(|sample| { sample.labels["route"] != "/metrics" }));
    let me: Value = on.get("/api/health").await.json().await.unwrap();
    assert!(me.is_object());
    let second = scrape(&on).await;
    assert_eq!(
        second.get(
            "http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/api/health"),
                ("status", "200")
            ]
        ),
        1.0
    );
}
