use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    api::types::{ResendVerificationRequest, VerifyEmailRequest},
    auth::use_auth,
    components::{
        form::{Announcement, Field, SubmitButton, TextField, Tone},
        layout::Loading,
    },
    routes::Page,
    validation::check_email,
};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Verification {
    Pending,
    Verified(String),
    Failed(String),
}

/// Opened from the link in the email: confirms the address with the token
/// from the query string.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let state = RwSignal::new(Verification::Pending);

    // Runs in the browser once hydrated, and only once per token.
    Effect::new(move |previous: Option<Option<String>>| {
        let token = query.with(|query| query.get("token"));
        if previous.as_ref() == Some(&token) {
            return token;
        }
        let Some(client) = auth.client() else {
            return token;
        };
        let request = VerifyEmailRequest {
            token: token.clone().unwrap_or_default(),
        };
        state.set(Verification::Pending);
        spawn_local(async move {
            state.set(match client.verify_email(&request).await {
                Ok(answer) => Verification::Verified(answer.message),
                Err(error) => Verification::Failed(error.message()),
            });
        });
        token
    });

    view! {
        <Title text="Confirm your email address"/>
        <section class="narrow">
            <h1 class="page-title">"Confirm your email address"</h1>
            <div class="card stack">
                {move || match state.get() {
                    Verification::Pending => view! { <Loading label="Confirming your address…"/> }.into_any(),
                    Verification::Verified(message) => view! {
                        <Announcement message=Signal::derive(move || Some((Tone::Success, message.clone())))/>
                        <p><A href=Page::Login.path() attr:class="button">"Sign in"</A></p>
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
            <form class="form" novalidate=true on:submit=on_submit aria-label="Send a new link">
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
