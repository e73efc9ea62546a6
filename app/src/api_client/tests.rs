//! The retry and single-flight rules, against a fake server on one thread.

use std::{
    cell::{Cell, RefCell},
    future::Future,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
};

use futures::{channel::oneshot, executor::block_on, future::join_all, FutureExt as _};
use serde_json::{json, Value};

use super::{answer::is_invalid_token_challenge, *};
use crate::api::{
    endpoints::{Login, Logout, Reauthenticate, ReauthenticateWithPasskey, Refresh},
    passkeys::PasskeyAssertion,
    types::{
        DisplayName, Email, LoginRequest, ReauthenticateRequest, Role, UpdateProfileRequest, UserId,
    },
    FieldError, Problem, ProblemCode,
};

/// Answers like the real API: `/api/me` and friends accept only the current
/// token; refresh issues `t1`, `t2`, … unless told to refuse.
#[derive(Default)]
struct FakeServer {
    log: RefCell<Vec<HttpRequest>>,
    current_token: RefCell<String>,
    refreshes: Cell<usize>,
    refuse_refresh: Cell<bool>,
    refresh_offline: Cell<bool>,
    /// Refresh succeeds, but the session is revoked a moment later.
    revoke_after_refresh: Cell<bool>,
    /// `/api/me` answers as the real API does (a user), not with an echo.
    users_at_me: Cell<bool>,
    /// The next request to this path waits for the gate to open.
    gate: RefCell<Option<(String, oneshot::Receiver<()>)>>,
    /// Tokens issued by reauthentication: proof of a recent sign-in.
    fresh_tokens: RefCell<Vec<String>>,
    /// Tokens replaced by a reauthentication that have not expired yet.
    still_valid: RefCell<Vec<String>>,
    reauthentications: Cell<usize>,
    /// `/api/sensitive…` refuses even a fresh token.
    always_challenge: Cell<bool>,
    /// The account has a second factor: reauthenticating needs the code
    /// `123456` besides the password.
    second_factor: Cell<bool>,
}

#[derive(Clone, Default)]
struct Fake(Rc<FakeServer>);

impl Fake {
    fn client(&self) -> ApiClient {
        ApiClient::new(self.clone())
    }

    fn hold_next(&self, path: &str) -> oneshot::Sender<()> {
        let (open, gate) = oneshot::channel();
        *self.0.gate.borrow_mut() = Some((path.to_owned(), gate));
        open
    }

    /// Makes every token issued so far stale, as time would.
    fn expire_tokens(&self) {
        *self.0.current_token.borrow_mut() = "nobody-has-this".into();
        self.0.still_valid.borrow_mut().clear();
    }

    fn reauthentications(&self) -> usize {
        self.0.reauthentications.get()
    }

    /// The token of an `Authorization` header that the fake accepts.
    fn accepted_token(&self, request: &HttpRequest) -> Option<String> {
        let token = request.header("Authorization")?.strip_prefix("Bearer ")?;
        let server = &self.0;
        (*server.current_token.borrow() == token
            || server
                .still_valid
                .borrow()
                .iter()
                .any(|valid| valid == token))
        .then(|| token.to_owned())
    }

    fn requests_to(&self, path: &str) -> Vec<HttpRequest> {
        self.0
            .log
            .borrow()
            .iter()
            .filter(|request| request.path == path)
            .cloned()
            .collect()
    }

    fn refreshes(&self) -> usize {
        self.0.refreshes.get()
    }

    async fn answer(&self, request: HttpRequest) -> Result<HttpResponse, String> {
        self.0.log.borrow_mut().push(request.clone());
        // Every answer takes a turn of the executor, so that concurrent
        // requests are really in flight together.
        YieldOnce::default().await;
        let gate = {
            let mut slot = self.0.gate.borrow_mut();
            match slot.take() {
                Some((path, gate)) if path == request.path => Some(gate),
                other => {
                    *slot = other;
                    None
                }
            }
        };
        if let Some(gate) = gate {
            let _ = gate.await;
        }

        let server = &self.0;
        let response = match (request.method, request.path.as_str()) {
            (Method::Post, Login::PATH) => {
                *server.current_token.borrow_mut() = "t0".into();
                ok(&tokens("t0"))
            }
            (Method::Post, Refresh::PATH) => {
                server.refreshes.set(server.refreshes.get() + 1);
                if server.refresh_offline.get() {
                    return Err("offline".into());
                }
                if server.refuse_refresh.get() {
                    problem(ProblemCode::InvalidRefreshToken)
                } else {
                    let token = format!("t{}", server.refreshes.get());
                    *server.current_token.borrow_mut() = if server.revoke_after_refresh.get() {
                        "revoked".into()
                    } else {
                        token.clone()
                    };
                    ok(&tokens(&token))
                }
            }
            (Method::Post, Logout::PATH) => HttpResponse {
                status: 204,
                www_authenticate: None,
                etag: None,
                body: String::new(),
            },
            (_, "/api/wrong-password") => problem(ProblemCode::InvalidCredentials),
            (_, "/api/forbidden") => problem(ProblemCode::OriginNotAllowed),
            // A 401 with another scheme's challenge: not about the token.
            (_, "/api/other-challenge") => HttpResponse {
                www_authenticate: Some(r#"Basic realm="elsewhere""#.into()),
                ..problem(ProblemCode::InvalidToken)
            },
            (Method::Post, Reauthenticate::PATH) => match self.accepted_token(&request) {
                None => refused_token(),
                Some(token) => {
                    let sent: ReauthenticateRequest =
                        serde_json::from_str(request.body.as_deref().unwrap_or("{}")).unwrap();
                    let refusal = |field: &str, message: &str| HttpResponse {
                        status: 422,
                        www_authenticate: None,
                        etag: None,
                        body: serde_json::to_string(
                            &Problem::new(ProblemCode::ValidationFailed, "Fix it.")
                                .with_errors(vec![FieldError::new(field, message)]),
                        )
                        .unwrap(),
                    };
                    if sent.password == "right"
                        && server.second_factor.get()
                        && sent.code.as_deref() != Some("123456")
                    {
                        refusal("code", "Enter the code from your authenticator app.")
                    } else if sent.password == "right" {
                        server
                            .reauthentications
                            .set(server.reauthentications.get() + 1);
                        let fresh = format!("r{}", server.reauthentications.get());
                        server.still_valid.borrow_mut().push(token);
                        server.fresh_tokens.borrow_mut().push(fresh.clone());
                        *server.current_token.borrow_mut() = fresh.clone();
                        ok(&tokens(&fresh))
                    } else {
                        refusal("password", "That is not your password.")
                    }
                }
            },
            (Method::Post, ReauthenticateWithPasskey::PATH) => {
                match self.accepted_token(&request) {
                    None => refused_token(),
                    Some(token) => {
                        let sent: PasskeyAssertion =
                            serde_json::from_str(request.body.as_deref().unwrap_or("{}")).unwrap();
                        if sent.challenge_id == "good" {
                            server
                                .reauthentications
                                .set(server.reauthentications.get() + 1);
                            let fresh = format!("r{}", server.reauthentications.get());
                            server.still_valid.borrow_mut().push(token);
                            server.fresh_tokens.borrow_mut().push(fresh.clone());
                            *server.current_token.borrow_mut() = fresh.clone();
                            ok(&tokens(&fresh))
                        } else {
                            problem(ProblemCode::PasskeyRejected)
                        }
                    }
                }
            }
            (_, path) if path.starts_with("/api/sensitive") => {
                match self.accepted_token(&request) {
                    None => refused_token(),
                    Some(token)
                        if server.fresh_tokens.borrow().contains(&token)
                            && !server.always_challenge.get() =>
                    {
                        echoed(&request)
                    }
                    Some(_) => HttpResponse {
                        www_authenticate: Some(
                            r#"Bearer error="insufficient_user_authentication", max_age=300"#
                                .into(),
                        ),
                        ..problem(ProblemCode::InsufficientUserAuthentication)
                    },
                }
            }
            (_, "/api/me") if server.users_at_me.get() => ok(&tokens("t0").user),
            (_, "/api/versioned") => HttpResponse {
                etag: Some("\"v4\"".into()),
                ..ok(&json!({}))
            },
            (_, "/api/not-json") => HttpResponse {
                status: 502,
                www_authenticate: None,
                etag: None,
                body: "<html>Bad Gateway</html>".into(),
            },
            (_, "/api/invalid") => HttpResponse {
                status: 422,
                www_authenticate: None,
                etag: None,
                body: serde_json::to_string(
                    &Problem::new(ProblemCode::ValidationFailed, "Fix it.")
                        .with_errors(vec![FieldError::new("name", "Enter your name.")]),
                )
                .unwrap(),
            },
            _ => match request.header("Authorization") {
                // RFC 6750 §3.1: no credentials, a bare challenge.
                None => HttpResponse {
                    www_authenticate: Some("Bearer".into()),
                    ..problem(ProblemCode::AuthenticationRequired)
                },
                Some(_) if self.accepted_token(&request).is_some() => echoed(&request),
                Some(_) => refused_token(),
            },
        };
        Ok(response)
    }
}

impl Transport for Fake {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, String>> {
        self.answer(request).boxed_local()
    }
}

#[derive(Default)]
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            context.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn tokens(access_token: &str) -> TokenResponse {
    TokenResponse {
        access_token: access_token.into(),
        token_type: "Bearer".into(),
        expires_in: 900,
        user: User {
            id: UserId::from_uuid(Default::default()),
            email: Email::parse("ada@example.com").unwrap(),
            name: DisplayName::parse("Ada").unwrap(),
            role: Role::User,
            email_verified: true,
            disabled: false,
            created_at: "2026-11-23T00:00:00Z".into(),
        },
    }
}

/// What the fake answers a request with an accepted token.
fn echoed(request: &HttpRequest) -> HttpResponse {
    ok(&json!({
        "method": request.method.as_str(),
        "path": request.path,
        "body": request.body,
    }))
}

/// A stale or unknown access token.
fn refused_token() -> HttpResponse {
    HttpResponse {
        www_authenticate: Some(r#"Bearer error="invalid_token""#.into()),
        ..problem(ProblemCode::TokenExpired)
    }
}

fn ok(body: &impl serde::Serialize) -> HttpResponse {
    HttpResponse {
        status: 200,
        www_authenticate: None,
        etag: None,
        body: serde_json::to_string(body).unwrap(),
    }
}

fn problem(code: ProblemCode) -> HttpResponse {
    HttpResponse {
        status: code.status(),
        www_authenticate: None,
        etag: None,
        body: serde_json::to_string(&Problem::new(code, "Refused.")).unwrap(),
    }
}

fn login(client: &ApiClient) {
    block_on(client.login(&LoginRequest {
        email: "ada@example.com".into(),
        password: "pw".into(),
        remember: true,
    }))
    .unwrap();
}

fn events(client: &ApiClient) -> Rc<RefCell<Vec<SessionEvent>>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&seen);
    client.on_session_event(move |event| sink.borrow_mut().push(event));
    seen
}

/// A call to a bearer endpoint of the fake.
async fn echo(client: &ApiClient, path: &str, body: Option<&Value>) -> Result<Value, ClientError> {
    call(client, path, Credentials::Bearer, body).await
}

async fn call(
    client: &ApiClient,
    path: &str,
    credentials: Credentials,
    body: Option<&Value>,
) -> Result<Value, ClientError> {
    let method = if body.is_some() {
        Method::Patch
    } else {
        Method::Get
    };
    Ok(client
        .send_json(method, path, credentials, body, None)
        .await?
        .value)
}

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

/// The user at the prompt: gives the passwords it was told to, in order
/// (`None` cancels), and remembers what it was shown.
#[derive(Clone, Default)]
struct FakeUser(Rc<FakeUserState>);

#[derive(Default)]
struct FakeUserState {
    answers: RefCell<std::collections::VecDeque<Option<Proof>>>,
    /// The refusal shown with each question.
    asked: RefCell<Vec<Option<ClientError>>>,
    finished: Cell<usize>,
    /// Typing takes so long that the access token expires meanwhile.
    slow_typist_of: RefCell<Option<Fake>>,
}

impl FakeUser {
    fn answering(answers: &[Option<&str>]) -> Self {
        let user = Self::default();
        *user.0.answers.borrow_mut() = answers
            .iter()
            .map(|answer| {
                answer.map(|password| {
                    ReauthenticateRequest {
                        password: password.to_owned(),
                        code: None,
                    }
                    .into()
                })
            })
            .collect();
        user
    }

    /// Answers with the password and then, asked again, with the code too.
    fn with_second_factor(password: &str, code: &str) -> Self {
        let user = Self::default();
        let first = ReauthenticateRequest {
            password: password.to_owned(),
            code: None,
        };
        let second = ReauthenticateRequest {
            code: Some(code.to_owned()),
            ..first.clone()
        };
        *user.0.answers.borrow_mut() = [Some(first.into()), Some(second.into())]
            .into_iter()
            .collect();
        user
    }

    fn asked(&self) -> Vec<Option<ClientError>> {
        self.0.asked.borrow().clone()
    }

    fn finished(&self) -> usize {
        self.0.finished.get()
    }
}

impl Reauthenticator for FakeUser {
    fn ask(&self, refused: Option<ClientError>) -> ReauthAnswer {
        self.0.asked.borrow_mut().push(refused);
        if let Some(fake) = self.0.slow_typist_of.borrow().as_ref() {
            fake.expire_tokens();
        }
        let answer = self.0.answers.borrow_mut().pop_front().flatten();
        async move {
            // The user takes a moment: other requests go on meanwhile.
            YieldOnce::default().await;
            YieldOnce::default().await;
            answer
        }
        .boxed_local()
    }

    fn finished(&self) {
        self.0.finished.set(self.0.finished.get() + 1);
    }
}

fn signed_in_with(fake: &Fake, user: &FakeUser) -> ApiClient {
    let client = fake.client();
    client.set_reauthenticator(user.clone());
    login(&client);
    client
}

async fn sensitive(
    client: &ApiClient,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, ClientError> {
    call(client, path, Credentials::RecentBearer, body).await
}

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

fn passkey_answer(challenge_id: &str) -> Option<Proof> {
    let assertion = PasskeyAssertion {
        challenge_id: challenge_id.to_owned(),
        ..PasskeyAssertion::default()
    };
    Some(Proof::Passkey(PasskeyProof::new(&assertion).unwrap()))
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
