//! The question "confirm it's you", between the API client and the dialog
//! that asks it (`components::reauth_dialog`). In the browser,
//! [`ReauthPrompt`] is the client's
//! [`Reauthenticator`](crate::api_client::Reauthenticator): it opens the
//! prompt and waits for the answer that the dialog's buttons give. The
//! dialog's code is not in the main wasm module: the first question fetches
//! it and puts the dialog in the page, once.

use leptos::prelude::*;

use super::Auth;
use crate::{
    api::types::ReauthenticateRequest,
    api_client::{PasskeyProof, Proof},
};

/// The state of the one prompt of the app, made with the session in the
/// browser. Cheap to copy.
#[derive(Clone, Copy)]
pub struct ReauthPrompt {
    /// The client is waiting for the user (the dialog is shown).
    pub open: RwSignal<bool>,
    /// The user confirmed and the server is checking the password.
    pub pending: RwSignal<bool>,
    /// Why the last answer was refused, shown on the password field.
    pub error: RwSignal<Option<String>>,
    /// The account has a second factor: the second step asks for a code
    /// from the authenticator app (or a recovery code) too.
    pub asks_code: RwSignal<bool>,
    /// Why the code was refused (or that it is needed).
    pub code_error: RwSignal<Option<String>>,
    /// Why the passkey was not accepted.
    pub passkey_error: RwSignal<Option<String>>,
    /// Who is signed in (whose password is asked for), and the client that
    /// asks for a passkey's options.
    pub auth: Auth,
}

/// Where the answer to the question asked goes: only in the browser, where
/// the client lives (on the page's one thread).
#[cfg(target_arch = "wasm32")]
type Reply = futures::channel::oneshot::Sender<Option<Proof>>;

#[cfg(target_arch = "wasm32")]
thread_local! {
    static REPLY: std::cell::RefCell<Option<Reply>> = const { std::cell::RefCell::new(None) };
    static DIALOG_MOUNTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl ReauthPrompt {
    #[cfg(target_arch = "wasm32")]
    pub(super) fn new(auth: Auth) -> Self {
        Self {
            open: RwSignal::new(false),
            pending: RwSignal::new(false),
            error: RwSignal::new(None),
            asks_code: RwSignal::new(false),
            code_error: RwSignal::new(None),
            passkey_error: RwSignal::new(None),
            auth,
        }
    }

    /// The user confirmed with these credentials.
    pub fn confirm(&self, request: ReauthenticateRequest) {
        self.answer(request.into());
    }

    /// The user confirmed with a passkey.
    pub fn confirm_with_passkey(&self, proof: PasskeyProof) {
        self.answer(Proof::Passkey(proof));
    }

    fn answer(&self, proof: Proof) {
        if self.send(Some(proof)) {
            self.error.set(None);
            self.code_error.set(None);
            self.passkey_error.set(None);
            self.pending.set(true);
        }
    }

    /// The user declined: the action that needed the proof fails, and
    /// nothing else changes.
    pub fn cancel(&self) {
        self.send(None);
    }

    /// Whether someone was waiting for the answer.
    #[cfg_attr(not(target_arch = "wasm32"), allow(unused_variables))]
    fn send(&self, answer: Option<Proof>) -> bool {
        #[cfg(target_arch = "wasm32")]
        if let Some(reply) = REPLY.with(|reply| reply.borrow_mut().take()) {
            return reply.send(answer).is_ok();
        }
        false
    }
}

#[cfg(target_arch = "wasm32")]
impl crate::api_client::Reauthenticator for ReauthPrompt {
    fn ask(
        &self,
        refused: Option<crate::api_client::ClientError>,
    ) -> crate::api_client::ReauthAnswer {
        use futures::FutureExt as _;

        let prompt = *self;
        let (reply, answer) = futures::channel::oneshot::channel();
        REPLY.with(|slot| *slot.borrow_mut() = Some(reply));
        // The server names the field it refused: the password, or the
        // second factor's code (needed, or wrong).
        let code_error = refused
            .as_ref()
            .and_then(|error| error.field_message("code"));
        if code_error.is_some() {
            prompt.asks_code.set(true);
        }
        // A passkey's refusal is shown by the passkey's button.
        let (passkey_refusal, refused): (Option<_>, Option<_>) = match refused {
            Some(error)
                if error
                    .code()
                    .is_some_and(crate::api::ProblemCode::is_passkey_refusal) =>
            {
                (Some(error.message()), None)
            }
            refused => (None, refused),
        };
        prompt.passkey_error.set(passkey_refusal);
        prompt
            .error
            .set(refused.filter(|_| code_error.is_none()).map(|error| {
                error
                    .field_message("password")
                    .unwrap_or_else(|| error.message())
            }));
        prompt.code_error.set(code_error);
        prompt.pending.set(false);
        prompt.open.set(true);

        async move {
            if !DIALOG_MOUNTED.replace(true) {
                crate::components::reauth_dialog::mount_reauth_dialog(prompt).await;
            }
            // A dropped sender (the page went away) is a cancel.
            answer.await.unwrap_or_default()
        }
        .boxed_local()
    }

    fn finished(&self) {
        let prompt = self;
        REPLY.with(|slot| slot.borrow_mut().take());
        prompt.open.set(false);
        prompt.pending.set(false);
        prompt.error.set(None);
        prompt.asks_code.set(false);
        prompt.code_error.set(None);
        prompt.passkey_error.set(None);
    }
}
