//! The account page: the profile, renaming, signing out; the security
//! part (password, devices) is in `security`, passkeys in `passkeys`, the email address in
//! `email`, the download of the account's data in `your_data`, and its
//! deletion in `danger_zone`.

mod authenticator_setup;
mod danger_zone;
mod email;
mod passkeys;
mod recovery_codes;
mod security;
mod two_factor;
mod your_data;

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::{
    api::types::{UpdateProfileRequest, User},
    auth::use_auth,
    components::{
        activity::{ActivityLog, Whose},
        form::{Announcement, Field, SubmitButton, TextField, Tone},
        guard::RequireAuth,
        layout::Loading,
        time::LocalTime,
    },
    routes::Page,
    validation::check_name,
};
use security::{ChangePasswordForm, SessionList};

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Your account"/>
        <section class="narrow">
            <h1 class="page-title">"Your account"</h1>
            <RequireAuth>
                <AccountDetails/>
            </RequireAuth>
        </section>
    }
}

#[component]
fn AccountDetails() -> impl IntoView {
    let auth = use_auth();
    let profile = RwSignal::new(None::<User>);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    // Bumped when the list of sessions may have changed.
    let sessions_changed = RwSignal::new(0u32);

    // The profile comes from the API, not from the login answer: it is
    // the current state of the account.
    Effect::new(move |_| {
        let Some(client) = auth.client() else { return };
        spawn_local(async move {
            match client.me().await {
                Ok(user) => profile.set(Some(user)),
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    });

    view! {
        <div class="stack">
            <Announcement message=announcement/>
            {move || match profile.get() {
                None => view! { <Loading label="Loading your profile…"/> }.into_any(),
                Some(user) => view! {
                    <section class="card stack" data-testid="profile" aria-labelledby="profile-heading">
                        <h2 id="profile-heading">"Profile"</h2>
                        <dl class="profile">
                            <dt>"Name"</dt>
                            <dd data-testid="profile-name">{user.name.to_string()}</dd>
                            <dt>"Email"</dt>
                            <dd data-testid="profile-email">{user.email.to_string()}</dd>
                            <dt>"Email verified"</dt>
                            <dd>{if user.email_verified { "Yes" } else { "No" }}</dd>
                            <dt>"Role"</dt>
                            <dd>{user.role.as_str()}</dd>
                            <dt>"Member since"</dt>
                            <dd><LocalTime at=user.created_at.clone()/></dd>
                        </dl>
                    </section>
                    <RenameForm current=user.name.to_string() profile=profile announcement=announcement/>
                }
                    .into_any(),
            }}
            <email::EmailSettings/>
            <ChangePasswordForm sessions_changed=sessions_changed/>
            <passkeys::PasskeySettings sessions_changed=sessions_changed/>
            <two_factor::TwoFactorSettings sessions_changed=sessions_changed/>
            <SessionActions announcement=announcement sessions_changed=sessions_changed/>
            <section class="card stack" aria-labelledby="activity-heading">
                <h2 id="activity-heading">"Recent activity"</h2>
                <p>"Sign-ins, failed attempts, password changes and sign-outs on your account. Something you don't recognise? Change your password and sign out everywhere."</p>
                <ActivityLog whose=Whose::Mine labelled_by="activity-heading"/>
            </section>
            <your_data::YourData/>
            <danger_zone::DangerZone/>
        </div>
    }
}

#[component]
fn RenameForm(
    current: String,
    profile: RwSignal<Option<User>>,
    announcement: RwSignal<Option<(Tone, String)>>,
) -> impl IntoView {
    let auth = use_auth();
    let name = Field::new();
    name.value.set(current);
    let submitted = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let name_error = name.error(submitted, |value| check_name(value).map(|_| ()));

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submitted.set(true);
        if name_error.get_untracked().is_some() {
            return;
        }
        let Some(client) = auth.client() else { return };
        let request = UpdateProfileRequest {
            name: name.value.get_untracked(),
        };
        pending.set(true);
        spawn_local(async move {
            let outcome = client.update_profile(&request).await;
            pending.set(false);
            match outcome {
                Ok(user) => {
                    announcement.set(Some((Tone::Success, "Your name has been saved.".into())));
                    profile.set(Some(user));
                }
                Err(error) => {
                    name.server_error.set(error.field_message("name"));
                    announcement.set(Some((Tone::Error, error.message())));
                }
            }
        });
    };

    view! {
        <form class="card form" method="post" novalidate=true on:submit=on_submit aria-labelledby="rename-heading">
            <h2 id="rename-heading">"Change your name"</h2>
            <TextField id="name" label="Name" autocomplete="name" field=name error=name_error/>
            <div>
                <SubmitButton label="Save name" pending_label="Saving…" pending=pending/>
            </div>
        </form>
    }
}

#[component]
fn SessionActions(
    announcement: RwSignal<Option<(Tone, String)>>,
    sessions_changed: RwSignal<u32>,
) -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let pending = RwSignal::new(false);

    // Signing out of this device alone is in the header, as on every page.
    let sign_out_everywhere = move |_| {
        pending.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let outcome = auth.logout_everywhere().await;
            pending.set(false);
            match outcome {
                Ok(()) => navigate(Page::Login.path(), Default::default()),
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    };

    view! {
        <div class="card stack">
            <h2 id="sessions-heading">"Where you're signed in"</h2>
            <SessionList sessions_changed=sessions_changed/>
            <p>"Signing out everywhere ends this session and every other one, on all your devices."</p>
            <div class="actions">
                <button type="button" class="button danger" disabled=move || pending.get() on:click=sign_out_everywhere>
                    "Sign out everywhere"
                </button>
            </div>
        </div>
    }
}
