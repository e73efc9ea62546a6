//! The sign-in page: a passkey (its button, or the email field's
//! autofill) or the email address and password, then the second step when
//! the account has one.

mod passkey;
mod second_factor;

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

use crate::{
    api::{
        types::{LoginRequest, LoginResponse, SecondFactorChallenge},
        ProblemCode,
    },
    api_client::ClientError,
    auth::{safe_next, use_auth, AuthStatus},
    components::form::{Announcement, Checkbox, Field, SubmitButton, TextField, Tone},
    pages::verify_email::ResendVerification,
    routes::Page,
    validation::check_email,
};
use passkey::PasskeySignIn;
use second_factor::SecondFactorStep;

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let next = Memo::new(move |_| safe_next(query.with(|query| query.get("next")).as_deref()));
    let navigate = use_navigate();

    // Already signed in (or just signed in): go where the user was headed.
    Effect::new({
        let navigate = navigate.clone();
        move |_| {
            if matches!(auth.status.get(), AuthStatus::SignedIn(_)) {
                navigate(
                    &next.get_untracked(),
                    NavigateOptions {
                        replace: true,
                        ..Default::default()
                    },
                );
            }
        }
    });

    let email = Field::new();
    let password = Field::new();
    // Checked by default: a persistent session is what most people expect
    // on their own device; unchecked, the session ends with the browser.
    let remember = RwSignal::new(true);
    let submitted = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let failure = RwSignal::new(None::<ClientError>);
    // Set when the password was right and the account asks for its second
    // factor: the page then shows the code step instead of the form.
    let challenge = RwSignal::new(None::<SecondFactorChallenge>);
    // What the code step says, and why the page went back to the password.
    let message = RwSignal::new(None::<(Tone, String)>);

    let email_error = email.error(submitted, |value| check_email(value).map(|_| ()));
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
        failure.set(None);
        message.set(None);
        if email_error.get_untracked().is_some() || password_error.get_untracked().is_some() {
            return;
        }
        let request = LoginRequest {
            email: email.value.get_untracked(),
            password: password.value.get_untracked(),
            remember: remember.get_untracked(),
        };
        pending.set(true);
        spawn_local(async move {
            let outcome = auth.login(&request).await;
            pending.set(false);
            match outcome {
                // The effect above navigates once the state says signed in.
                Ok(LoginResponse::SignedIn(_)) => {}
                Ok(LoginResponse::SecondFactor(asked)) => challenge.set(Some(asked)),
                Err(error) => {
                    email.server_error.set(error.field_message("email"));
                    password.server_error.set(error.field_message("password"));
                    failure.set(Some(error));
                }
            }
        });
    };

    // Back from the code step to the password, with the reason if any: the
    // challenge is spent, so the password must be given again.
    let start_over = Callback::new(move |reason: Option<String>| {
        challenge.set(None);
        failure.set(None);
        submitted.set(false);
        password.value.set(String::new());
        password.touched.set(false);
        password.server_error.set(None);
        message.set(reason.map(|text| (Tone::Error, text)));
        focus_by_id_soon("password");
    });

    let announcement = Signal::derive(move || {
        if let Some(error) = failure.get() {
            let text = match error.code() {
                // Also what a sign-up that is not confirmed yet gets: the
                // server does not tell the two apart.
                Some(ProblemCode::InvalidCredentials) => INCORRECT.to_owned(),
                Some(ProblemCode::AccountDisabled) => {
                    "This account has been disabled. Please contact an administrator.".to_owned()
                }
                Some(ProblemCode::ValidationFailed) => {
                    "Please correct the fields below.".to_owned()
                }
                _ => error.message(),
            };
            return Some((Tone::Error, text));
        }
        if let Some(message) = message.get() {
            return Some(message);
        }
        if challenge.with(Option::is_some) {
            return None;
        }
        auth.notice.get().map(|notice| (Tone::Info, notice))
    });
    let refused = move || {
        failure.with(|error| {
            error.as_ref().and_then(ClientError::code) == Some(ProblemCode::InvalidCredentials)
        })
    };

    // Each part's type is erased (`into_any`): nested whole, the page's
    // view type is deeper than the compiler's query limit.
    let form = move || {
        view! {
                <form class="form" method="post" novalidate=true on:submit=on_submit>
                    <TextField
                        id="email"
                        label="Email address"
                        input_type="email"
                        autocomplete="username webauthn"
                        field=email
                        error=email_error
                    />
                    <TextField
                        id="password"
                        label="Password"
                        input_type="password"
                        autocomplete="current-password"
                        field=password
                        error=password_error
                        revealable=true
                    />
                    <p class="form-link">
                        <A href=Page::ForgotPassword.path()>"Forgot your password?"</A>
                    </p>
                    <Checkbox
                        id="remember"
                        label="Keep me signed in"
                        checked=remember
                        hint="Uncheck this on a shared computer: you will be signed out when the browser closes."
                    />
                    <div class="form-footer">
                        <SubmitButton label="Sign in" pending_label="Signing in…" pending=pending/>
                        <A href=Page::Register.path()>"Create an account"</A>
                    </div>
                </form>
                <PasskeySignIn remember=remember failure=failure message=message/>
        }
        .into_any()
    };
    let step = move || match challenge.get() {
        None => form(),
        Some(asked) => view! {
            <SecondFactorStep challenge=asked message=message start_over=start_over/>
        }
        .into_any(),
    };
    let resend = move || {
        view! {
                    <details class="stack">
                        <summary>"Didn't get the email?"</summary>
                        <p>"If you signed up and the link has not arrived or has expired, we can send you a new one."</p>
                        <ResendVerification initial_email=email.value.get_untracked()/>
                    </details>
        }
        .into_any()
    };

    view! {
        <Title text="Sign in"/>
        <section class="narrow">
            <h1 class="page-title">"Sign in"</h1>
            <div class="card stack">
                <Announcement message=announcement/>
                {step}
                // Below the form, so that the form does not move; closed, so
                // that it does not compete with the form for attention.
                <Show when=refused>{resend}</Show>
            </div>
        </section>
    }
}

/// What a refused sign-in says. The server answers the same for a wrong
/// password, an unknown address and a sign-up not confirmed yet.
const INCORRECT: &str = "The email address or password is incorrect. If you have just signed up, \
     confirm your address with the link we emailed you first.";

/// Moves the focus to the element with `id` once the page has drawn the
/// change under way (it may not be in the document yet).
fn focus_by_id_soon(id: &'static str) {
    request_animation_frame(move || {
        use leptos::wasm_bindgen::JsCast as _;
        if let Some(element) = document()
            .get_element_by_id(id)
            .and_then(|element| element.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
}
