//! The account's email address: the change waiting for its link (shown,
//! sent again, cancelled), and the form that asks for a change. The address
//! changes only once the link mailed to the new address is opened; until
//! then, sign-in keeps the current one. Asking is a sensitive action: the
//! API client has the user confirm who they are first when the sign-in is
//! not recent.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{
        lifecycle::{ChangeEmailRequest, PendingEmailChange},
        ProblemCode,
    },
    auth::use_auth,
    components::{
        form::{Announcement, Field, SubmitButton, TextField, Tone},
        time::LocalTime,
    },
    validation::check_email,
};

#[component]
pub(super) fn EmailSettings() -> impl IntoView {
    let auth = use_auth();
    let current = move || {
        auth.user()
            .map(|user| user.email.to_string())
            .unwrap_or_default()
    };
    let pending_change = RwSignal::new(None::<PendingEmailChange>);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    let busy = RwSignal::new(false);

    let reload = move || {
        let Some(client) = auth.client() else { return };
        spawn_local(async move {
            match client.email_change().await {
                Ok(status) => pending_change.set(status.pending),
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    };
    Effect::new(move |_| {
        if auth.client().is_some() {
            reload();
        }
    });

    // The form that asks for a change.
    let email = Field::new();
    let submitted = RwSignal::new(false);
    let email_error = email.error(submitted, |value| check_email(value).map(|_| ()));

    // Asks for a change to `to`: from the form, or "Send the link again"
    // (which leaves the form as it is).
    let ask = move |to: String, from_form: bool| {
        let Some(client) = auth.client() else { return };
        busy.set(true);
        announcement.set(None);
        spawn_local(async move {
            let outcome = client.change_email(&ChangeEmailRequest { email: to }).await;
            busy.set(false);
            match outcome {
                Ok(answer) => {
                    announcement.set(Some((Tone::Success, answer.message)));
                    reload();
                    if from_form {
                        email.value.set(String::new());
                        email.touched.set(false);
                        submitted.set(false);
                    }
                }
                Err(error) => {
                    let text = if error.code() == Some(ProblemCode::ValidationFailed) {
                        "Please correct the address below.".to_owned()
                    } else {
                        error.message()
                    };
                    announcement.set(Some((Tone::Error, text)));
                    if from_form {
                        email.server_error.set(error.field_message("email"));
                    }
                }
            }
        });
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submitted.set(true);
        if email_error.get_untracked().is_none() {
            ask(email.value.get_untracked().trim().to_owned(), true);
        }
    };

    let resend = move |_| {
        if let Some(change) = pending_change.get_untracked() {
            ask(change.new_email.to_string(), false);
        }
    };
    let cancel = move |_| {
        let Some(client) = auth.client() else { return };
        busy.set(true);
        announcement.set(None);
        spawn_local(async move {
            let outcome = client.cancel_email_change().await;
            busy.set(false);
            match outcome {
                Ok(()) => {
                    pending_change.set(None);
                    announcement.set(Some((
                        Tone::Success,
                        "The change is cancelled: the link we sent no longer works.".to_owned(),
                    )));
                }
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    };

    view! {
        <section class="card stack" aria-labelledby="email-heading" data-testid="email-settings">
            <h2 id="email-heading">"Email address"</h2>
            <Announcement message=announcement/>
            <p>"You sign in with " <strong data-testid="current-email">{current}</strong> "."</p>
            {move || pending_change.get().map(|change| view! {
                <div class="stack" data-testid="pending-email-change">
                    <p>
                        "Waiting for confirmation: " <strong>{change.new_email.to_string()}</strong>
                        ". Open the link we sent there before " <LocalTime at=change.expires_at.clone()/>
                        "; until then, keep signing in with your current address."
                    </p>
                    <div class="actions">
                        <button type="button" class="button secondary" disabled=move || busy.get() on:click=resend>
                            "Send the link again"
                        </button>
                        <button type="button" class="button secondary" disabled=move || busy.get() on:click=cancel>
                            "Cancel the change"
                        </button>
                    </div>
                </div>
            })}
            <form class="form" method="post" novalidate=true on:submit=on_submit aria-label="Change your email address">
                <TextField
                    id="new-email"
                    label="New email address"
                    input_type="email"
                    autocomplete="email"
                    field=email
                    error=email_error
                    hint="We send a link to the new address; the change is made when you open it. Your current address is told, with a way to undo it."
                />
                <div>
                    <SubmitButton label="Send confirmation link" pending_label="Sending…" pending=busy/>
                </div>
            </form>
        </section>
    }
}
