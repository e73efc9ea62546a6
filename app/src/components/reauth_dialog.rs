//! "Confirm it's you": the modal dialog that asks for a passkey (first,
//! when the account has one and the browser can) or the password when a
//! sensitive action needs a recent sign-in. The API client opens it
//! (through [`ReauthPrompt`](crate::auth::ReauthPrompt)) and waits; Confirm
//! answers with the password, Cancel or Escape declines. A wrong password
//! keeps it open with the server's message on the field. When the account
//! has a second factor, the server refuses the password alone with a
//! message on `code`, and the dialog's second step asks for the code as
//! well.
//!
//! One dialog serves every page. It is not in the server's HTML nor in the
//! main wasm module, which every page loads: the first question fetches its
//! code ([`mount_reauth_dialog`]) and appends it to the page, where it stays.

use leptos::lazy;

use crate::auth::ReauthPrompt;

/// Puts the dialog in the page (once: see `auth::reauth`). The dialog
/// lives as long as the page.
#[lazy]
pub fn mount_reauth_dialog(prompt: ReauthPrompt) {
    #[cfg(target_arch = "wasm32")]
    if let Some(body) = leptos::prelude::document().body() {
        leptos::mount::mount_to_renderer(&body, move || dialog::reauth_dialog(prompt)).forget();
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = prompt;
}

/// The dialog itself: only the browser ever shows it.
#[cfg(target_arch = "wasm32")]
mod dialog {
    use leptos::{html, prelude::*};

    use leptos::task::spawn_local;

    use crate::{
        api::{passkeys::PasskeyAssertion, types::ReauthenticateRequest},
        api_client::PasskeyProof,
        auth::{
            webauthn::{self, Ask},
            AuthStatus, ReauthPrompt,
        },
    };

    /// The inputs the dialog focuses; set each time its form is shown.
    #[derive(Clone, Copy)]
    struct Inputs {
        password: NodeRef<html::Input>,
        code: NodeRef<html::Input>,
    }

    pub(super) fn reauth_dialog(prompt: ReauthPrompt) -> impl IntoView {
        let dialog = NodeRef::<html::Dialog>::new();
        let inputs = Inputs {
            password: NodeRef::new(),
            code: NodeRef::new(),
        };

        follow_the_prompt(prompt, dialog, inputs);

        // For password managers: whose password this is.
        let username = move || {
            prompt.auth.status.with_untracked(|status| match status {
                AuthStatus::SignedIn(user) => user.email.to_string(),
                _ => String::new(),
            })
        };

        view! {
            <dialog
                node_ref=dialog
                class="card"
                aria-labelledby="reauth-title"
                aria-describedby="reauth-explanation"
                on:keydown=move |event| {
                    if event.key() == "Escape" {
                        // The dialog closes when the client says the question
                        // is over, not on its own.
                        event.prevent_default();
                        prompt.cancel();
                    }
                }
                on:close=move |_| {
                    // Closed by the browser itself: that is a cancel too.
                    if prompt.open.get_untracked() && !dialog.get_untracked().is_some_and(|d| d.open()) {
                        prompt.cancel();
                    }
                }
            >
                // Asked again after a refusal, the prompt stays open: the form
                // (and what the user typed in it) stays too.
                <Show when=move || prompt.open.get()>
                    <ReauthForm prompt inputs username=username()/>
                </Show>
            </dialog>
        }
    }

    /// Shows the dialog as a modal while the prompt is open, with the focus on
    /// the field to fill (the password, its text selected after a refusal; or
    /// the code, at the second step); on closing, gives the focus back to what
    /// had it before.
    fn follow_the_prompt(prompt: ReauthPrompt, dialog: NodeRef<html::Dialog>, inputs: Inputs) {
        use wasm_bindgen::JsCast as _;

        let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
        Effect::new(move |_| {
            let open = prompt.open.get();
            let pending = prompt.pending.get();
            let asks_code = prompt.asks_code.get();
            // Runs again once the form is in the document.
            let password = inputs.password.get();
            let code = inputs.code.get();
            let Some(dialog) = dialog.get_untracked() else {
                return;
            };
            if !open {
                if dialog.open() {
                    dialog.close();
                }
                if let Some(element) = opener.try_update_value(Option::take).flatten() {
                    let _ = element.focus();
                }
                return;
            }
            if !dialog.open() {
                if opener.with_value(Option::is_none) {
                    let focused = document()
                        .active_element()
                        .and_then(|element| element.dyn_into().ok());
                    opener.set_value(focused);
                }
                let _ = dialog.show_modal();
            }
            if pending {
                return;
            }
            let to_fill = if asks_code && prompt.error.with(Option::is_none) {
                code
            } else {
                password
            };
            if let Some(input) = to_fill {
                let _ = input.focus();
                input.select();
            }
        });
    }

    /// "Use your passkey", shown when the account has one and the browser
    /// can use it: fresh options each time, then the browser's prompt.
    #[component]
    fn PasskeyChoice(prompt: ReauthPrompt) -> impl IntoView {
        let has_passkey = RwSignal::new(false);
        let asking = RwSignal::new(false);
        if webauthn::supported() {
            if let Some(client) = prompt.auth.client() {
                spawn_local(async move {
                    if let Ok(list) = client.my_passkeys().await {
                        has_passkey.set(!list.passkeys.is_empty());
                    }
                });
            }
        }
        let use_passkey = move |_| {
            let Some(client) = prompt.auth.client() else {
                return;
            };
            asking.set(true);
            prompt.passkey_error.set(None);
            spawn_local(async move {
                let answer = match client.reauthentication_passkey_options().await {
                    Ok(challenge) => webauthn::get(challenge.options, Ask::Now)
                        .await
                        .map_err(|error| error.message())
                        .and_then(|credential| {
                            PasskeyProof::new(&PasskeyAssertion {
                                challenge_id: challenge.challenge_id,
                                credential: credential.into(),
                                remember: false,
                            })
                            .map_err(|error| error.message())
                        }),
                    Err(error) => Err(error.message()),
                };
                asking.set(false);
                match answer {
                    Ok(assertion) => prompt.confirm_with_passkey(assertion),
                    Err(message) => prompt.passkey_error.set(Some(message)),
                }
            });
        };
        let busy = move || asking.get() || prompt.pending.get();
        view! {
            <Show when=move || has_passkey.get()>
                <div class="stack passkey-choice">
                    <button type="button" class="button" disabled=busy aria-busy=move || busy().to_string() on:click=use_passkey>
                        {move || if busy() { "Waiting for your passkey…" } else { "Use your passkey" }}
                    </button>
                    {move || prompt.passkey_error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                    <p>"Or enter your password:"</p>
                </div>
            </Show>
        }
    }

    #[component]
    fn ReauthForm(prompt: ReauthPrompt, inputs: Inputs, username: String) -> impl IntoView {
        let on_submit = move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let (Some(password), false) = (
                inputs.password.get_untracked(),
                prompt.pending.get_untracked(),
            ) else {
                return;
            };
            let code = prompt
                .asks_code
                .get_untracked()
                .then(|| inputs.code.get_untracked().map(|input| input.value()))
                .flatten();
            if password.value().is_empty() {
                prompt.error.set(Some("Enter your password.".into()));
                let _ = password.focus();
                return;
            }
            prompt.confirm(ReauthenticateRequest {
                password: password.value(),
                code,
            });
        };
        let field = |id: &'static str,
                     label: &'static str,
                     input_type: &'static str,
                     autocomplete: &'static str,
                     node_ref: NodeRef<html::Input>,
                     error: RwSignal<Option<String>>| {
            let error_id = format!("{id}-error");
            let described_by = error_id.clone();
            let invalid = move || error.with(Option::is_some);
            view! {
                <div class="field">
                    <label for=id>{label}</label>
                    <input
                        node_ref=node_ref
                        id=id
                        name=id
                        type=input_type
                        autocomplete=autocomplete
                        aria-invalid=move || invalid().to_string()
                        aria-describedby=move || invalid().then(|| described_by.clone())
                    />
                    {move || error.get().map(|message| view! { <p class="error" id=error_id.clone()>{message}</p> })}
                </div>
            }
        };
        view! {
            <form class="form" method="post" novalidate=true on:submit=on_submit>
                <h2 id="reauth-title">"Confirm it's you"</h2>
                <p id="reauth-explanation">"For your security, confirm who you are to continue."</p>
                <PasskeyChoice prompt/>
                <input type="email" name="username" autocomplete="username" value=username readonly=true hidden=true/>
                {field("reauth-password", "Password", "password", "current-password", inputs.password, prompt.error)}
                {move || {
                    prompt.asks_code.get().then(|| {
                        field("reauth-code", "Authentication code", "text", "one-time-code", inputs.code, prompt.code_error)
                    })
                }}
                <div class="actions">
                    <button type="submit" class="button" disabled=move || prompt.pending.get() aria-busy=move || prompt.pending.get().to_string()>
                        {move || if prompt.pending.get() { "Confirming…" } else { "Confirm" }}
                    </button>
                    <button type="button" class="button secondary" disabled=move || prompt.pending.get() on:click=move |_| prompt.cancel()>
                        "Cancel"
                    </button>
                </div>
            </form>
        }
    }
}
