//! The one API client of the SPA. It keeps the access token in memory only,
//! attaches it as `Authorization: Bearer`, and when the API answers 401
//! because the token expired or was refused, renews it through
//! `/api/auth/refresh` once for every request that failed together (single
//! flight), then replays each of them once. When a sensitive endpoint
//! answers that the user must prove again who they are, it asks them
//! through the UI's [`Reauthenticator`] (once for every request refused
//! together), reauthenticates and replays each of them once (`step_up`).

mod account;
mod answer;
mod error;
mod lifecycle;
mod passkeys;
mod second_factor;
mod sign_in;
mod step_up;
mod transport;

#[cfg(target_arch = "wasm32")]
mod browser;

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use futures::{
    future::{LocalBoxFuture, Shared},
    FutureExt as _,
};
use serde::de::DeserializeOwned;

use crate::api::{
    endpoints::{self, Credentials, Endpoint, PathParams},
    types::{TokenResponse, User},
};

pub use crate::api::endpoints::Method;
pub use answer::Versioned;
use answer::{decode, wants_renewal, wants_step_up};
#[cfg(target_arch = "wasm32")]
pub use browser::FetchTransport;
pub use error::ClientError;
pub use step_up::{PasskeyProof, Proof, ReauthAnswer, Reauthenticator};
pub use transport::{HttpRequest, HttpResponse, Transport};

/// What the client tells the UI about the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// A new access token: after login, a refresh, or a restored session.
    Renewed(TokenResponse),
    /// The session is over.
    Ended(EndReason),
    /// The server answered with the signed-in user as they now are (after a
    /// rename, say): everything that shows the user follows.
    UserChanged(User),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The user signed out (here or everywhere).
    SignedOut,
    /// The server no longer accepts the session (expired or revoked).
    Expired,
}

type RefreshFuture = Shared<LocalBoxFuture<'static, Result<TokenResponse, ClientError>>>;
type Listener = Rc<dyn Fn(SessionEvent)>;

/// Cheap to clone: clones share the token and the refresh in flight.
#[derive(Clone)]
pub struct ApiClient {
    inner: Rc<Inner>,
}

struct Inner {
    transport: Box<dyn Transport>,
    access_token: RefCell<Option<String>>,
    /// Bumped whenever the token changes, so a request can tell whether
    /// the token it was sent with has been replaced since.
    generation: Cell<u64>,
    refresh_in_flight: RefCell<Option<RefreshFuture>>,
    listener: RefCell<Option<Listener>>,
    reauthenticator: RefCell<Option<Rc<dyn Reauthenticator>>>,
    /// The step-up in flight: like a refresh, it ends with a new token.
    step_up_in_flight: RefCell<Option<RefreshFuture>>,
    /// Bumped on every successful reauthentication, so a request can tell
    /// whether the user proved who they are since it left.
    reauthentications: Cell<u64>,
    /// Bumped whenever the user cancels a step-up, so a request refused
    /// for want of one that left before the cancel fails without asking
    /// again: the user has just answered.
    step_ups_cancelled: Cell<u64>,
}

impl ApiClient {
    pub fn new(transport: impl Transport + 'static) -> Self {
        Self {
            inner: Rc::new(Inner {
                transport: Box::new(transport),
                access_token: RefCell::new(None),
                generation: Cell::new(0),
                refresh_in_flight: RefCell::new(None),
                listener: RefCell::new(None),
                reauthenticator: RefCell::new(None),
                step_up_in_flight: RefCell::new(None),
                reauthentications: Cell::new(0),
                step_ups_cancelled: Cell::new(0),
            }),
        }
    }

    /// Called on every change of session; the UI keeps its state with it.
    pub fn on_session_event(&self, listener: impl Fn(SessionEvent) + 'static) {
        *self.inner.listener.borrow_mut() = Some(Rc::new(listener));
    }

    pub fn has_token(&self) -> bool {
        self.inner.access_token.borrow().is_some()
    }

    /// Calls one endpoint of the API as its description says: the path
    /// filled from `params`, the body sent as JSON (none for `()`), the
    /// access token attached only to bearer endpoints.
    pub async fn call<E: Endpoint>(
        &self,
        params: E::Params,
        request: &E::Request,
    ) -> Result<E::Response, ClientError> {
        Ok(self.call_versioned::<E>(params, request, None).await?.value)
    }

    /// [`ApiClient::call`] for versioned resources: sends `If-Match` when
    /// given (a replace of the version read), and returns the `ETag` of
    /// the answer with it.
    pub async fn call_versioned<E: Endpoint>(
        &self,
        params: E::Params,
        request: &E::Request,
        if_match: Option<&str>,
    ) -> Result<Versioned<E::Response>, ClientError> {
        let path = params.fill(E::PATH);
        let body = serde_json::to_value(request)
            .map_err(|error| ClientError::Decode(error.to_string()))?;
        let body = (!body.is_null()).then_some(body);
        self.send_json(E::METHOD, &path, E::CREDENTIALS, body.as_ref(), if_match)
            .await
    }

    /// Renews the access token from the refresh cookie. Concurrent callers
    /// (a proactive renewal, a session restore, requests that got 401) share
    /// one request to the server.
    pub async fn refresh(&self) -> Result<TokenResponse, ClientError> {
        let in_flight = {
            let mut slot = self.inner.refresh_in_flight.borrow_mut();
            match slot.as_ref() {
                Some(shared) => shared.clone(),
                None => {
                    let inner = Rc::clone(&self.inner);
                    let shared = async move {
                        let outcome = Inner::refresh_once(&inner).await;
                        inner.refresh_in_flight.borrow_mut().take();
                        outcome
                    }
                    .boxed_local()
                    .shared();
                    *slot = Some(shared.clone());
                    shared
                }
            }
        };
        in_flight.await
    }

    /// Ends this session on the server, then forgets the token. When the
    /// server did not end it (offline, a fault, too many requests), the
    /// token stays and the error says why: forgetting it would show a
    /// signed-out page over a session that a reload brings back, which on
    /// a shared computer is the next person's.
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.call::<endpoints::Logout>((), &()).await?;
        self.inner.forget(EndReason::SignedOut);
        Ok(())
    }

    /// Ends every session of the user.
    pub async fn logout_all(&self) -> Result<(), ClientError> {
        self.call::<endpoints::LogoutAll>((), &()).await?;
        self.inner.forget(EndReason::SignedOut);
        Ok(())
    }

    /// Forgets the token without telling the server: another tab signed out
    /// and the session is already gone.
    pub fn forget_session(&self) {
        self.inner.forget(EndReason::SignedOut);
    }

    /// JSON in and out; on a bearer endpoint the token attached, one
    /// renewal-and-replay when the answer says the token is what failed,
    /// and one step-up-and-replay when it says the user must prove again
    /// who they are. Only the decoding depends on the response type.
    async fn send_json<Res: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        credentials: Credentials,
        body: Option<&serde_json::Value>,
        if_match: Option<&str>,
    ) -> Result<Versioned<Res>, ClientError> {
        let body = body.map(serde_json::Value::to_string);
        let response = self
            .send(method, path, credentials.is_bearer(), body, if_match)
            .await?;
        decode(response)
    }

    /// [`ApiClient::send_json`] up to the answer, for every type at once.
    async fn send(
        &self,
        method: Method,
        path: &str,
        bearer: bool,
        body: Option<String>,
        if_match: Option<&str>,
    ) -> Result<HttpResponse, ClientError> {
        let proofs_before = self.inner.reauthentications.get();
        let cancels_before = self.inner.step_ups_cancelled.get();
        let response = self
            .exchange(method, path, bearer, body.clone(), if_match)
            .await?;

        if !(bearer && wants_step_up(&response)) {
            return Ok(response);
        }
        let reauthenticator = self.inner.reauthenticator.borrow().clone();
        let Some(reauthenticator) = reauthenticator else {
            return Ok(response);
        };
        // If the user proved who they are since this request left, the
        // token that says so is already here; if they declined since, that
        // is the answer; otherwise ask (or join the question already asked).
        if !self.inner.reauthenticated_since(proofs_before) {
            if self.inner.step_up_cancelled_since(cancels_before) {
                return Err(ClientError::ReauthenticationCancelled);
            }
            self.step_up(reauthenticator).await?;
        }
        // One replay only: a second refusal is the answer.
        self.inner
            .dispatch(method, path, bearer, body, if_match)
            .await
    }

    /// Sends one request; on a bearer endpoint whose answer says the token
    /// failed, renews it (or joins the renewal) and replays the request
    /// once. Returns the last answer as it came.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        bearer: bool,
        body: Option<String>,
        if_match: Option<&str>,
    ) -> Result<HttpResponse, ClientError> {
        let sent_with = self.inner.generation.get();
        let response = self
            .inner
            .dispatch(method, path, bearer, body.clone(), if_match)
            .await?;

        if !(bearer && wants_renewal(&response)) {
            return Ok(response);
        }
        // If another request renewed the token since this one left, the
        // new token is already here; otherwise renew (or join the renewal).
        // A renewal that failed with the session still on (offline, a
        // fault, too many requests) says so; one that ended it says that.
        if self.inner.generation.get() == sent_with {
            if let Err(error) = self.refresh().await {
                return Err(if self.has_token() {
                    error
                } else {
                    ClientError::SessionExpired
                });
            }
        }
        if !self.has_token() {
            return Err(ClientError::SessionExpired);
        }
        // One replay only: a second refusal is the answer.
        self.inner
            .dispatch(method, path, bearer, body, if_match)
            .await
    }
}

impl Inner {
    async fn dispatch(
        &self,
        method: Method,
        path: &str,
        bearer: bool,
        body: Option<String>,
        if_match: Option<&str>,
    ) -> Result<HttpResponse, ClientError> {
        let mut headers = vec![("Accept".to_owned(), "application/json".to_owned())];
        if body.is_some() {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
        }
        if let Some(tag) = if_match {
            headers.push(("If-Match".to_owned(), tag.to_owned()));
        }
        if bearer {
            if let Some(token) = self.access_token.borrow().as_ref() {
                headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
            }
        }
        self.transport
            .send(HttpRequest {
                method,
                path: path.to_owned(),
                headers,
                body,
            })
            .await
            .map_err(ClientError::Network)
    }

    async fn refresh_once(inner: &Rc<Self>) -> Result<TokenResponse, ClientError> {
        let started = inner.generation.get();
        let response = inner
            .dispatch(
                endpoints::Refresh::METHOD,
                endpoints::Refresh::PATH,
                false,
                None,
                None,
            )
            .await?;
        match decode::<TokenResponse>(response).map(|answer| answer.value) {
            // Signed out, or in anew, while this was on its way: the answer
            // is for a session this tab no longer has. It is not adopted:
            // it must neither bring a signed-out session back nor replace a
            // new one (whose token the callers then use).
            Ok(tokens) if inner.generation.get() != started => {
                if inner.access_token.borrow().is_some() {
                    Ok(tokens)
                } else {
                    Err(ClientError::SessionExpired)
                }
            }
            Ok(tokens) => {
                inner.adopt(&tokens);
                Ok(tokens)
            }
            // Too many requests: the session is fine, only not now.
            Err(ClientError::Problem(problem)) if problem.status == 429 => {
                Err(ClientError::Problem(problem))
            }
            // The server refused the session: it is over.
            Err(ClientError::Problem(problem)) if (400..500).contains(&problem.status) => {
                inner.forget(EndReason::Expired);
                Err(ClientError::Problem(problem))
            }
            // Offline or a server fault: the session may well be fine.
            Err(error) => Err(error),
        }
    }

    fn adopt(&self, tokens: &TokenResponse) {
        *self.access_token.borrow_mut() = Some(tokens.access_token.clone());
        self.generation.set(self.generation.get() + 1);
        self.notify(SessionEvent::Renewed(tokens.clone()));
    }

    fn forget(&self, reason: EndReason) {
        let had_token = self.access_token.borrow_mut().take().is_some();
        self.generation.set(self.generation.get() + 1);
        if had_token || reason == EndReason::Expired {
            self.notify(SessionEvent::Ended(reason));
        }
    }

    fn notify(&self, event: SessionEvent) {
        // Cloned out first: the listener may call back into the client.
        let listener = self.listener.borrow().clone();
        if let Some(listener) = listener {
            listener(event);
        }
    }
}

#[cfg(test)]
mod tests;
