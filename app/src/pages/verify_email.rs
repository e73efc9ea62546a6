use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_navigate, NavigateOptions};

use crate::{
    api::{
        types::{ResendVerificationRequest, VerifyEmailRequest},
        values::UserId,
        ProblemCode,
    },
    auth::{use_auth, AuthStatus},
    components::form::{Announcement, Field, SubmitButton, TextField, Tone},
    routes::Page,
    validation::check_email,
};

/// Opened from the link in the email: confirms the sign-up with the token
/// from the query string and the password chosen at that sign-up, which
/// creates the account and signs it in. Nothing happens until the person
/// types the password and presses the button: a mail scanner or link
/// preview that opens the link confirms nothing. And someone else who signs
/// up with the same address cannot have their sign-up confirmed by the
/// owner's click, since only the password of the sign-up that mailed this
/// link is accepted.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let token = super::use_link_token();
    // Why the link cannot be used (incomplete, or refused by the server).
    let link_failure = RwSignal::new(None::<String>);
    // The account this page has just confirmed and signed in.
    let confirmed = RwSignal::new(None::<UserId>);

    // Once the new account is the signed-in one, go to it. Only then: a
    // visitor already signed in (as anyone) may still confirm a sign-up.
    Effect::new(move |_| {
        let Some(id) = confirmed.get() else { return };
        if matches!(auth.status.get(), AuthStatus::SignedIn(user) if user.id == id) {
            navigate(
                Page::Account.path(),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });

    let password = Field::new();
    let submitted = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    let password_error = password.error(submitted, |value| {
        if value.is_empty() {
            Err("Enter your password.")
        } else {
            Ok(())
        }
    });

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submitted.set(true);
        announcement.set(None);
        let Some(token) = token.get_untracked() else {
            link_failure.set(Some(INCOMPLETE_LINK.to_owned()));
            return;
        };
        if password_error.get_untracked().is_some() {
            announcement.set(Some((
                Tone::Error,
                "Please enter your password.".to_owned(),
            )));
            return;
        }
        let request = VerifyEmailRequest {
            token,
            password: password.value.get_untracked(),
        };
        pending.set(true);
        spawn_local(async move {
            match auth.verify_email(&request).await {
                // Stays pending: the effect above leaves the page.
                Ok(tokens) => {
                    announcement.set(Some((
                        Tone::Success,
                        "Your email address is confirmed and you are signed in.".to_owned(),
                    )));
                    confirmed.set(Some(tokens.user.id));
                }
                Err(error) if error.code() == Some(ProblemCode::InvalidLink) => {
                    pending.set(false);
                    link_failure.set(Some(error.message()));
                }
                Err(error) => {
                    pending.set(false);
                    // A wrong password keeps the form (and the link) usable.
                    let field = error.field_message("password");
                    let text = if field.is_some() {
                        "Please check the password below.".to_owned()
                    } else {
                        error.message()
                    };
                    password.server_error.set(field);
                    announcement.set(Some((Tone::Error, text)));
                }
            }
        });
    };

    let failure = move || {
        link_failure.get().or_else(|| {
            token
                .with(Option::is_none)
                .then(|| INCOMPLETE_LINK.to_owned())
        })
    };

    view! {
        <Title text="Confirm your email address"/>
        <section class="narrow">
            <h1 class="page-title">"Confirm your email address"</h1>
            <div class="card stack">
                {move || match failure() {
                    None => view! {
                        <Announcement message=announcement/>
                        <p>"One last step: confirm that this email address is yours, and your account is ready."</p>
                        <form class="form" method="post" novalidate=true on:submit=on_submit aria-label="Confirm your email address">
                            <TextField
                                id="password"
                                label="Your password"
                                input_type="password"
                                autocomplete="current-password"
                                field=password
                                error=password_error
                                hint="Enter the password you chose when you signed up."
                                revealable=true
                            />
                            <div>
                                <SubmitButton
                                    label="Confirm and sign in"
                                    pending_label="Confirming…"
                                    pending=pending
                                />
                            </div>
                        </form>
                    }
                        .into_any(),
                    Some(message) => view! {
                        <div class="stack" data-testid="invalid-link">
                            <Announcement message=Signal::derive(move || Some((Tone::Error, message.clone())))/>
                            <ResendVerification initial_email=String::new()/>
                            <p><A href=Page::Login.path()>"Go to sign in"</A></p>
                        </div>
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
