use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::{
    api::{
        types::{ChangePasswordRequest, SessionInfo, UpdateProfileRequest, User},
        values::SessionId,
        ProblemCode,
    },
    auth::{use_auth, AuthStatus},
    components::{
        form::{Announcement, Field, SubmitButton, TextField, Tone},
        guard::RequireAuth,
        layout::Loading,
    },
    routes::Page,
    validation::{check_name, check_password},
};

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
    let load_profile = move || {
        let Some(client) = auth.client() else { return };
        spawn_local(async move {
            match client.me().await {
                Ok(user) => profile.set(Some(user)),
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    };
    Effect::new(move |_| load_profile());

    view! {
        <div class="stack">
            <Announcement message=announcement/>
            {move || match profile.get() {
                None => view! { <Loading label="Loading your profile…"/> }.into_any(),
                Some(user) => view! {
                    <div class="card stack" data-testid="profile">
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
                            <dd>{user.created_at.split('T').next().unwrap_or_default().to_owned()}</dd>
                        </dl>
                        <div>
                            <button type="button" class="button secondary" on:click=move |_| load_profile()>
                                "Reload profile"
                            </button>
                        </div>
                    </div>
                    <RenameForm current=user.name.to_string() profile=profile announcement=announcement/>
                }
                    .into_any(),
            }}
            <ChangePasswordForm sessions_changed=sessions_changed/>
            <SessionActions announcement=announcement sessions_changed=sessions_changed/>
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
        <form class="card form" novalidate=true on:submit=on_submit aria-label="Change your name">
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

    let sign_out = {
        let navigate = navigate.clone();
        move |everywhere: bool| {
            pending.set(true);
            let navigate = navigate.clone();
            spawn_local(async move {
                let outcome = if everywhere {
                    auth.logout_everywhere().await
                } else {
                    auth.logout().await
                };
                pending.set(false);
                match outcome {
                    Ok(()) => navigate(Page::Login.path(), Default::default()),
                    Err(error) => announcement.set(Some((Tone::Error, error.message()))),
                }
            });
        }
    };
    let sign_out_here = {
        let sign_out = sign_out.clone();
        move |_| sign_out(false)
    };
    let sign_out_everywhere = move |_| sign_out(true);

    view! {
        <div class="card stack">
            <h2 id="sessions-heading">"Where you're signed in"</h2>
            <SessionList sessions_changed=sessions_changed/>
            <p>"Signing out everywhere ends this session and every other one, on all your devices."</p>
            <div class="actions">
                <button type="button" class="button secondary" disabled=move || pending.get() on:click=sign_out_here>
                    "Sign out"
                </button>
                <button type="button" class="button danger" disabled=move || pending.get() on:click=sign_out_everywhere>
                    "Sign out everywhere"
                </button>
            </div>
        </div>
    }
}

#[component]
fn ChangePasswordForm(sessions_changed: RwSignal<u32>) -> impl IntoView {
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
            <form class="form" novalidate=true on:submit=on_submit aria-labelledby="change-password-heading">
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
fn SessionList(sessions_changed: RwSignal<u32>) -> impl IntoView {
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
                        <time datetime=session.last_used_at.clone()>{local_time(&session.last_used_at)}</time>
                        " · Signed in "
                        <time datetime=session.created_at.clone()>{local_time(&session.created_at)}</time>
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

/// A timestamp for people: in the browser, local time in the browser's
/// format; elsewhere (or if the browser cannot read it) the UTC minute.
fn local_time(rfc3339: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    if let Some(text) = browser_local_time(rfc3339) {
        return text;
    }
    utc_minute(rfc3339)
}

#[cfg(target_arch = "wasm32")]
fn browser_local_time(rfc3339: &str) -> Option<String> {
    use wasm_bindgen::JsValue;

    let date = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return None;
    }
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into()).ok()?;
    js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into()).ok()?;
    js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &options)
        .format()
        .call1(&JsValue::UNDEFINED, &date)
        .ok()?
        .as_string()
}

/// `2026-11-26T10:11:12.345Z` → `2026-11-26 10:11 UTC`.
fn utc_minute(rfc3339: &str) -> String {
    let Some((date, time)) = rfc3339.split_once('T') else {
        return rfc3339.to_owned();
    };
    let Some(minute) = time.get(..5) else {
        return rfc3339.to_owned();
    };
    if time.ends_with('Z') || time.ends_with("+00:00") {
        format!("{date} {minute} UTC")
    } else {
        rfc3339.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::utc_minute;

    #[test]
    fn times_fall_back_to_the_utc_minute() {
        assert_eq!(
            utc_minute("2026-11-26T10:11:12.345Z"),
            "2026-11-26 10:11 UTC"
        );
        assert_eq!(
            utc_minute("2026-11-26T10:11:12+00:00"),
            "2026-11-26 10:11 UTC"
        );
        assert_eq!(
            utc_minute("2026-11-26T10:11:12+02:00"),
            "2026-11-26T10:11:12+02:00"
        );
        assert_eq!(utc_minute("yesterday"), "yesterday");
    }
}
