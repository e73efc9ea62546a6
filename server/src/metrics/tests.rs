use super::*;

/// The value of the series written exactly as `series` in `text`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok()).flatten()
    })
}

#[test]
fn disabled_metrics_record_and_render_nothing() {
    let metrics = Metrics::disabled();
    metrics.sign_in(SignInOutcome::Success);
    metrics.rate_limited(Policy::Login, LimitScope::Ip);
    metrics.password_hash_waited(Duration::from_millis(3));
    assert!(!metrics.is_enabled());
    assert!(metrics.http_layer().is_none());
    assert_eq!(metrics.render(), "");
}

#[test]
fn every_series_of_the_services_starts_at_zero_with_its_help() {
    let text = Metrics::enabled().render();
    for outcome in SignInOutcome::ALL {
        let series = format!("auth_sign_ins_total{{outcome=\"{}\"}}", outcome.label());
        assert_eq!(value(&text, &series), Some(0.0), "{series} in {text}");
    }
    for policy in Policy::ALL {
        for scope in ["ip", "target"] {
            let series = format!(
                "rate_limit_refusals_total{{policy=\"{}\",scope=\"{scope}\"}}",
                policy.label()
            );
            assert_eq!(value(&text, &series), Some(0.0), "{series}");
        }
    }
    for kind in MailKind::ALL {
        let series = format!("mail_queued_total{{kind=\"{kind}\"}}");
        assert_eq!(value(&text, &series), Some(0.0), "{series}");
    }
    // The HTTP series appear with their first request.
    for (name, _) in &names::HELP[2..] {
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no help for {name}"
        );
    }
    assert!(text.contains("# TYPE password_hash_queue_wait_seconds histogram"));
}

#[test]
fn each_call_adds_to_its_own_series() {
    let metrics = Metrics::enabled();
    metrics.sign_in(SignInOutcome::WrongPassword);
    metrics.sign_in(SignInOutcome::WrongPassword);
    metrics.sign_in(SignInOutcome::Locked);
    metrics.refresh_rotated();
    metrics.refresh_reuse_detected();
    metrics.lockout();
    metrics.rate_limited(Policy::ForgotPassword, LimitScope::Target);
    metrics.mail_queued(MailKind::ResetPassword);
    metrics.mail_sent(MailKind::ResetPassword);
    metrics.mail_failed(MailFailure::Expired, 3);
    metrics.password_hash_rejected();
    metrics.password_hash_waited(Duration::from_millis(7));
    let text = metrics.render();
    for (series, expected) in [
        (r#"auth_sign_ins_total{outcome="wrong_password"}"#, 2.0),
        (r#"auth_sign_ins_total{outcome="locked"}"#, 1.0),
        (r#"auth_sign_ins_total{outcome="success"}"#, 0.0),
        ("auth_refresh_rotations_total", 1.0),
        ("auth_refresh_reuse_detected_total", 1.0),
        ("auth_lockouts_total", 1.0),
        (
            r#"rate_limit_refusals_total{policy="forgot_password",scope="target"}"#,
            1.0,
        ),
        (
            r#"rate_limit_refusals_total{policy="forgot_password",scope="ip"}"#,
            0.0,
        ),
        (r#"mail_queued_total{kind="reset_password"}"#, 1.0),
        (r#"mail_sent_total{kind="reset_password"}"#, 1.0),
        (r#"mail_failed_total{outcome="expired"}"#, 3.0),
        ("password_hash_rejections_total", 1.0),
        (
            r#"password_hash_queue_wait_seconds_bucket{le="0.005"}"#,
            0.0,
        ),
        (r#"password_hash_queue_wait_seconds_bucket{le="0.01"}"#, 1.0),
        ("password_hash_queue_wait_seconds_count", 1.0),
    ] {
        assert_eq!(value(&text, series), Some(expected), "{series} in {text}");
    }
}

#[test]
fn the_refusals_of_a_sign_in_name_their_outcome() {
    assert_eq!(
        SignInOutcome::of_refusal(ProblemCode::InvalidCredentials),
        Some(SignInOutcome::WrongPassword)
    );
    assert_eq!(
        SignInOutcome::of_refusal(ProblemCode::SignInLocked),
        Some(SignInOutcome::Locked)
    );
    assert_eq!(
        SignInOutcome::of_refusal(ProblemCode::AccountDisabled),
        Some(SignInOutcome::Disabled)
    );
    // Counted elsewhere (rate limits, overload) or not a sign-in's own.
    for other in [ProblemCode::RateLimited, ProblemCode::Overloaded] {
        assert_eq!(SignInOutcome::of_refusal(other), None, "{other:?}");
    }
}

/// Two applications in one process (as the API tests run them) keep
/// counts of their own.
#[test]
fn applications_do_not_share_counts() {
    let one = Metrics::enabled();
    let other = Metrics::enabled();
    one.lockout();
    assert_eq!(value(&one.render(), "auth_lockouts_total"), Some(1.0));
    assert_eq!(value(&other.render(), "auth_lockouts_total"), Some(0.0));
}
