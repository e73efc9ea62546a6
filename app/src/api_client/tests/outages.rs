//! What a renewal or a sign-out that did not happen leaves behind: the
//! session, as it is on the server. A renewal refused for now (429) or
//! failing on the server's side does not sign the tab out; a sign-out the
//! server never heard of does not pretend to have happened; and a renewal
//! answered after the tab signed out does not sign it back in.

use super::*;

fn ended(seen: &Rc<RefCell<Vec<SessionEvent>>>) -> bool {
    seen.borrow()
        .iter()
        .any(|event| matches!(event, SessionEvent::Ended(_)))
}

#[test]
fn a_renewal_refused_for_now_or_failing_keeps_the_session() {
    for code in [ProblemCode::RateLimited, ProblemCode::Overloaded] {
        let fake = Fake::default();
        let client = fake.client();
        login(&client);
        let seen = events(&client);
        fake.expire_tokens();
        fake.0.refresh_problem.set(Some(code));

        let answer = block_on(echo(&client, "/api/things", None));

        assert_eq!(
            answer.unwrap_err().code(),
            Some(code),
            "the reason, as it is"
        );
        assert!(client.has_token(), "{code:?}: still signed in");
        assert!(!ended(&seen), "{code:?}: no end announced");

        // Once the server renews again, so does the tab.
        fake.0.refresh_problem.set(None);
        assert!(block_on(echo(&client, "/api/things", None)).is_ok());
    }
}

#[test]
fn a_sign_out_the_server_never_heard_of_keeps_the_session() {
    let fake = Fake::default();
    let client = fake.client();
    login(&client);
    let seen = events(&client);
    fake.0.logout_offline.set(true);

    let outcome = block_on(client.logout());

    assert!(matches!(outcome, Err(ClientError::Network(_))));
    assert!(client.has_token());
    assert!(!ended(&seen));
    fake.0.logout_offline.set(false);
    block_on(client.logout()).unwrap();
    assert!(!client.has_token());
    assert!(ended(&seen));
}

#[test]
fn a_renewal_answered_after_signing_out_does_not_sign_back_in() {
    let fake = Fake::default();
    let client = fake.client();
    login(&client);
    let seen = events(&client);
    let open = fake.hold_next(Refresh::PATH);

    let (renewal, ()) = block_on(futures::future::join(client.refresh(), async {
        // The renewal is on its way; the user signs out in another tab.
        YieldOnce::default().await;
        client.forget_session();
        let _ = open.send(());
    }));

    assert_eq!(renewal.unwrap_err(), ClientError::SessionExpired);
    assert!(!client.has_token());
    assert!(
        !seen
            .borrow()
            .iter()
            .any(|event| matches!(event, SessionEvent::Renewed(_))),
        "{:?}",
        seen.borrow()
    );
}
