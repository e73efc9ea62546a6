use leptos::{html, prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

use crate::{
    api::{
        types::{
            LoginRequest, LoginResponse, SecondFactorChallenge, SecondFactorMethod,
            SecondFactorRequest,
        },
        ProblemCode,
    },
    api_client::ClientError,
    auth::{safe_next, use_auth, AuthStatus},
    components::form::{Announcement, Checkbox, CodeField, Field, SubmitButton, TextField, Tone},
    pages::verify_email::ResendVerification,
    routes::Page,
    validation::{check_app_code, check_email},
};

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
                        autocomplete="username"
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

/// Why the page went back to the password: the second step's challenge is
/// expired, finished or out of tries.
const CHALLENGE_OVER: &str = "This sign-in has expired or had too many wrong codes. \
     Enter your password again to get a new code step.";

/// The second step of a sign-in: a code from the authenticator app, or one
/// of the recovery codes. A right one signs in (the page's effect then
/// navigates); a wrong one is refused on its field with the tries left; a
/// challenge that is over sends the user back to the password.
#[component]
fn SecondFactorStep(
    challenge: SecondFactorChallenge,
    message: RwSignal<Option<(Tone, String)>>,
    start_over: Callback<Option<String>>,
) -> impl IntoView {
    let auth = use_auth();
    let offers_recovery = challenge
        .methods
        .contains(&SecondFactorMethod::RecoveryCode);
    let challenge = StoredValue::new(challenge.challenge);
    let with_recovery = RwSignal::new(false);
    let code = Field::new();
    let recovery = Field::new();
    let submitted = RwSignal::new(false);
    let pending = RwSignal::new(false);
    // Both fields stay in the page and one is hidden: swapping the nodes
    // would lose their state and the focus.
    let app_input = NodeRef::<html::Input>::new();
    let recovery_input = NodeRef::<html::Input>::new();
    let input = move || {
        if with_recovery.get_untracked() {
            recovery_input
        } else {
            app_input
        }
    };

    let code_error = code.error(submitted, check_app_code);
    let recovery_error = recovery.error(submitted, check_recovery_code);

    // The field takes the focus when the step appears and when the user
    // switches between the app's code and a recovery code.
    Effect::new(move |_| {
        let recovering = with_recovery.get();
        let target = if recovering {
            recovery_input
        } else {
            app_input
        };
        if let Some(input) = target.get() {
            let _ = input.focus();
        }
    });
    let refocus = move || {
        if let Some(input) = input().get_untracked() {
            let _ = input.focus();
            input.select();
        }
    };

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if pending.get_untracked() {
            return;
        }
        submitted.set(true);
        message.set(None);
        let recovering = with_recovery.get_untracked();
        let (field, error) = if recovering {
            (recovery, recovery_error)
        } else {
            (code, code_error)
        };
        if error.get_untracked().is_some() {
            refocus();
            return;
        }
        let typed = field.value.get_untracked().trim().to_owned();
        let request = SecondFactorRequest {
            challenge: challenge.get_value(),
            code: (!recovering).then(|| typed.clone()),
            recovery_code: recovering.then_some(typed),
        };
        pending.set(true);
        spawn_local(async move {
            let outcome = auth.login_second_factor(&request).await;
            pending.set(false);
            let error = match outcome {
                // The page's effect navigates once the state says signed in.
                Ok(_) => return,
                Err(error) => error,
            };
            if error.code() == Some(ProblemCode::InvalidChallenge) {
                start_over.run(Some(CHALLENGE_OVER.to_owned()));
                return;
            }
            let on_field = if recovering {
                error
                    .field_message("recovery_code")
                    .or_else(|| error.field_message("code"))
            } else {
                error.field_message("code")
            };
            let text = match error.code() {
                Some(ProblemCode::ValidationFailed) if on_field.is_some() => {
                    "That code was not accepted. See below.".to_owned()
                }
                Some(ProblemCode::AccountDisabled) => {
                    "This account has been disabled. Please contact an administrator.".to_owned()
                }
                _ => error.message(),
            };
            field.server_error.set(on_field);
            message.set(Some((Tone::Error, text)));
            refocus();
        });
    };

    let switch = move |_| {
        with_recovery.update(|recovering| *recovering = !*recovering);
        submitted.set(false);
        message.set(None);
        // Once the field is shown: a hidden one cannot take the focus.
        request_animation_frame(move || {
            if let Some(input) = input().get_untracked() {
                let _ = input.focus();
            }
        });
    };

    let fields = view! {
        <div hidden=move || !with_recovery.get()>
            <CodeField
                id="recovery-code"
                label="Recovery code"
                field=recovery
                error=recovery_error
                hint="One of the codes you saved when you set up two-step verification. Each one works once."
                numeric=false
                input_ref=recovery_input
            />
        </div>
        <div hidden=move || with_recovery.get()>
            <CodeField
                id="code"
                label="Authentication code"
                field=code
                error=code_error
                hint="The 6-digit code your authenticator app shows for this account."
                numeric=true
                input_ref=app_input
            />
        </div>
    }
    .into_any();

    view! {
        <form class="form" method="post" novalidate=true on:submit=on_submit aria-labelledby="second-factor-heading">
            <h2 id="second-factor-heading">"Two-step verification"</h2>
            {fields}
            <div class="form-footer">
                <SubmitButton label="Verify" pending_label="Verifying…" pending=pending/>
                {offers_recovery.then(|| view! {
                    <button type="button" class="link-button" on:click=switch>
                        {move || if with_recovery.get() {
                            "Use your authenticator app instead"
                        } else {
                            "Use a recovery code instead"
                        }}
                    </button>
                })}
            </div>
            <p class="form-link">
                <button type="button" class="link-button" on:click=move |_| start_over.run(None)>
                    "Start over"
                </button>
            </p>
        </form>
    }
    .into_any()
}

fn check_recovery_code(value: &str) -> Result<(), &'static str> {
    if value.trim().is_empty() {
        Err("Enter one of your recovery codes.")
    } else {
        Ok(())
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_code_is_anything_typed() {
        assert_eq!(check_recovery_code("abcd-efgh-ijkl-mnop"), Ok(()));
        assert!(check_recovery_code(" ").is_err());
    }
}
