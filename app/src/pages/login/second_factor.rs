//! The second step of a password sign-in: a code from the authenticator
//! app, one of the recovery codes, or (when the account has one) a passkey.

use leptos::{html, prelude::*, task::spawn_local};

use super::passkey::PasskeySecondFactor;
use crate::{
    api::{
        types::{SecondFactorChallenge, SecondFactorMethod, SecondFactorRequest},
        ProblemCode,
    },
    auth::use_auth,
    components::form::{CodeField, Field, SubmitButton, Tone},
    validation::check_app_code,
};

/// Why the page went back to the password: the second step's challenge is
/// expired, finished or out of tries.
const CHALLENGE_OVER: &str = "This sign-in has expired or had too many wrong codes. \
     Enter your password again to get a new code step.";

/// The second step of a sign-in: a code from the authenticator app, or one
/// of the recovery codes. A right one signs in (the page's effect then
/// navigates); a wrong one is refused on its field with the tries left; a
/// challenge that is over sends the user back to the password.
#[component]
pub(super) fn SecondFactorStep(
    challenge: SecondFactorChallenge,
    message: RwSignal<Option<(Tone, String)>>,
    start_over: Callback<Option<String>>,
) -> impl IntoView {
    let auth = use_auth();
    let offers_recovery = challenge
        .methods
        .contains(&SecondFactorMethod::RecoveryCode);
    let offers_passkey = challenge.methods.contains(&SecondFactorMethod::Passkey);
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
            {offers_passkey.then(|| view! {
                <PasskeySecondFactor
                    challenge=challenge.get_value()
                    message=message
                    challenge_over=Callback::new(move |()| start_over.run(Some(CHALLENGE_OVER.to_owned())))
                />
            })}
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_code_is_anything_typed() {
        assert_eq!(check_recovery_code("abcd-efgh-ijkl-mnop"), Ok(()));
        assert!(check_recovery_code(" ").is_err());
    }
}
