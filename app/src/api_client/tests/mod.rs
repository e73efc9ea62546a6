//! The retry and single-flight rules, against a fake server on one thread:
//! the fake and its helpers here, the renewal of expired tokens in
//! `renewal`, what a refusal or an outage of the renewal or the sign-out
//! leaves in `outages`, the step-up re-authentication in `step_up` (with
//! the fake user at its prompt in `fake_user`).

mod fake_user;
mod outages;
mod renewal;
mod step_up;

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
    /// Refresh answers this problem (a 429, a 503) instead.
    refresh_problem: Cell<Option<ProblemCode>>,
    logout_offline: Cell<bool>,
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

impl FakeServer {
    /// A step-up that succeeded: a fresh token replaces `token`, which
    /// stays valid until it expires.
    fn reauthenticated(&self, token: String) -> HttpResponse {
        self.reauthentications.set(self.reauthentications.get() + 1);
        let fresh = format!("r{}", self.reauthentications.get());
        self.still_valid.borrow_mut().push(token);
        self.fresh_tokens.borrow_mut().push(fresh.clone());
        *self.current_token.borrow_mut() = fresh.clone();
        ok(&tokens(&fresh))
    }
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
                if let Some(code) = server.refresh_problem.get() {
                    problem(code)
                } else if server.refuse_refresh.get() {
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
            (Method::Post, Logout::PATH) if server.logout_offline.get() => {
                return Err("offline".into());
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
                        server.reauthenticated(token)
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
                            server.reauthenticated(token)
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
