//! Step-up re-authentication: a call refused for an old sign-in is replayed
//! after the user proves it is them, once for the calls refused together.

use super::{fake_user::*, *};

#[test]
fn a_challenged_call_is_replayed_once_after_one_reauthentication() {
    let fake = Fake::default();
    let user = FakeUser::answering(&[Some("right")]);
    let client = signed_in_with(&fake, &user);
    let seen = events(&client);

    let body = json!({"current_password": "old", "new_password": "new"});
    let answer = block_on(sensitive(&client, "/api/sensitive", Some(&body))).unwrap();

    assert_eq!(fake.reauthentications(), 1);
    assert_eq!(user.asked(), [None]);
    assert_eq!(user.finished(), 1, "the prompt closes");
    let proofs = fake.requests_to(Reauthenticate::PATH);
    assert_eq!(proofs.len(), 1);
    assert_eq!(proofs[0].method, Method::Post);
    assert_eq!(proofs[0].header("Authorization"), Some("Bearer t0"));
    assert_eq!(proofs[0].body.as_deref(), Some(r#"{"password":"right"}"#));

    let sent = fake.requests_to("/api/sensitive");
    assert_eq!(sent.len(), 2, "the original and one replay");
    let (original, replay) = (&sent[0], &sent[1]);
    assert_eq!(replay.method, original.method);
    assert_eq!(replay.path, original.path);
    assert_eq!(replay.body, original.body);
    assert_eq!(
        replay.header("Content-Type"),
        original.header("Content-Type")
    );
    assert_eq!(original.header("Authorization"), Some("Bearer t0"));
    assert_eq!(replay.header("Authorization"), Some("Bearer r1"));
    assert_eq!(answer["body"], body.to_string());
    assert_eq!(fake.refreshes(), 0, "a challenge is not an expired token");
    // The new token is adopted as after a login.
    assert!(matches!(
        seen.borrow().as_slice(),
        [SessionEvent::Renewed(tokens)] if tokens.access_token == "r1"
    ));
}

#[test]
fn calls_challenged_together_share_one_prompt_and_one_reauthentication() {
    let fake = Fake::default();
    let user = FakeUser::answering(&[Some("right")]);
    let client = signed_in_with(&fake, &user);

    let paths: Vec<String> = (0..3).map(|n| format!("/api/sensitive/{n}")).collect();
    let answers = block_on(join_all(
        paths.iter().map(|path| sensitive(&client, path, None)),
    ));

    assert_eq!(user.asked().len(), 1, "one prompt");
    assert_eq!(fake.reauthentications(), 1);
    assert_eq!(fake.requests_to(Reauthenticate::PATH).len(), 1);
    for (path, answer) in paths.iter().zip(answers) {
        assert_eq!(answer.unwrap()["path"], *path);
        let sent = fake.requests_to(path);
        assert_eq!(sent.len(), 2, "{path}: one challenge, one replay");
        assert_eq!(sent[1].header("Authorization"), Some("Bearer r1"));
    }
}

#[test]
fn a_call_challenged_after_another_proved_the_user_replays_without_asking() {
    let fake = Fake::default();
    let user = FakeUser::answering(&[Some("right")]);
    let client = signed_in_with(&fake, &user);

    // This request leaves with the old token; its answer is held back
    // until another call has asked the user and reauthenticated.
    let open = fake.hold_next("/api/sensitive/slow");
    let slow = sensitive(&client, "/api/sensitive/slow", None);
    let other = async {
        sensitive(&client, "/api/sensitive/quick", None)
            .await
            .unwrap();
        let _ = open.send(());
    };
    let (answer, ()) = block_on(futures::future::join(slow, other));

    assert_eq!(answer.unwrap()["path"], "/api/sensitive/slow");
    assert_eq!(user.asked().len(), 1);
    assert_eq!(fake.reauthentications(), 1);
    let sent = fake.requests_to("/api/sensitive/slow");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].header("Authorization"), Some("Bearer t0"));
    assert_eq!(sent[1].header("Authorization"), Some("Bearer r1"));
}

#[test]
fn cancelling_fails_the_call_readably_and_sends_nothing_more() {
    let fake = Fake::default();
    let user = FakeUser::answering(&[None]);
    let client = signed_in_with(&fake, &user);
    let seen = events(&client);

    let error = block_on(sensitive(&client, "/api/sensitive", Some(&json!({})))).unwrap_err();

    assert_eq!(error, ClientError::ReauthenticationCancelled);
    assert_eq!(
        error.message(),
        "Cancelled: confirm your password to do this."
    );
    assert_eq!(user.finished(), 1, "the prompt closes");
    assert!(fake.requests_to(Reauthenticate::PATH).is_empty());
    assert_eq!(fake.requests_to("/api/sensitive").len(), 1, "not replayed");
    // Nothing else changes: still signed in, with the same token.
    assert!(client.has_token());
    assert!(seen.borrow().is_empty(), "{:?}", seen.borrow());
    let answer = block_on(echo(&client, "/api/things", None)).unwrap();
    assert_eq!(answer["path"], "/api/things");
    assert_eq!(
        fake.requests_to("/api/things")[0].header("Authorization"),
        Some("Bearer t0")
    );
}

#[test]
fn a_call_challenged_after_the_user_cancelled_fails_without_asking_again() {
    let fake = Fake::default();
    let user = FakeUser::answering(&[None, Some("right")]);
    let client = signed_in_with(&fake, &user);

    // This request leaves before the user is asked; its refusal comes back
    // only after they have cancelled the prompt another call opened.
    let open = fake.hold_next("/api/sensitive/slow");
    let slow = sensitive(&client, "/api/sensitive/slow", None);
    let other = async {
        let cancelled = sensitive(&client, "/api/sensitive/quick", None).await;
        assert_eq!(
            cancelled.unwrap_err(),
            ClientError::ReauthenticationCancelled
        );
        let _ = open.send(());
    };
    let (answer, ()) = block_on(futures::future::join(slow, other));

    assert_eq!(answer.unwrap_err(), ClientError::ReauthenticationCancelled);
    assert_eq!(user.asked().len(), 1, "asked once, not again at once");
    assert_eq!(fake.requests_to("/api/sensitive/slow").len(), 1);
    // A call made after the cancel asks again.
    let answer = block_on(sensitive(&client, "/api/sensitive/later", None)).unwrap();
    assert_eq!(answer["path"], "/api/sensitive/later");
    assert_eq!(user.asked().len(), 2);
}

#[test]
fn a_wrong_password_asks_again_with_the_verdict_then_succeeds() {
    let fake = Fake::default();
    let user = FakeUser::answering(&[Some("wrong"), Some("right")]);
    let client = signed_in_with(&fake, &user);

    let answer = block_on(sensitive(&client, "/api/sensitive", None)).unwrap();

    assert_eq!(answer["path"], "/api/sensitive");
    let asked = user.asked();
    assert_eq!(asked.len(), 2, "asked again after the refusal");
    assert_eq!(asked[0], None);
    let refusal = asked[1].as_ref().expect("the verdict is shown");
    assert_eq!(refusal.code(), Some(ProblemCode::ValidationFailed));
    assert_eq!(
        refusal.field_message("password").as_deref(),
        Some("That is not your password.")
    );
    assert_eq!(user.finished(), 1);
    assert_eq!(fake.requests_to(Reauthenticate::PATH).len(), 2);
    assert_eq!(fake.reauthentications(), 1);
    assert_eq!(fake.requests_to("/api/sensitive").len(), 2);
}

#[test]
fn cancelling_after_a_wrong_password_ends_it() {
    let fake = Fake::default();
    let user = FakeUser::answering(&[Some("wrong"), None]);
    let client = signed_in_with(&fake, &user);

    let error = block_on(sensitive(&client, "/api/sensitive", None)).unwrap_err();

    assert_eq!(error, ClientError::ReauthenticationCancelled);
    assert_eq!(user.asked().len(), 2);
    assert_eq!(user.finished(), 1);
    assert_eq!(fake.requests_to(Reauthenticate::PATH).len(), 1);
    assert_eq!(fake.requests_to("/api/sensitive").len(), 1);
    assert!(client.has_token());
}

#[test]
fn a_replay_that_is_challenged_again_fails_rather_than_looping() {
    let fake = Fake::default();
    fake.0.always_challenge.set(true);
    let user = FakeUser::answering(&[Some("right"), Some("right")]);
    let client = signed_in_with(&fake, &user);

    let error = block_on(sensitive(&client, "/api/sensitive", None)).unwrap_err();

    assert_eq!(
        error.code(),
        Some(ProblemCode::InsufficientUserAuthentication)
    );
    assert_eq!(user.asked().len(), 1);
    assert_eq!(fake.reauthentications(), 1);
    assert_eq!(fake.requests_to("/api/sensitive").len(), 2);
}

#[test]
fn an_expired_token_is_renewed_before_the_user_is_asked() {
    let fake = Fake::default();
    let user = FakeUser::answering(&[Some("right")]);
    let client = signed_in_with(&fake, &user);
    fake.expire_tokens();

    let answer = block_on(sensitive(&client, "/api/sensitive", None)).unwrap();

    assert_eq!(answer["path"], "/api/sensitive");
    assert_eq!(fake.refreshes(), 1);
    assert_eq!(fake.reauthentications(), 1);
    let sent = fake.requests_to("/api/sensitive");
    let tokens: Vec<_> = sent.iter().map(|r| r.header("Authorization")).collect();
    assert_eq!(
        tokens,
        [Some("Bearer t0"), Some("Bearer t1"), Some("Bearer r1")],
        "refused token, renewed token, proved token: one replay for each cause"
    );
    let proofs = fake.requests_to(Reauthenticate::PATH);
    assert_eq!(proofs[0].header("Authorization"), Some("Bearer t1"));
}

#[test]
fn a_token_that_expires_while_the_user_types_is_renewed_for_the_reauthentication() {
    let fake = Fake::default();
    let user = FakeUser::answering(&[Some("right")]);
    *user.0.slow_typist_of.borrow_mut() = Some(fake.clone());
    let client = signed_in_with(&fake, &user);

    let answer = block_on(sensitive(&client, "/api/sensitive", None)).unwrap();

    assert_eq!(answer["path"], "/api/sensitive");
    assert_eq!(fake.refreshes(), 1);
    assert_eq!(user.asked().len(), 1, "the user is not asked twice");
    let proofs = fake.requests_to(Reauthenticate::PATH);
    let tokens: Vec<_> = proofs.iter().map(|r| r.header("Authorization")).collect();
    assert_eq!(tokens, [Some("Bearer t0"), Some("Bearer t1")]);
    assert_eq!(proofs[0].body, proofs[1].body);
    assert_eq!(fake.reauthentications(), 1);
    assert_eq!(
        fake.requests_to("/api/sensitive")[1].header("Authorization"),
        Some("Bearer r1")
    );
}

#[test]
fn without_a_reauthenticator_the_challenge_is_the_answer() {
    let fake = Fake::default();
    let client = fake.client();
    login(&client);
    let error = block_on(sensitive(&client, "/api/sensitive", None)).unwrap_err();
    assert_eq!(
        error.code(),
        Some(ProblemCode::InsufficientUserAuthentication)
    );
    assert_eq!(fake.requests_to("/api/sensitive").len(), 1);
    assert!(fake.requests_to(Reauthenticate::PATH).is_empty());
}

#[test]
fn only_an_insufficient_user_authentication_401_asks_for_a_step_up() {
    let challenge = |header: Option<&str>, code: ProblemCode| HttpResponse {
        www_authenticate: header.map(str::to_owned),
        ..problem(code)
    };
    let step_up = ProblemCode::InsufficientUserAuthentication;
    // By its challenge, by its code, or both.
    assert!(wants_step_up(&challenge(
        Some(r#"Bearer error="insufficient_user_authentication", max_age=300"#),
        step_up
    )));
    assert!(wants_step_up(&challenge(None, step_up)));
    let mut by_header_only = challenge(
        Some(r#"Bearer error="insufficient_user_authentication""#),
        step_up,
    );
    by_header_only.body = String::new();
    assert!(wants_step_up(&by_header_only));
    // Not a refused token, nor another status.
    assert!(!wants_step_up(&challenge(
        Some(r#"Bearer error="invalid_token""#),
        ProblemCode::TokenExpired
    )));
    assert!(!wants_renewal(&challenge(
        Some(r#"Bearer error="insufficient_user_authentication""#),
        step_up
    )));
    let mut forbidden = challenge(None, step_up);
    forbidden.status = 403;
    assert!(!wants_step_up(&forbidden));
}

#[test]
fn a_second_factor_is_asked_for_at_a_second_step() {
    let fake = Fake::default();
    fake.0.second_factor.set(true);
    let user = FakeUser::with_second_factor("right", "123456");
    let client = signed_in_with(&fake, &user);

    let answer = block_on(sensitive(&client, "/api/sensitive", None)).unwrap();

    assert_eq!(answer["path"], "/api/sensitive");
    let asked = user.asked();
    assert_eq!(asked.len(), 2, "the password, then the code");
    let refusal = asked[1].as_ref().expect("the second step says why");
    assert_eq!(
        refusal.field_message("code").as_deref(),
        Some("Enter the code from your authenticator app.")
    );
    assert_eq!(refusal.field_message("password"), None);
    let proofs = fake.requests_to(Reauthenticate::PATH);
    assert_eq!(proofs[0].body.as_deref(), Some(r#"{"password":"right"}"#));
    assert_eq!(
        proofs[1].body.as_deref(),
        Some(r#"{"password":"right","code":"123456"}"#)
    );
    assert_eq!(fake.reauthentications(), 1);
    assert_eq!(user.finished(), 1);
}

#[test]
fn a_passkey_steps_up_and_a_refused_one_asks_again() {
    let fake = Fake::default();
    let user = FakeUser::default();
    *user.0.answers.borrow_mut() = [passkey_answer("copied"), passkey_answer("good")]
        .into_iter()
        .collect();
    let client = signed_in_with(&fake, &user);

    let answer = block_on(sensitive(&client, "/api/sensitive", None)).unwrap();

    assert_eq!(answer["path"], "/api/sensitive");
    let asked = user.asked();
    assert_eq!(asked.len(), 2, "asked again after the passkey was refused");
    assert_eq!(
        asked[1].as_ref().and_then(ClientError::code),
        Some(ProblemCode::PasskeyRejected)
    );
    assert_eq!(fake.requests_to(ReauthenticateWithPasskey::PATH).len(), 2);
    assert!(fake.requests_to(Reauthenticate::PATH).is_empty());
    assert_eq!(fake.reauthentications(), 1);
    let replayed = fake.requests_to("/api/sensitive");
    assert_eq!(replayed.len(), 2);
    assert_eq!(replayed[1].header("Authorization"), Some("Bearer r1"));
    assert_eq!(user.finished(), 1);
}
