use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    api::{types::ForgotPasswordRequest, ProblemCode},
    auth::use_auth,
    components::form::{Announcement, Field, SubmitButton, TextField, Tone},
    routes::Page,
    validation::{check_email, normalize_email},
};

/// Asks for a link to choose a new password. The answer is the same whether
/// or not an account uses the address, so the page never tells which
/// addresses have accounts.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let auth = use_auth();
    let email = Field::new();
    let submitted = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    let sent_to = RwSignal::new(None::<String>);

    let email_error = email.error(submitted, |value| check_email(value).map(|_| ()));

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submitted.set(true);
        announcement.set(None);
        if email_error.get_untracked().is_some() {
            return;
        }
        let Some(client) = auth.client() else { return };
        let request = ForgotPasswordRequest {
            email: email.value.get_untracked(),
        };
        pending.set(true);
        spawn_local(async move {
            let outcome = client.forgot_password(&request).await;
            pending.set(false);
            match outcome {
                Ok(_) => sent_to.set(Some(normalize_email(&request.email))),
                Err(error) => {
                    email.server_error.set(error.field_message("email"));
                    let text = if error.code() == Some(ProblemCode::ValidationFailed) {
                        "Please correct the field below.".to_owned()
                    } else {
                        error.message()
                    };
                    announcement.set(Some((Tone::Error, text)));
                }
            }
        });
    };

    let ask_again = move |_| {
        submitted.set(false);
        sent_to.set(None);
    };

    view! {
        <Title text="Forgot your password?"/>
        <section class="narrow">
            <h1 class="page-title">"Forgot your password?"</h1>
            <div class="card stack">
                {move || match sent_to.get() {
                    Some(address) => view! {
                        <div class="stack" data-testid="reset-requested">
                            <Announcement message=Signal::derive(move || Some((
                                Tone::Success,
                                format!(
                                    "Check your inbox: if an account uses {address}, we have sent it a link to choose a new password."
                                ),
                            )))/>
                            <p>
                                "The link works once, for 30 minutes. If nothing arrives within a few minutes, "
                                "check your spam folder or ask for another link."
                            </p>
                            <div class="form-footer">
                                <button type="button" class="button secondary" on:click=ask_again>
                                    "Send another link"
                                </button>
                                <A href=Page::Login.path()>"Back to sign in"</A>
                            </div>
                        </div>
                    }
                        .into_any(),
                    None => view! {
                        <Announcement message=announcement/>
                        <p>"Enter the email address of your account and we will send you a link to choose a new password."</p>
                        <form class="form" method="post" novalidate=true on:submit=on_submit>
                            <TextField
                                id="email"
                                label="Email address"
                                input_type="email"
                                autocomplete="email"
                                field=email
                                error=email_error
                            />
                            <div class="form-footer">
                                <SubmitButton label="Send reset link" pending_label="Sending…" pending=pending/>
                                <A href=Page::Login.path()>"Back to sign in"</A>
                            </div>
                        </form>
                    }
                        .into_any(),
                }}
            </div>
        </section>
    }
}
