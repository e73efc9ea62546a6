use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    api::{types::ResetPasswordRequest, ProblemCode},
    auth::use_auth,
    components::form::{Announcement, Field, SubmitButton, TextField, Tone},
    routes::Page,
    validation::check_password,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reset {
    /// The new password is set and every session of the account ended.
    Done,
    /// The link is missing its token, or the server does not know it (or
    /// no longer: used or expired).
    InvalidLink,
}

/// Opened from the link in the password reset email: sets a new password
/// with the token from the query string.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let auth = use_auth();
    let token = super::use_link_token();
    let outcome = RwSignal::new(None::<Reset>);

    let password = Field::new();
    let submitted = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    let password_error = password.error(submitted, check_password);

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submitted.set(true);
        announcement.set(None);
        if password_error.get_untracked().is_some() {
            return;
        }
        let Some(token) = token.get_untracked() else {
            outcome.set(Some(Reset::InvalidLink));
            return;
        };
        let Some(client) = auth.client() else { return };
        let request = ResetPasswordRequest {
            token,
            password: password.value.get_untracked(),
        };
        pending.set(true);
        spawn_local(async move {
            let answer = client.reset_password(&request).await;
            pending.set(false);
            match answer {
                Ok(_) => outcome.set(Some(Reset::Done)),
                Err(error) if error.code() == Some(ProblemCode::InvalidLink) => {
                    outcome.set(Some(Reset::InvalidLink));
                }
                Err(error) => {
                    password.server_error.set(error.field_message("password"));
                    let text = if error.code() == Some(ProblemCode::ValidationFailed) {
                        "Please choose another password.".to_owned()
                    } else {
                        error.message()
                    };
                    announcement.set(Some((Tone::Error, text)));
                }
            }
        });
    };

    let state = move || match outcome.get() {
        Some(reset) => Some(reset),
        None if token.with(Option::is_none) => Some(Reset::InvalidLink),
        None => None,
    };

    view! {
        <Title text="Choose a new password"/>
        <section class="narrow">
            <h1 class="page-title">"Choose a new password"</h1>
            <div class="card stack">
                {move || match state() {
                    Some(Reset::Done) => view! {
                        <div class="stack" data-testid="password-reset">
                            <Announcement message=Signal::derive(|| Some((
                                Tone::Success,
                                "Your password has been changed. You can now sign in with it.".to_owned(),
                            )))/>
                            <p>"For your safety, every device that was signed in to your account has been signed out."</p>
                            <p><A href=Page::Login.path() attr:class="button">"Sign in"</A></p>
                        </div>
                    }
                        .into_any(),
                    Some(Reset::InvalidLink) => view! {
                        <div class="stack" data-testid="invalid-link">
                            <Announcement message=Signal::derive(|| Some((
                                Tone::Error,
                                "This password reset link is not valid: it may have expired or been used already."
                                    .to_owned(),
                            )))/>
                            <p>"Ask for a new link and use the newest one we send you."</p>
                            <p><A href=Page::ForgotPassword.path() attr:class="button">"Ask for a new link"</A></p>
                        </div>
                    }
                        .into_any(),
                    None => view! {
                        <Announcement message=announcement/>
                        <p>"Choose the new password for your account. Every device signed in to it will be signed out."</p>
                        <form class="form" method="post" novalidate=true on:submit=on_submit>
                            <TextField
                                id="password"
                                label="New password"
                                input_type="password"
                                autocomplete="new-password"
                                field=password
                                error=password_error
                                hint="At least 8 characters. A few unrelated words make a strong, memorable password."
                                revealable=true
                            />
                            <div>
                                <SubmitButton label="Set new password" pending_label="Saving…" pending=pending/>
                            </div>
                        </form>
                    }
                        .into_any(),
                }}
            </div>
        </section>
    }
}
