//! Prometheus metrics: what an operator watches (traffic and latency per
//! route, sign-in outcomes, lockouts, refusals, mail, hashing, the database
//! pool) without reading logs. They are served in the Prometheus text format
//! on an address of their own (`METRICS_ADDR`, see `exporter.rs`), never on
//! the public port: the numbers tell an attacker how their guessing goes.
//!
//! Every application has a recorder of its own rather than the process-wide
//! one of the `metrics` facade: the API tests run many servers in one
//! process, and a shared recorder would mix their counts (and can be
//! installed only once). The series a service records are registered once,
//! at start-up, into handles, so recording one is an atomic add; the HTTP
//! series are registered on first use and cached (`http.rs`).
//!
//! Without `METRICS_ADDR` nothing is recorded: each call finds no recorder
//! and returns, and the HTTP layer is not even mounted.
//!
//! Call sites are one line (`context.metrics.sign_in(SignInOutcome::Locked)`),
//! in the service that decides the outcome.

mod exporter;
mod http;

use std::{sync::Arc, time::Duration};

use app::api::ProblemCode;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder as _};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

pub use exporter::{router, spawn_upkeep};
pub use http::RecordRequests;

use crate::{config::rate_limits::Policy, store::mail_outbox::MailKind};

/// The name of every series, with its help text; the README lists them too.
pub mod names {
    pub const HTTP_REQUESTS: &str = "http_requests_total";
    pub const HTTP_DURATION: &str = "http_request_duration_seconds";
    pub const SIGN_INS: &str = "auth_sign_ins_total";
    pub const REFRESH_ROTATIONS: &str = "auth_refresh_rotations_total";
    pub const REFRESH_REUSE: &str = "auth_refresh_reuse_detected_total";
    pub const LOCKOUTS: &str = "auth_lockouts_total";
    pub const RATE_LIMITED: &str = "rate_limit_refusals_total";
    pub const MAIL_QUEUED: &str = "mail_queued_total";
    pub const MAIL_SENT: &str = "mail_sent_total";
    pub const MAIL_FAILED: &str = "mail_failed_total";
    pub const MAIL_QUEUE_DEPTH: &str = "mail_queue_depth";
    pub const HASH_WAIT: &str = "password_hash_queue_wait_seconds";
    pub const HASH_REJECTED: &str = "password_hash_rejections_total";
    pub const DB_CONNECTIONS: &str = "db_pool_connections";
    pub const DB_MAX_CONNECTIONS: &str = "db_pool_max_connections";

    pub(super) const HELP: [(&str, &str); 15] = [
        (HTTP_REQUESTS, "HTTP requests answered, by method, route template and status."),
        (HTTP_DURATION, "Time to answer an HTTP request (until the response headers), by method, route template and status."),
        (SIGN_INS, "Sign-in steps by outcome: success, wrong_password (unknown addresses included), locked, second_factor (asked for), wrong_code, disabled."),
        (REFRESH_ROTATIONS, "Refresh tokens exchanged for a successor."),
        (REFRESH_REUSE, "Rotated refresh tokens presented again; each ends its session."),
        (LOCKOUTS, "Failed sign-ins that locked their address (or device, or session) for a while."),
        (RATE_LIMITED, "Requests refused with 429 by a rate limit, by policy and bucket (ip or target)."),
        (MAIL_QUEUED, "Messages written to the outbox, by kind."),
        (MAIL_SENT, "Messages delivered by this instance's worker, by kind."),
        (MAIL_FAILED, "Failed deliveries: retry (tried again later), given_up (after the last attempt, or undeliverable), expired (link expired first)."),
        (MAIL_QUEUE_DEPTH, "Messages in the outbox not yet delivered nor given up (all instances share it), sampled at scrape time."),
        (HASH_WAIT, "Time a password hash waited for a hashing thread."),
        (HASH_REJECTED, "Password hashes refused (503 overloaded) because the queue was full."),
        (DB_CONNECTIONS, "Pooled database connections by state (in_use, idle), sampled at scrape time."),
        (DB_MAX_CONNECTIONS, "The most connections the pool opens; in_use at this means requests wait for one."),
    ];
}

/// Latency buckets, in seconds: from a cached `/api/me` to a request timeout.
const HTTP_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// A hash takes tens of milliseconds; a full queue waits a few hundred.
const HASH_WAIT_BUCKETS: [f64; 11] = [
    0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// How a sign-in step ended, as `auth_sign_ins_total{outcome}` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    /// A session was opened.
    Success,
    /// The password did not match, or no account has the address.
    WrongPassword,
    /// Refused without checking: the address (or device) is locked.
    Locked,
    /// The password was right and a second factor is asked for.
    SecondFactor,
    /// The second step's code was wrong.
    WrongCode,
    /// The password was right but the account is disabled.
    Disabled,
}

impl SignInOutcome {
    pub const ALL: [Self; 6] = [
        Self::Success,
        Self::WrongPassword,
        Self::Locked,
        Self::SecondFactor,
        Self::WrongCode,
        Self::Disabled,
    ];

    /// The outcome a sign-in refusal stands for, if it is one: what is
    /// refused before the password is looked at (rate limits, bad input,
    /// overload) is counted elsewhere or not at all.
    pub fn of_refusal(code: ProblemCode) -> Option<Self> {
        match code {
            ProblemCode::InvalidCredentials => Some(Self::WrongPassword),
            ProblemCode::SignInLocked => Some(Self::Locked),
            ProblemCode::AccountDisabled => Some(Self::Disabled),
            _ => None,
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::WrongPassword => "wrong_password",
            Self::Locked => "locked",
            Self::SecondFactor => "second_factor",
            Self::WrongCode => "wrong_code",
            Self::Disabled => "disabled",
        }
    }
}

/// Which bucket of a rate limit was empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitScope {
    Ip,
    Target,
}

impl LimitScope {
    const ALL: [Self; 2] = [Self::Ip, Self::Target];

    pub const fn label(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Target => "target",
        }
    }
}

/// What became of a failed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailFailure {
    Retry,
    GivenUp,
    Expired,
}

impl MailFailure {
    const ALL: [Self; 3] = [Self::Retry, Self::GivenUp, Self::Expired];

    const fn label(self) -> &'static str {
        match self {
            Self::Retry => "retry",
            Self::GivenUp => "given_up",
            Self::Expired => "expired",
        }
    }
}

/// This application's metrics; cheap to clone. [`Metrics::disabled`]
/// records nothing.
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    http: http::Series,
    sign_ins: Vec<(SignInOutcome, Counter)>,
    refresh_rotations: Counter,
    refresh_reuse: Counter,
    lockouts: Counter,
    rate_limited: Vec<(Policy, LimitScope, Counter)>,
    mail_queued: Vec<(MailKind, Counter)>,
    mail_sent: Vec<(MailKind, Counter)>,
    mail_failed: Vec<(MailFailure, Counter)>,
    mail_queue_depth: Gauge,
    hash_wait: Histogram,
    hash_rejected: Counter,
    db_in_use: Gauge,
    db_idle: Gauge,
    db_max: Gauge,
}

/// What the recorder is told of where a series comes from; it keeps none of it.
static METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, None);

impl Metrics {
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    /// A recorder of this application's own, with every series of the
    /// services registered (at zero, so that rates start at the first event).
    pub fn enabled() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(names::HTTP_DURATION.into()), &HTTP_BUCKETS)
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    Matcher::Full(names::HASH_WAIT.into()),
                    &HASH_WAIT_BUCKETS,
                )
            })
            .expect("the bucket lists are not empty")
            .build_recorder();
        for (name, help) in names::HELP {
            let name = KeyName::from_const_str(name);
            let help = metrics::SharedString::const_str(help);
            recorder.describe_counter(name, None, help);
        }
        let counter = |name: &'static str, labels: &[(&'static str, &'static str)]| {
            recorder.register_counter(&key(name, labels), &METADATA)
        };
        let gauge = |name: &'static str, labels: &[(&'static str, &'static str)]| {
            recorder.register_gauge(&key(name, labels), &METADATA)
        };
        let inner = Inner {
            http: http::Series::default(),
            sign_ins: SignInOutcome::ALL
                .map(|outcome| {
                    (
                        outcome,
                        counter(names::SIGN_INS, &[("outcome", outcome.label())]),
                    )
                })
                .into(),
            refresh_rotations: counter(names::REFRESH_ROTATIONS, &[]),
            refresh_reuse: counter(names::REFRESH_REUSE, &[]),
            lockouts: counter(names::LOCKOUTS, &[]),
            rate_limited: Policy::ALL
                .into_iter()
                .flat_map(|policy| LimitScope::ALL.map(|scope| (policy, scope)))
                .map(|(policy, scope)| {
                    let labels = [("policy", policy.label()), ("scope", scope.label())];
                    (policy, scope, counter(names::RATE_LIMITED, &labels))
                })
                .collect(),
            mail_queued: MailKind::ALL
                .map(|kind| {
                    (
                        kind,
                        counter(names::MAIL_QUEUED, &[("kind", kind.as_str())]),
                    )
                })
                .into(),
            mail_sent: MailKind::ALL
                .map(|kind| (kind, counter(names::MAIL_SENT, &[("kind", kind.as_str())])))
                .into(),
            mail_failed: MailFailure::ALL
                .map(|failure| {
                    let labels = [("outcome", failure.label())];
                    (failure, counter(names::MAIL_FAILED, &labels))
                })
                .into(),
            mail_queue_depth: gauge(names::MAIL_QUEUE_DEPTH, &[]),
            hash_wait: recorder.register_histogram(&key(names::HASH_WAIT, &[]), &METADATA),
            hash_rejected: counter(names::HASH_REJECTED, &[]),
            db_in_use: gauge(names::DB_CONNECTIONS, &[("state", "in_use")]),
            db_idle: gauge(names::DB_CONNECTIONS, &[("state", "idle")]),
            db_max: gauge(names::DB_MAX_CONNECTIONS, &[]),
            handle: recorder.handle(),
            recorder,
        };
        Self {
            inner: Some(Arc::new(inner)),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    pub fn sign_in(&self, outcome: SignInOutcome) {
        if let Some(inner) = &self.inner {
            increment(&inner.sign_ins, |(of, _)| *of == outcome);
        }
    }

    pub fn refresh_rotated(&self) {
        if let Some(inner) = &self.inner {
            inner.refresh_rotations.increment(1);
        }
    }

    pub fn refresh_reuse_detected(&self) {
        if let Some(inner) = &self.inner {
            inner.refresh_reuse.increment(1);
        }
    }

    pub fn lockout(&self) {
        if let Some(inner) = &self.inner {
            inner.lockouts.increment(1);
        }
    }

    pub fn rate_limited(&self, policy: Policy, scope: LimitScope) {
        if let Some(inner) = &self.inner {
            if let Some((_, _, counter)) = inner
                .rate_limited
                .iter()
                .find(|(of, within, _)| *of == policy && *within == scope)
            {
                counter.increment(1);
            }
        }
    }

    pub fn mail_queued(&self, kind: MailKind) {
        if let Some(inner) = &self.inner {
            increment(&inner.mail_queued, |(of, _)| *of == kind);
        }
    }

    pub fn mail_sent(&self, kind: MailKind) {
        if let Some(inner) = &self.inner {
            increment(&inner.mail_sent, |(of, _)| *of == kind);
        }
    }

    pub fn mail_failed(&self, failure: MailFailure, count: u64) {
        if let Some(inner) = &self.inner {
            if let Some((_, counter)) = inner.mail_failed.iter().find(|(of, _)| *of == failure) {
                counter.increment(count);
            }
        }
    }

    /// A password hash waited this long for a thread.
    pub fn password_hash_waited(&self, wait: Duration) {
        if let Some(inner) = &self.inner {
            inner.hash_wait.record(wait.as_secs_f64());
        }
    }

    pub fn password_hash_rejected(&self) {
        if let Some(inner) = &self.inner {
            inner.hash_rejected.increment(1);
        }
    }
}

/// Adds one to the counter of `series` that `is` picks.
fn increment<T>(series: &[(T, Counter)], is: impl Fn(&(T, Counter)) -> bool) {
    if let Some((_, counter)) = series.iter().find(|entry| is(entry)) {
        counter.increment(1);
    }
}

fn key(name: &'static str, labels: &[(&'static str, &'static str)]) -> Key {
    let labels: Vec<Label> = labels
        .iter()
        .map(|(name, value)| Label::from_static_parts(name, value))
        .collect();
    Key::from_parts(name, labels)
}

#[cfg(test)]
mod tests;
