//! The account's security: changing the password, and where the user is
//! signed in, with "Sign out this device" for the others.

use leptos::{prelude::*, task::spawn_local};

use crate::components::time::LocalTime;
use crate::{
    api::{
        types::{ChangePasswordRequest, SessionInfo},
        values::SessionId,
        ProblemCode,
    },
    auth::{use_auth, AuthStatus},
    components::{
        form::{Announcement, Field, SubmitButton, TextField, Tone},
        layout::Loading,
    },
    validation::check_password,
};

#[component]
pub(super) fn ChangePasswordForm(sessions_changed: RwSignal<u32>) -> impl IntoView {
    let auth = use_auth();
    let current = Field::new();
    let new = Field::new();
    let submitted = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let announcement = RwSignal::new(None::<(Tone, String)>);

    let current_error = current.error(submitted, |value| {
        if value.is_empty() {
            Err("Enter your current password.")
        } else {
            Ok(())
        }
    });
    let new_error = new.error(submitted, check_password);
    // For password managers: whose password this is.
    let username = auth.status.with_untracked(|status| match status {
        AuthStatus::SignedIn(user) => user.email.to_string(),
        _ => String::new(),
    });

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submitted.set(true);
        announcement.set(None);
        if current_error.get_untracked().is_some() || new_error.get_untracked().is_some() {
            announcement.set(Some((
                Tone::Error,
                "Please correct the fields below.".into(),
            )));
            return;
        }
        let Some(client) = auth.client() else { return };
        let request = ChangePasswordRequest {
            current_password: current.value.get_untracked(),
            new_password: new.value.get_untracked(),
        };
        pending.set(true);
        spawn_local(async move {
            let outcome = client.change_password(&request).await;
            pending.set(false);
            match outcome {
                Ok(()) => {
                    for field in [current, new] {
                        field.value.set(String::new());
                        field.touched.set(false);
                    }
                    submitted.set(false);
                    announcement.set(Some((
                        Tone::Success,
                        "Your password has been changed. Every other device has been signed out."
                            .into(),
                    )));
                    // The other sessions have ended: show what is left.
                    sessions_changed.update(|count| *count += 1);
                }
                Err(error) => {
                    current
                        .server_error
                        .set(error.field_message("current_password"));
                    new.server_error.set(error.field_message("new_password"));
                    let text = if error.code() == Some(ProblemCode::ValidationFailed) {
                        "Please correct the fields below.".to_owned()
                    } else {
                        error.message()
                    };
                    announcement.set(Some((Tone::Error, text)));
                }
            }
        });
    };

    view! {
        <div class="card stack">
            <h2 id="change-password-heading">"Change password"</h2>
            <Announcement message=announcement/>
            <form class="form" method="post" novalidate=true on:submit=on_submit aria-labelledby="change-password-heading">
            <input type="email" name="username" autocomplete="username" value=username readonly=true hidden=true/>
            <TextField
                id="current-password"
                label="Current password"
                input_type="password"
                autocomplete="current-password"
                field=current
                error=current_error
                revealable=true
            />
            <TextField
                id="new-password"
                label="New password"
                input_type="password"
                autocomplete="new-password"
                field=new
                error=new_error
                hint="At least 8 characters. Changing it signs out every other device."
                revealable=true
            />
            <div>
                <SubmitButton label="Change password" pending_label="Changing password…" pending=pending/>
            </div>
            </form>
        </div>
    }
}

/// The user's live sessions, this one marked, every other one with a button
/// that signs that device out at once.
#[component]
pub(super) fn SessionList(sessions_changed: RwSignal<u32>) -> impl IntoView {
    let auth = use_auth();
    let sessions = RwSignal::new(None::<Vec<SessionInfo>>);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    let loading = RwSignal::new(false);
    let ending = RwSignal::new(None::<SessionId>);

    let load = move || {
        let Some(client) = auth.client() else { return };
        loading.set(true);
        spawn_local(async move {
            let outcome = client.my_sessions().await;
            loading.set(false);
            match outcome {
                Ok(mut list) => {
                    // This device first, then the others, most recently used first.
                    list.sort_by_key(|session| !session.current);
                    sessions.set(Some(list));
                }
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    };
    Effect::new(move |_| {
        sessions_changed.track();
        load();
    });

    let end = move |session: SessionInfo| {
        let Some(client) = auth.client() else { return };
        ending.set(Some(session.id));
        announcement.set(None);
        spawn_local(async move {
            let outcome = client.end_session(session.id).await;
            ending.set(None);
            announcement.set(Some(match outcome {
                Ok(()) => (
                    Tone::Success,
                    format!("{} has been signed out.", session.device),
                ),
                Err(error) if error.code() == Some(ProblemCode::NotFound) => (
                    Tone::Info,
                    format!("{} was already signed out.", session.device),
                ),
                Err(error) => (Tone::Error, error.message()),
            }));
            load();
        });
    };

    let row = move |session: SessionInfo| {
        let info_id = format!("session-{}", session.id);
        let button = (!session.current).then(|| {
            let id = session.id;
            let session = session.clone();
            view! {
                <button
                    type="button"
                    class="button secondary"
                    aria-describedby=info_id.clone()
                    disabled=move || ending.get().is_some()
                    aria-busy=move || (ending.get() == Some(id)).to_string()
                    on:click=move |_| end(session.clone())
                >
                    {move || if ending.get() == Some(id) { "Signing out…" } else { "Sign out this device" }}
                </button>
            }
        });
        let ip = session
            .ip_address
            .clone()
            .unwrap_or_else(|| "unknown".to_owned());
        view! {
            <li class="session">
                <div class="session-info" id=info_id.clone()>
                    <p class="session-device">
                        <strong>{session.device.clone()}</strong>
                        {session.current.then(|| view! { <span class="badge">"This device"</span> })}
                    </p>
                    <p class="meta">
                        "IP address " {ip} " · Last used "
                        <LocalTime at=session.last_used_at.clone()/>
                        " · Signed in "
                        <LocalTime at=session.created_at.clone()/>
                    </p>
                </div>
                {button}
            </li>
        }
    };

    view! {
        <Announcement message=announcement/>
        {move || match sessions.get() {
            None => view! { <Loading label="Loading your sessions…"/> }.into_any(),
            Some(list) => view! {
                <ul class="sessions" aria-labelledby="sessions-heading" aria-busy=move || loading.get().to_string()>
                    {list.into_iter().map(row).collect_view()}
                </ul>
            }
                .into_any(),
        }}
        <div>
            <button type="button" class="button secondary" disabled=move || loading.get() on:click=move |_| load()>
                "Refresh the list"
            </button>
        </div>
    }
}
