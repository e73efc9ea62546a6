//! Setting up an authenticator app: the new secret as the server's QR code
//! and as a key to type, and the form that turns the app on with the first
//! code it shows.

use leptos::{html, prelude::*, task::spawn_local};

use crate::{
    api::types::{ConfirmTotpRequest, TotpEnrollment},
    api_client::ClientError,
    auth::use_auth,
    components::form::{CodeField, Field, SubmitButton},
    validation::check_app_code,
};

/// The new secret as a QR code and as a key to type, and the form that
/// turns the app on with the first code it shows.
#[component]
pub(super) fn SetUpApp(
    enrollment: TotpEnrollment,
    enabled: Callback<Vec<String>>,
    failed: Callback<ClientError>,
    cancel: Callback<()>,
) -> impl IntoView {
    let auth = use_auth();
    let code = Field::new();
    let submitted = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let heading = NodeRef::<html::H3>::new();
    let input = NodeRef::<html::Input>::new();
    let code_error = code.error(submitted, check_app_code);

    // The steps are new to the page: screen reader and keyboard users
    // start at their top.
    Effect::new(move |_| {
        if let Some(heading) = heading.get() {
            let _ = heading.focus();
        }
    });

    // The server's own drawing; the XML declaration before it has no
    // place inside an HTML element.
    let qr = enrollment
        .qr_svg
        .find("<svg")
        .map(|start| enrollment.qr_svg[start..].to_owned())
        .unwrap_or_default();
    // In groups of four, as people copy it more easily; apps ignore the spaces.
    let key = enrollment
        .secret
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ");

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if pending.get_untracked() {
            return;
        }
        submitted.set(true);
        if code_error.get_untracked().is_some() {
            if let Some(input) = input.get_untracked() {
                let _ = input.focus();
            }
            return;
        }
        let Some(client) = auth.client() else { return };
        let request = ConfirmTotpRequest {
            code: code.value.get_untracked().trim().to_owned(),
        };
        pending.set(true);
        spawn_local(async move {
            let outcome = client.confirm_totp(&request).await;
            pending.set(false);
            match outcome {
                Ok(answer) => enabled.run(answer.codes),
                Err(error) => match error.field_message("code") {
                    Some(message) => {
                        code.server_error.set(Some(message));
                        if let Some(input) = input.get_untracked() {
                            let _ = input.focus();
                            input.select();
                        }
                    }
                    None => failed.run(error),
                },
            }
        });
    };

    view! {
        <div class="stack">
            <h3 tabindex="-1" node_ref=heading>"Set up your authenticator app"</h3>
            <p>"In your authenticator app, add an account and scan this QR code."</p>
            <div class="qr-code" role="img" aria-label="QR code for your authenticator app" inner_html=qr></div>
            <div class="field">
                <label for="totp-secret">"Setup key"</label>
                <p class="hint" id="totp-secret-hint">"Can't scan the code? Type this key into the app instead."</p>
                <input
                    id="totp-secret"
                    class="secret-key"
                    type="text"
                    readonly=true
                    value=key
                    autocomplete="off"
                    spellcheck="false"
                    aria-describedby="totp-secret-hint"
                />
            </div>
            <form class="form" method="post" novalidate=true on:submit=on_submit aria-label="Turn on the authenticator app">
                <CodeField
                    id="totp-code"
                    label="Code from the app"
                    field=code
                    error=code_error
                    hint="Then enter the 6-digit code the app shows for this account."
                    numeric=true
                    input_ref=input
                />
                <div class="actions">
                    <SubmitButton label="Turn on" pending_label="Turning on…" pending=pending/>
                    <button
                        type="button"
                        class="button secondary"
                        disabled=move || pending.get()
                        on:click=move |_| cancel.run(())
                    >
                        "Cancel"
                    </button>
                </div>
            </form>
        </div>
    }
    .into_any()
}
