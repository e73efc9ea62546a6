//! Bearer tokens, their renewal on a 401 (once, shared by the calls that
//! failed together), and what the answers announce.

use super::*;

#[test]
fn attaches_the_bearer_token_only_when_signed_in() {
    let fake = Fake::default();
    let client = fake.client();
    let _ = block_on(echo(&client, "/api/things", None));
    assert_eq!(
        fake.requests_to("/api/things")[0].header("Authorization"),
        None
    );

    login(&client);
    let answer = block_on(echo(&client, "/api/things", None)).unwrap();
    assert_eq!(answer["path"], "/api/things");
    let sent = fake.requests_to("/api/things");
    assert_eq!(
        sent.last().unwrap().header("Authorization"),
        Some("Bearer t0")
    );
    assert_eq!(
        fake.refreshes(),
        0,
        "a bare challenge (no token was sent) is not cured by renewing"
    );
}

#[test]
fn an_expired_token_is_renewed_once_and_the_request_replayed_unchanged() {
    let fake = Fake::default();
    let client = fake.client();
    login(&client);
    fake.expire_tokens();

    let body = json!({"name": "Ada King"});
    let answer = block_on(echo(&client, "/api/me", Some(&body))).unwrap();

    assert_eq!(fake.refreshes(), 1);
    let sent = fake.requests_to("/api/me");
    assert_eq!(sent.len(), 2, "the original and one replay");
    let (original, replay) = (&sent[0], &sent[1]);
    assert_eq!(replay.method, original.method);
    assert_eq!(replay.body, original.body);
    assert_eq!(
        replay.header("Content-Type"),
        original.header("Content-Type")
    );
    assert_eq!(original.header("Authorization"), Some("Bearer t0"));
    assert_eq!(replay.header("Authorization"), Some("Bearer t1"));
    assert_eq!(answer["body"], body.to_string());
}

#[test]
fn requests_that_fail_together_share_one_refresh() {
    let fake = Fake::default();
    let client = fake.client();
    login(&client);
    fake.expire_tokens();

    let paths: Vec<String> = (0..5).map(|n| format!("/api/item/{n}")).collect();
    let answers = block_on(join_all(paths.iter().map(|path| echo(&client, path, None))));

    assert_eq!(fake.refreshes(), 1);
    for (path, answer) in paths.iter().zip(answers) {
        assert_eq!(answer.unwrap()["path"], *path);
        let sent = fake.requests_to(path);
        assert_eq!(sent.len(), 2, "{path}: one failure, one replay");
        assert_eq!(sent[1].header("Authorization"), Some("Bearer t1"));
    }
}

#[test]
fn other_refusals_are_returned_as_they_are() {
    let fake = Fake::default();
    let client = fake.client();
    login(&client);
    for (path, code) in [
        ("/api/wrong-password", ProblemCode::InvalidCredentials),
        ("/api/forbidden", ProblemCode::OriginNotAllowed),
        ("/api/other-challenge", ProblemCode::InvalidToken),
    ] {
        let error = block_on(echo(&client, path, None)).unwrap_err();
        assert_eq!(error.code(), Some(code));
        assert_eq!(fake.requests_to(path).len(), 1, "not replayed");
    }
    assert_eq!(fake.refreshes(), 0);
}

#[test]
fn auth_endpoints_never_trigger_a_renewal() {
    let fake = Fake::default();
    let client = fake.client();
    fake.0.refuse_refresh.set(true);
    let error = block_on(client.refresh()).unwrap_err();
    assert_eq!(error.code(), Some(ProblemCode::InvalidRefreshToken));
    assert_eq!(
        fake.refreshes(),
        1,
        "a refused refresh is not itself refreshed"
    );
}

#[test]
fn a_failed_refresh_ends_the_session_for_every_waiting_request() {
    let fake = Fake::default();
    let client = fake.client();
    let seen = events(&client);
    login(&client);
    fake.expire_tokens();
    fake.0.refuse_refresh.set(true);

    let answers = block_on(join_all((0..3).map(|n| {
        let path = format!("/api/item/{n}");
        let client = client.clone();
        async move { echo(&client, &path, None).await }
    })));

    assert_eq!(fake.refreshes(), 1);
    for answer in answers {
        assert_eq!(answer.unwrap_err(), ClientError::SessionExpired);
    }
    assert!(!client.has_token());
    let ended: Vec<_> = seen
        .borrow()
        .iter()
        .filter(|event| matches!(event, SessionEvent::Ended(_)))
        .cloned()
        .collect();
    assert_eq!(ended, [SessionEvent::Ended(EndReason::Expired)]);
}

#[test]
fn a_replay_that_fails_again_is_not_retried() {
    let fake = Fake::default();
    let client = fake.client();
    login(&client);
    fake.expire_tokens();
    fake.0.revoke_after_refresh.set(true);
    let answer = block_on(echo(&client, "/api/me", None));
    assert_eq!(answer.unwrap_err().code(), Some(ProblemCode::TokenExpired));
    assert_eq!(fake.refreshes(), 1);
    assert_eq!(fake.requests_to("/api/me").len(), 2);
}

#[test]
fn a_request_refused_after_a_renewal_replays_without_another() {
    let fake = Fake::default();
    let client = fake.client();
    login(&client);
    fake.expire_tokens();

    // The request leaves with the stale token and its answer is held back
    // until a renewal has completed.
    let open = fake.hold_next("/api/slow");
    let slow = echo(&client, "/api/slow", None);
    let renew = async {
        client.refresh().await.unwrap();
        let _ = open.send(());
    };
    let (answer, ()) = block_on(futures::future::join(slow, renew));

    assert_eq!(answer.unwrap()["path"], "/api/slow");
    assert_eq!(fake.refreshes(), 1);
    let sent = fake.requests_to("/api/slow");
    assert_eq!(sent[0].header("Authorization"), Some("Bearer t0"));
    assert_eq!(sent[1].header("Authorization"), Some("Bearer t1"));
}

#[test]
fn an_explicit_refresh_and_a_401_share_one_network_call() {
    let fake = Fake::default();
    let client = fake.client();
    login(&client);
    fake.expire_tokens();
    let (explicit, answer) = block_on(futures::future::join(
        client.refresh(),
        echo(&client, "/api/me", None),
    ));
    assert_eq!(explicit.unwrap().access_token, "t1");
    assert!(answer.is_ok());
    assert_eq!(fake.refreshes(), 1);
}

#[test]
fn an_offline_refresh_does_not_sign_out() {
    let fake = Fake::default();
    let client = fake.client();
    let seen = events(&client);
    login(&client);
    fake.expire_tokens();
    fake.0.refresh_offline.set(true);
    let error = block_on(echo(&client, "/api/me", None)).unwrap_err();
    assert!(matches!(error, ClientError::Network(_)), "{error:?}");
    assert!(client.has_token());
    assert!(!seen
        .borrow()
        .iter()
        .any(|event| matches!(event, SessionEvent::Ended(_))));
}

#[test]
fn problems_decode_with_their_field_messages() {
    let fake = Fake::default();
    let client = fake.client();
    let error = block_on(echo(&client, "/api/invalid", None)).unwrap_err();
    assert_eq!(error.code(), Some(ProblemCode::ValidationFailed));
    assert_eq!(
        error.field_message("name").as_deref(),
        Some("Enter your name.")
    );
    assert_eq!(error.field_message("email"), None);

    let error = block_on(echo(&client, "/api/not-json", None)).unwrap_err();
    assert_eq!(error, ClientError::Unexpected { status: 502 });
    assert!(error.message().contains("502"));
}

#[test]
fn login_and_logout_drive_the_session_events() {
    let fake = Fake::default();
    let client = fake.client();
    let seen = events(&client);
    login(&client);
    assert!(client.has_token());
    block_on(client.logout()).unwrap();
    assert!(!client.has_token());
    let seen = seen.borrow();
    assert!(matches!(&seen[0], SessionEvent::Renewed(tokens) if tokens.access_token == "t0"));
    assert_eq!(seen[1], SessionEvent::Ended(EndReason::SignedOut));
    assert_eq!(seen.len(), 2);
    // 204 decodes into `()`.
    assert_eq!(fake.requests_to(Logout::PATH).len(), 1);
}

#[test]
fn cookie_endpoints_never_renew_and_carry_no_token() {
    let fake = Fake::default();
    let client = fake.client();
    login(&client);
    fake.expire_tokens();
    // The fake answers a stale token with an invalid_token challenge; on a
    // cookie endpoint that still must not start a renewal.
    let error = block_on(call(
        &client,
        "/api/auth/elsewhere",
        Credentials::RefreshCookie,
        None,
    ))
    .unwrap_err();
    assert_eq!(error.code(), Some(ProblemCode::AuthenticationRequired));
    assert_eq!(fake.refreshes(), 0);
    let sent = fake.requests_to("/api/auth/elsewhere");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("Authorization"), None);
}

#[test]
fn public_endpoints_carry_no_token() {
    let fake = Fake::default();
    let client = fake.client();
    login(&client);
    let _ = block_on(call(&client, "/api/public", Credentials::None, None));
    assert_eq!(
        fake.requests_to("/api/public")[0].header("Authorization"),
        None
    );
    assert_eq!(fake.refreshes(), 0);
}

#[test]
fn typed_calls_follow_the_endpoint_description() {
    let fake = Fake::default();
    let client = fake.client();
    let tokens = block_on(client.call::<Login>(
        (),
        &LoginRequest {
            email: "ada@example.com".into(),
            password: "pw".into(),
            remember: true,
        },
    ))
    .unwrap();
    let crate::api::types::LoginResponse::SignedIn(tokens) = tokens else {
        panic!("signed in: {tokens:?}");
    };
    assert_eq!(tokens.access_token, "t0");
    let sent = &fake.requests_to(Login::PATH)[0];
    assert_eq!(sent.method, Login::METHOD);
    assert_eq!(sent.header("Content-Type"), Some("application/json"));
    // A body of `()` is no body at all.
    block_on(client.call::<Logout>((), &())).unwrap();
    assert_eq!(fake.requests_to(Logout::PATH)[0].body, None);
}

#[test]
fn only_an_invalid_token_bearer_challenge_asks_for_renewal() {
    for (challenge, renew) in [
        (r#"Bearer error="invalid_token""#, true),
        (
            r#"Bearer realm="api", error="invalid_token", error_description="expired""#,
            true,
        ),
        ("bearer error=invalid_token", true),
        ("Bearer", false),
        (r#"Bearer error="invalid_request""#, false),
        (r#"Bearer error="insufficient_scope""#, false),
        (r#"Basic error="invalid_token""#, false),
        ("", false),
    ] {
        assert_eq!(
            is_invalid_token_challenge(challenge),
            renew,
            "{challenge:?}"
        );
    }
    let mut response = problem(ProblemCode::InvalidToken);
    response.www_authenticate = Some(r#"Bearer error="invalid_token""#.into());
    assert!(wants_renewal(&response));
    response.status = 403;
    assert!(!wants_renewal(&response), "only a 401 is renewed");
}

#[test]
fn versioned_calls_send_if_match_and_return_the_etag() {
    let fake = Fake::default();
    let client = fake.client();
    login(&client);
    let answer = block_on(client.send_json::<Value>(
        Method::Put,
        "/api/versioned",
        Credentials::Bearer,
        Some(&json!({"name": "x"})),
        Some("\"v3\""),
    ))
    .unwrap();
    assert_eq!(answer.etag.as_deref(), Some("\"v4\""));
    let sent = &fake.requests_to("/api/versioned")[0];
    assert_eq!(sent.header("If-Match"), Some("\"v3\""));
}

#[test]
fn answers_that_carry_the_user_announce_it() {
    let fake = Fake::default();
    let client = fake.client();
    let seen = events(&client);
    login(&client);
    fake.0.users_at_me.set(true);
    let user =
        block_on(client.update_profile(&UpdateProfileRequest { name: "Ada".into() })).unwrap();
    block_on(client.me()).unwrap();
    let changed: Vec<_> = seen
        .borrow()
        .iter()
        .filter(|event| matches!(event, SessionEvent::UserChanged(_)))
        .cloned()
        .collect();
    assert_eq!(
        changed,
        [
            SessionEvent::UserChanged(user.clone()),
            SessionEvent::UserChanged(user)
        ]
    );
}
