use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    api::types::{ResendVerificationRequest, VerifyEmailRequest},
    auth::{login_path_returning_to, use_auth},
    components::form::{Announcement, Field, SubmitButton, TextField, Tone},
    routes::Page,
    validation::check_email,
};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Verification {
    /// Waiting for the person to confirm.
    Waiting,
    Verified(String),
    Failed(String),
}

/// Opened from the link in the email: confirms the address with the token
/// from the query string, but only when the person presses the button. A
/// mail scanner or link preview that opens the link confirms nothing.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let token = Memo::new(move |_| {
        query
            .with(|query| query.get("token"))
            .filter(|token| !token.trim().is_empty())
    });
    let state = RwSignal::new(Verification::Waiting);
    let pending = RwSignal::new(false);

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(token) = token.get_untracked() else {
            state.set(Verification::Failed(INCOMPLETE_LINK.to_owned()));
            return;
        };
        let Some(client) = auth.client() else { return };
        pending.set(true);
        spawn_local(async move {
            let outcome = client.verify_email(&VerifyEmailRequest { token }).await;
            pending.set(false);
            state.set(match outcome {
                Ok(answer) => Verification::Verified(answer.message),
                Err(error) => Verification::Failed(error.message()),
            });
        });
    };

    let shown = move || match state.get() {
        Verification::Waiting if token.with(Option::is_none) => {
            Verification::Failed(INCOMPLETE_LINK.to_owned())
        }
        state => state,
    };

    view! {
        <Title text="Confirm your email address"/>
        <section class="narrow">
            <h1 class="page-title">"Confirm your email address"</h1>
            <div class="card stack">
                {move || match shown() {
                    Verification::Waiting => view! {
                        <p>"One last step: confirm that this email address is yours, and your account is ready."</p>
                        <form class="form" method="post" novalidate=true on:submit=on_submit aria-label="Confirm your email address">
                            <div>
                                <SubmitButton
                                    label="Confirm my email address"
                                    pending_label="Confirming…"
                                    pending=pending
                                />
                            </div>
                        </form>
                    }
                        .into_any(),
                    Verification::Verified(message) => view! {
                        <Announcement message=Signal::derive(move || Some((Tone::Success, message.clone())))/>
                        <p><A href=login_path_returning_to(Page::Account.path()) attr:class="button">"Continue"</A></p>
                    }
                        .into_any(),
                    Verification::Failed(message) => view! {
                        <Announcement message=Signal::derive(move || Some((Tone::Error, message.clone())))/>
                        <ResendVerification initial_email=String::new()/>
                        <p><A href=Page::Login.path()>"Go to sign in"</A></p>
                    }
                        .into_any(),
                }}
            </div>
        </section>
    }
}

/// What a link without its token gets.
const INCOMPLETE_LINK: &str =
    "This link is incomplete: open the whole link from the email, or ask for a new one below.";

/// Asks for a fresh verification link.
#[component]
pub fn ResendVerification(#[prop(into)] initial_email: String) -> impl IntoView {
    let auth = use_auth();
    let email = Field::new();
    email.value.set(initial_email);
    let submitted = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    let email_error = email.error(submitted, |value| check_email(value).map(|_| ()));

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submitted.set(true);
        if email_error.get_untracked().is_some() {
            return;
        }
        let Some(client) = auth.client() else { return };
        let request = ResendVerificationRequest {
            email: email.value.get_untracked(),
        };
        pending.set(true);
        spawn_local(async move {
            let outcome = client.resend_verification(&request).await;
            pending.set(false);
            announcement.set(Some(match outcome {
                Ok(answer) => (Tone::Success, answer.message),
                Err(error) => {
                    email.server_error.set(error.field_message("email"));
                    (Tone::Error, error.message())
                }
            }));
        });
    };

    view! {
        <div class="stack">
            <Announcement message=announcement/>
            <form class="form" method="post" novalidate=true on:submit=on_submit aria-label="Send a new link">
                <TextField
                    id="resend-email"
                    label="Send a new link to"
                    input_type="email"
                    autocomplete="email"
                    field=email
                    error=email_error
                />
                <div>
                    <SubmitButton label="Send a new link" pending_label="Sending…" pending=pending/>
                </div>
            </form>
        </div>
    }
}
