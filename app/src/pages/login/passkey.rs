//! Passkeys on the sign-in page: "Sign in with a passkey" (the browser's
//! own prompt), the same passkeys offered among the email field's autofill
//! suggestions while the page waits (conditional mediation), and a passkey
//! as the second step of a password sign-in. None of it shows before the
//! page is hydrated, nor in a browser without WebAuthn.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{
        passkeys::{PasskeyAssertion, SecondFactorPasskeyRequest},
        ProblemCode,
    },
    api_client::ClientError,
    auth::{
        use_auth,
        webauthn::{self, Ask, WebAuthnError},
        Auth,
    },
    components::form::{use_hydrated, Tone},
};

/// Why a passkey sign-in did not happen, by the step that stopped it.
enum Refusal {
    /// No options: the server offers no passkeys, or is not answering.
    Options(ClientError),
    /// The browser gave no credential (closed, timed out, cancelled).
    Browser(WebAuthnError),
    /// The server refused the answer.
    Answer(ClientError),
}

impl Refusal {
    fn message(&self) -> String {
        match self {
            Self::Options(error) | Self::Answer(error) => error.message(),
            Self::Browser(error) => error.message(),
        }
    }
}

/// Fresh options, the browser's passkey for them, and the sign-in.
async fn sign_in(auth: Auth, ask: Ask, remember: bool) -> Result<(), Refusal> {
    let client = auth.client().ok_or_else(|| {
        Refusal::Options(ClientError::Network("The page is still loading.".into()))
    })?;
    let challenge = client
        .passkey_login_options()
        .await
        .map_err(Refusal::Options)?;
    let credential = webauthn::get(challenge.options, ask)
        .await
        .map_err(Refusal::Browser)?;
    let assertion = PasskeyAssertion {
        challenge_id: challenge.challenge_id,
        credential: credential.into(),
        remember,
    };
    auth.login_with_passkey(&assertion, false)
        .await
        .map(|_| ())
        .map_err(Refusal::Answer)
}

/// "Sign in with a passkey", and the passkeys among the email field's
/// suggestions. A signed-in state makes the page navigate on.
#[component]
pub(super) fn PasskeySignIn(
    remember: RwSignal<bool>,
    failure: RwSignal<Option<ClientError>>,
    message: RwSignal<Option<(Tone, String)>>,
) -> impl IntoView {
    let auth = use_auth();
    let hydrated = use_hydrated();
    let offered = RwSignal::new(true);
    let pending = RwSignal::new(false);

    let show = move |refusal: &Refusal| {
        failure.set(None);
        message.set(Some((Tone::Error, refusal.message())));
    };
    // Waits for a passkey chosen among the suggestions: one answer, then
    // the button is the way to try again.
    let wait_for_autofill = move || {
        spawn_local(async move {
            if !webauthn::autofill_supported().await {
                return;
            }
            match sign_in(auth, Ask::Autofill, remember.get_untracked()).await {
                // Signed in (the page navigates); or the wait was ended, or
                // the browser could not wait: nothing the user asked for.
                Ok(()) | Err(Refusal::Browser(_)) => {}
                Err(Refusal::Options(error)) => {
                    if error.code() == Some(ProblemCode::ServiceUnavailable) {
                        offered.set(false);
                    }
                }
                // Said once; the button tries again.
                Err(refusal @ Refusal::Answer(_)) => show(&refusal),
            }
        });
    };
    Effect::new(move |_| {
        if hydrated.get() && webauthn::supported() {
            wait_for_autofill();
        }
    });
    on_cleanup(webauthn::cancel_autofill);

    let on_click = move |_| {
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        failure.set(None);
        message.set(None);
        spawn_local(async move {
            let outcome = sign_in(auth, Ask::Now, remember.get_untracked()).await;
            pending.set(false);
            if let Err(refusal) = outcome {
                if matches!(&refusal, Refusal::Options(error) if error.code() == Some(ProblemCode::ServiceUnavailable))
                {
                    offered.set(false);
                }
                show(&refusal);
            }
        });
    };

    view! {
        <Show when=move || hydrated.get() && offered.get() && webauthn::supported()>
            <div class="passkey-sign-in stack">
                <p class="divider" aria-hidden="true">"or"</p>
                <button
                    type="button"
                    class="button secondary"
                    disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()
                    on:click=on_click
                >
                    {move || if pending.get() { "Waiting for your passkey…" } else { "Sign in with a passkey" }}
                </button>
            </div>
        </Show>
    }
}

/// "Use a passkey instead": the second step of a password sign-in, with one
/// of the account's passkeys.
#[component]
pub(super) fn PasskeySecondFactor(
    challenge: String,
    message: RwSignal<Option<(Tone, String)>>,
    /// The sign-in's challenge is over: back to the password.
    challenge_over: Callback<()>,
) -> impl IntoView {
    let auth = use_auth();
    let hydrated = use_hydrated();
    let pending = RwSignal::new(false);
    let challenge = StoredValue::new(challenge);

    let on_click = move |_| {
        let Some(client) = auth.client() else { return };
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        message.set(None);
        let token = challenge.get_value();
        spawn_local(async move {
            let outcome = async {
                let options = client
                    .second_factor_passkey_options(&SecondFactorPasskeyRequest {
                        challenge: token.clone(),
                    })
                    .await
                    .map_err(Refusal::Options)?;
                let credential = webauthn::get(options.options, Ask::Now)
                    .await
                    .map_err(Refusal::Browser)?;
                let assertion = PasskeyAssertion {
                    challenge_id: token,
                    credential: credential.into(),
                    remember: false,
                };
                auth.login_with_passkey(&assertion, true)
                    .await
                    .map_err(Refusal::Answer)
            }
            .await;
            pending.set(false);
            match outcome {
                // The page navigates once the state says signed in.
                Ok(_) => {}
                // The sign-in's challenge is over (expired, or out of tries).
                Err(Refusal::Options(error) | Refusal::Answer(error))
                    if error.code() == Some(ProblemCode::InvalidChallenge) =>
                {
                    challenge_over.run(());
                }
                Err(refusal) => message.set(Some((Tone::Error, refusal.message()))),
            }
        });
    };

    view! {
        <Show when=move || hydrated.get() && webauthn::supported()>
            <p>
                <button
                    type="button"
                    class="button secondary"
                    disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()
                    on:click=on_click
                >
                    {move || if pending.get() { "Waiting for your passkey…" } else { "Use a passkey instead" }}
                </button>
            </p>
        </Show>
    }
}
