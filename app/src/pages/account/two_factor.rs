//! Two-step verification on the account page: whether an authenticator app
//! is on and how many recovery codes are left; setting one up (the server's
//! QR code, or the key to type in, then a first code from the app), turning
//! it off, and new recovery codes. Recovery codes are shown once, when they
//! are made. Each change needs a recent sign-in (the API client asks the
//! user to confirm it's them) and signs every other device out.

use leptos::{html, prelude::*, task::spawn_local};

use crate::{
    api::{
        types::{SecondFactorStatus, TotpEnrollment},
        ProblemCode,
    },
    api_client::ClientError,
    auth::use_auth,
    components::{
        form::{Announcement, Tone},
        layout::Loading,
    },
};

use super::{authenticator_setup::SetUpApp, recovery_codes::RecoveryCodeList};

/// What the section shows besides the status.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    /// The status, and what can be done about it.
    Overview,
    /// A new secret, waiting for a first code from the app.
    SettingUp(TotpEnrollment),
    /// Recovery codes just made: shown this once.
    NewCodes(Vec<String>),
}

/// A change under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    Starting,
    Replacing,
    TurningOff,
}

#[component]
pub(super) fn TwoFactorSettings(
    /// Bumped after a change, which signs the other devices out.
    sessions_changed: RwSignal<u32>,
) -> impl IntoView {
    let auth = use_auth();
    let status = RwSignal::new(None::<SecondFactorStatus>);
    let stage = RwSignal::new(Stage::Overview);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    let working = RwSignal::new(None::<Work>);
    let confirming_off = RwSignal::new(false);
    let heading = NodeRef::<html::H2>::new();

    let load = move || {
        let Some(client) = auth.client() else { return };
        spawn_local(async move {
            match client.second_factor_status().await {
                Ok(now) => status.set(Some(now)),
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    };
    Effect::new(move |_| load());

    // Where the focus goes when what had it disappears.
    let focus_heading = move || {
        if let Some(heading) = heading.get_untracked() {
            let _ = heading.focus();
        }
    };
    let fail = move |error: ClientError| {
        let tone = if error == ClientError::ReauthenticationCancelled {
            Tone::Info
        } else {
            Tone::Error
        };
        announcement.set(Some((tone, error.message())));
        if matches!(
            error.code(),
            Some(ProblemCode::SecondFactorEnabled | ProblemCode::SecondFactorNotEnabled)
        ) {
            // Changed meanwhile (in another tab, say): show it as it is now.
            stage.set(Stage::Overview);
            load();
        }
    };
    // After a change: the other devices are signed out.
    let changed = move |text: &str| {
        announcement.set(Some((Tone::Success, text.to_owned())));
        sessions_changed.update(|count| *count += 1);
    };

    let start = move |_| {
        let Some(client) = auth.client() else { return };
        working.set(Some(Work::Starting));
        announcement.set(None);
        spawn_local(async move {
            let outcome = client.start_totp().await;
            working.set(None);
            match outcome {
                Ok(enrollment) => stage.set(Stage::SettingUp(enrollment)),
                Err(error) => fail(error),
            }
        });
    };
    let replace_codes = move |_| {
        let Some(client) = auth.client() else { return };
        working.set(Some(Work::Replacing));
        announcement.set(None);
        spawn_local(async move {
            let outcome = client.replace_recovery_codes().await;
            working.set(None);
            match outcome {
                Ok(answer) => {
                    changed("New recovery codes made: the old ones no longer work. Every other device has been signed out.");
                    stage.set(Stage::NewCodes(answer.codes));
                }
                Err(error) => fail(error),
            }
        });
    };
    let turn_off = Callback::new(move |()| {
        let Some(client) = auth.client() else { return };
        working.set(Some(Work::TurningOff));
        announcement.set(None);
        spawn_local(async move {
            let outcome = client.disable_totp().await;
            working.set(None);
            confirming_off.set(false);
            match outcome {
                Ok(()) => {
                    status.set(Some(SecondFactorStatus {
                        totp: false,
                        recovery_codes_left: 0,
                    }));
                    changed(
                        "Two-step verification is off. Every other device has been signed out.",
                    );
                }
                Err(error) => fail(error),
            }
            // The question, which had the focus, is gone either way.
            focus_heading();
        });
    });

    let enabled = Callback::new(move |codes: Vec<String>| {
        status.set(Some(SecondFactorStatus {
            totp: true,
            recovery_codes_left: u32::try_from(codes.len()).unwrap_or(u32::MAX),
        }));
        changed("Two-step verification is on. Every other device has been signed out.");
        stage.set(Stage::NewCodes(codes));
    });
    let failed = Callback::new(fail);
    let back = Callback::new(move |()| {
        stage.set(Stage::Overview);
        load();
        focus_heading();
    });

    let busy = move |work: Work| working.get() == Some(work);
    let overview = move |now: SecondFactorStatus| {
        if !now.totp {
            return view! {
                <p><strong>"Off."</strong>" Signing in asks only for your password."</p>
                <p>"Turn it on to also ask for a code from an authenticator app on your phone, such as Google Authenticator, Microsoft Authenticator or 1Password, whenever you sign in."</p>
                <div class="actions">
                    <button
                        type="button"
                        class="button"
                        disabled=move || working.get().is_some()
                        aria-busy=move || busy(Work::Starting).to_string()
                        on:click=start
                    >
                        {move || if busy(Work::Starting) { "Setting up…" } else { "Set up an authenticator app" }}
                    </button>
                </div>
            }
            .into_any();
        }
        let left = match now.recovery_codes_left {
            0 => "No recovery codes left. Make new ones, so that you can still sign in without your app.".to_owned(),
            1 => "1 recovery code left. Make new ones before you run out.".to_owned(),
            count @ 2..=3 => format!("{count} recovery codes left. Make new ones before you run out."),
            count => format!("{count} recovery codes left."),
        };
        view! {
            <p><strong>"On."</strong>" Signing in asks for your password and a code from your authenticator app."</p>
            <p>{left}</p>
            <Show
                when=move || confirming_off.get()
                fallback=move || view! {
                    <p>"Making new recovery codes replaces the ones you have. Changing two-step verification signs every other device out."</p>
                    <div class="actions">
                        <button
                            type="button"
                            class="button secondary"
                            disabled=move || working.get().is_some()
                            aria-busy=move || busy(Work::Replacing).to_string()
                            on:click=replace_codes
                        >
                            {move || if busy(Work::Replacing) { "Making new codes…" } else { "Make new recovery codes" }}
                        </button>
                        <button
                            type="button"
                            class="button danger"
                            disabled=move || working.get().is_some()
                            on:click=move |_| {
                                announcement.set(None);
                                confirming_off.set(true);
                            }
                        >
                            "Turn off"
                        </button>
                    </div>
                }
            >
                <ConfirmTurnOff working=working confirming=confirming_off turn_off=turn_off/>
            </Show>
        }
        .into_any()
    };

    let body = move || match stage.get() {
        Stage::SettingUp(enrollment) => view! {
            <SetUpApp enrollment=enrollment enabled=enabled failed=failed cancel=back/>
        }
        .into_any(),
        Stage::NewCodes(codes) => view! { <RecoveryCodeList codes=codes done=back/> }.into_any(),
        Stage::Overview => match status.get() {
            None => view! { <Loading label="Loading two-step verification…"/> }.into_any(),
            Some(now) => overview(now),
        },
    };

    view! {
        <section class="card stack" aria-labelledby="two-factor-heading">
            <h2 id="two-factor-heading" tabindex="-1" node_ref=heading>"Two-step verification"</h2>
            <Announcement message=announcement/>
            {body}
        </section>
    }
    .into_any()
}

/// "Turn off two-step verification?", with the focus on the answer.
#[component]
fn ConfirmTurnOff(
    working: RwSignal<Option<Work>>,
    confirming: RwSignal<bool>,
    turn_off: Callback<()>,
) -> impl IntoView {
    let confirm_button = NodeRef::<html::Button>::new();
    Effect::new(move |_| {
        if let Some(button) = confirm_button.get() {
            let _ = button.focus();
        }
    });
    let turning_off = move || working.get() == Some(Work::TurningOff);
    view! {
        <div
            class="confirm stack"
            role="alertdialog"
            aria-labelledby="totp-off-question"
            aria-describedby="totp-off-detail"
        >
            <p id="totp-off-question"><strong>"Turn off two-step verification?"</strong></p>
            <p id="totp-off-detail">"Signing in will ask only for your password, your recovery codes will stop working, and every other device will be signed out."</p>
            <div class="actions">
                <button
                    type="button"
                    class="button danger"
                    node_ref=confirm_button
                    disabled=move || working.get().is_some()
                    aria-busy=move || turning_off().to_string()
                    on:click=move |_| turn_off.run(())
                >
                    {move || if turning_off() { "Turning off…" } else { "Yes, turn it off" }}
                </button>
                <button
                    type="button"
                    class="button secondary"
                    disabled=move || working.get().is_some()
                    on:click=move |_| confirming.set(false)
                >
                    "Cancel"
                </button>
            </div>
        </div>
    }
    .into_any()
}
