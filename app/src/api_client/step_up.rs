//! Step-up authentication (RFC 9470). A sensitive endpoint answers 401
//! `insufficient_user_authentication` when the user last proved who they
//! are too long ago. The client then asks the user, through the
//! [`Reauthenticator`] the UI gave it, to prove it again; calls
//! `/api/auth/reauthenticate` with the answer; adopts the new access token;
//! and replays the refused call once. Calls refused together share one
//! prompt and one reauthentication, as they share one refresh.

use std::rc::Rc;

use futures::{future::LocalBoxFuture, FutureExt as _};

use super::{answer::decode, ApiClient, ClientError, Inner};
use crate::api::{
    endpoints::{self, Endpoint},
    passkeys::PasskeyAssertion,
    types::{ReauthenticateRequest, TokenResponse},
    ProblemCode,
};

/// How the user proves again who they are.
#[derive(Debug, Clone)]
pub enum Proof {
    /// The password (and, with a second factor on, its code).
    Password(ReauthenticateRequest),
    /// A passkey's answer to `POST /api/auth/reauthenticate/passkey-options`.
    Passkey(PasskeyProof),
}

/// A passkey's answer, as the body of `POST /api/auth/reauthenticate/passkey`.
/// It is written where it is made (the dialog, in a chunk of its own), so
/// that the main wasm module, which every page loads, carries no WebAuthn
/// serialization.
#[derive(Debug, Clone)]
pub struct PasskeyProof(String);

impl PasskeyProof {
    pub fn new(assertion: &PasskeyAssertion) -> Result<Self, ClientError> {
        serde_json::to_string(assertion)
            .map(Self)
            .map_err(|error| ClientError::Decode(error.to_string()))
    }
}

impl From<ReauthenticateRequest> for Proof {
    fn from(request: ReauthenticateRequest) -> Self {
        Self::Password(request)
    }
}

/// What the user answers when asked to confirm who they are; `None` when
/// they cancel.
pub type ReauthAnswer = LocalBoxFuture<'static, Option<Proof>>;

/// Asks the user to prove again who they are (the UI's dialog; a fake in
/// tests).
pub trait Reauthenticator {
    /// Asks for the credentials. `refused` is `None` the first time; after
    /// a refusal the server's verdict (a `validation_failed` problem whose
    /// field errors name the field) is given to show, and the user may try
    /// again or cancel. A wrong password names `password`; with a second
    /// factor on, the password alone is refused with an error on `code`,
    /// and the prompt asks for the code as well (a second step).
    fn ask(&self, refused: Option<ClientError>) -> ReauthAnswer;

    /// The step-up is over: the user proved who they are, cancelled, or it
    /// failed otherwise (offline, too many attempts). The prompt closes.
    fn finished(&self) {}
}

impl ApiClient {
    /// Sets who asks the user to confirm who they are when a sensitive call
    /// needs it. Without one, such calls fail with the server's problem.
    pub fn set_reauthenticator(&self, reauthenticator: impl Reauthenticator + 'static) {
        *self.inner.reauthenticator.borrow_mut() = Some(Rc::new(reauthenticator));
    }

    /// Proves again who the signed-in user is; the new access token (for the
    /// same session, with a fresh `auth_time`) is adopted as after a login.
    /// The token is renewed first if it has expired; a step-up is never
    /// asked for here.
    pub async fn reauthenticate(
        &self,
        request: &ReauthenticateRequest,
    ) -> Result<TokenResponse, ClientError> {
        self.reauthenticate_by::<endpoints::Reauthenticate>(request)
            .await
    }

    /// [`ApiClient::reauthenticate`] with a passkey's answer.
    pub async fn reauthenticate_with_passkey(
        &self,
        proof: &PasskeyProof,
    ) -> Result<TokenResponse, ClientError> {
        self.reauthenticate_with::<endpoints::ReauthenticateWithPasskey>(proof.0.clone())
            .await
    }

    async fn reauthenticate_by<E: Endpoint<Response = TokenResponse>>(
        &self,
        request: &E::Request,
    ) -> Result<TokenResponse, ClientError> {
        let body = serde_json::to_string(request)
            .map_err(|error| ClientError::Decode(error.to_string()))?;
        self.reauthenticate_with::<E>(body).await
    }

    async fn reauthenticate_with<E: Endpoint<Response = TokenResponse>>(
        &self,
        body: String,
    ) -> Result<TokenResponse, ClientError> {
        let response = self
            .exchange(
                E::METHOD,
                E::PATH,
                E::CREDENTIALS.is_bearer(),
                Some(body),
                None,
            )
            .await?;
        let tokens = decode::<TokenResponse>(response)?.value;
        self.inner.adopt(&tokens);
        self.inner
            .reauthentications
            .set(self.inner.reauthentications.get() + 1);
        Ok(tokens)
    }

    /// Asks the user and reauthenticates, once for every call that waits
    /// on it together.
    pub(super) async fn step_up(
        &self,
        reauthenticator: Rc<dyn Reauthenticator>,
    ) -> Result<TokenResponse, ClientError> {
        let in_flight = {
            let mut slot = self.inner.step_up_in_flight.borrow_mut();
            match slot.as_ref() {
                Some(shared) => shared.clone(),
                None => {
                    let client = self.clone();
                    let shared = async move {
                        let outcome = client.prove_identity(reauthenticator.as_ref()).await;
                        client.inner.step_up_in_flight.borrow_mut().take();
                        if matches!(outcome, Err(ClientError::ReauthenticationCancelled)) {
                            let cancelled = &client.inner.step_ups_cancelled;
                            cancelled.set(cancelled.get() + 1);
                        }
                        reauthenticator.finished();
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

    async fn prove_identity(
        &self,
        reauthenticator: &dyn Reauthenticator,
    ) -> Result<TokenResponse, ClientError> {
        let mut refused = None;
        loop {
            let Some(proof) = reauthenticator.ask(refused.take()).await else {
                return Err(ClientError::ReauthenticationCancelled);
            };
            let answer = match &proof {
                Proof::Password(request) => self.reauthenticate(request).await,
                Proof::Passkey(proof) => self.reauthenticate_with_passkey(proof).await,
            };
            match answer {
                Ok(tokens) => return Ok(tokens),
                // A wrong password, or a passkey not accepted: the user may
                // try again.
                Err(error)
                    if error.code().is_some_and(|code| {
                        code == ProblemCode::ValidationFailed || code.is_passkey_refusal()
                    }) =>
                {
                    refused = Some(error);
                }
                Err(error) => return Err(error),
            }
        }
    }
}

impl Inner {
    /// Whether a call that left when `before` reauthentications had
    /// happened was overtaken by one: then it is replayed without asking.
    pub(super) fn reauthenticated_since(&self, before: u64) -> bool {
        self.reauthentications.get() != before
    }

    /// Whether the user cancelled a step-up since a call left when
    /// `before` had been cancelled.
    pub(super) fn step_up_cancelled_since(&self, before: u64) -> bool {
        self.step_ups_cancelled.get() != before
    }
}
