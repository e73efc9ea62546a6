//! Admins only: the accounts, searched and paged, with their role and
//! whether they may sign in, and a way back in for a user who lost the
//! phone with their authenticator app (their two-step verification
//! removed), and deleting an account (after a confirmation that names it).
//! Each change asks for a recent sign-in: the API client opens the
//! re-authentication dialog when it is older.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;

use crate::{
    api::{
        endpoints::{DeleteUser, ListUsers, RemoveUserTotp, UpdateUser},
        types::{ListQuery, UpdateUserRequest, User},
        values::{Role, UserId},
        ProblemCode,
    },
    auth::use_auth,
    components::{
        activity::{ActivityLog, Whose},
        confirm::ConfirmAction,
        form::{Announcement, Tone},
        guard::{Forbidden, RequireAdmin, RequireAuth},
        layout::Loading,
        list::{ListPosition, Pager, SearchBox},
    },
};

const PAGE_SIZE: u32 = 20;

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    view! {
        <Title text="Users"/>
        <section class="wide">
            <h1 class="page-title">"Users"</h1>
            <RequireAuth>
                <RequireAdmin>
                    <UserAdmin/>
                </RequireAdmin>
            </RequireAuth>
        </section>
    }
    .into_any()
}

#[component]
fn UserAdmin() -> impl IntoView {
    let auth = use_auth();
    let position = ListPosition::new();
    let users = RwSignal::new(None::<Vec<User>>);
    let loading = RwSignal::new(false);
    let forbidden = RwSignal::new(false);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    let busy = RwSignal::new(None::<UserId>);
    // Whose activity is shown under the list.
    let watched = RwSignal::new(None::<(UserId, String)>);
    let latest = RwSignal::new(0u64);
    // Asks for the list again. A change that lands while a list request
    // is in flight uses it: that answer may have been read before the
    // change, and would bring back the row it deleted or changed.
    let reload = Trigger::new();
    let me = auth.user().map(|user| user.id);
    // The account the last "Delete…" named; the question shows while
    // `confirming`.
    let deleting = RwSignal::new(None::<User>);
    let confirming = RwSignal::new(false);

    Effect::new(move |_| {
        reload.track();
        let query = ListQuery {
            q: position.search(),
            limit: Some(PAGE_SIZE),
            cursor: position.cursor(),
        };
        let Some(client) = auth.client() else { return };
        let number = latest.get_untracked() + 1;
        latest.set(number);
        loading.set(true);
        spawn_local(async move {
            let outcome = client.call::<ListUsers>(query, &()).await;
            if latest.try_get_untracked() != Some(number) {
                return;
            }
            loading.set(false);
            match outcome {
                Ok(page) => {
                    position.next_cursor.set(page.next_cursor);
                    users.set(Some(page.users));
                }
                // The role changed since the page was opened.
                Err(error) if error.code() == Some(ProblemCode::Forbidden) => forbidden.set(true),
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    });

    let settle = move || {
        if loading.get_untracked() {
            reload.notify();
        }
    };

    let change = move |user: User, request: UpdateUserRequest| {
        let Some(client) = auth.client() else { return };
        busy.set(Some(user.id));
        announcement.set(None);
        spawn_local(async move {
            let outcome = client.call::<UpdateUser>(user.id, &request).await;
            busy.set(None);
            match outcome {
                Ok(updated) => {
                    let name = updated.name.to_string();
                    let what = match (request.role, request.disabled) {
                        (Some(Role::Admin), _) => format!("{name} is now an admin."),
                        (Some(Role::User), _) => format!("{name} is no longer an admin."),
                        (_, Some(true)) => format!("{name} is disabled and cannot sign in."),
                        _ => format!("{name} is enabled and can sign in again."),
                    };
                    let sessions = if request.disabled == Some(false) {
                        String::new()
                    } else {
                        " They have been signed out everywhere.".to_owned()
                    };
                    announcement.set(Some((Tone::Success, format!("{what}{sessions}"))));
                    users.update(|list| {
                        if let Some(list) = list {
                            for row in list.iter_mut().filter(|row| row.id == updated.id) {
                                *row = updated.clone();
                            }
                        }
                    });
                    settle();
                    // Changing one's own account ended this session too:
                    // find out now rather than at the next click.
                    if Some(updated.id) == me && request.disabled != Some(false) {
                        let _ = client.me().await;
                    }
                }
                Err(error) if error.code() == Some(ProblemCode::LastAdmin) => {
                    announcement.set(Some((
                        Tone::Error,
                        format!(
                            "{} is the last enabled admin, so they must stay an enabled admin. Make someone else an admin first.",
                            user.name
                        ),
                    )));
                }
                Err(error) if error.code() == Some(ProblemCode::Forbidden) => forbidden.set(true),
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    };

    // Whether the user has an authenticator app is not part of the list:
    // the server says so when there is none to remove.
    let remove_totp = move |user: User| {
        let Some(client) = auth.client() else { return };
        busy.set(Some(user.id));
        announcement.set(None);
        spawn_local(async move {
            let outcome = client.call::<RemoveUserTotp>(user.id, &()).await;
            busy.set(None);
            let name = &user.name;
            let message = match outcome {
                Ok(()) => (
                    Tone::Success,
                    format!("{name}'s two-step verification is removed: they sign in with their password alone and have been signed out everywhere. They have been emailed about it."),
                ),
                Err(error) if error.code() == Some(ProblemCode::SecondFactorNotEnabled) => (
                    Tone::Info,
                    format!("{name} does not use two-step verification: there is nothing to remove."),
                ),
                Err(error) if error.code() == Some(ProblemCode::Forbidden) => {
                    forbidden.set(true);
                    return;
                }
                Err(error) => (Tone::Error, error.message()),
            };
            announcement.set(Some(message));
        });
    };

    let delete = Callback::new(move |()| {
        let Some(user) = deleting.get_untracked() else {
            return;
        };
        let Some(client) = auth.client() else { return };
        busy.set(Some(user.id));
        announcement.set(None);
        spawn_local(async move {
            let outcome = client.call::<DeleteUser>(user.id, &()).await;
            busy.set(None);
            confirming.set(false);
            let name = &user.name;
            let message = match outcome {
                Err(error) if error.code() == Some(ProblemCode::Forbidden) => {
                    forbidden.set(true);
                    return;
                }
                // Already gone is as good as deleted.
                Err(error) if error.code() != Some(ProblemCode::NotFound) => {
                    (Tone::Error, error.message())
                }
                _ => {
                    users.update(|list| {
                        if let Some(list) = list {
                            list.retain(|row| row.id != user.id);
                        }
                    });
                    settle();
                    if watched.with_untracked(
                        |watched| matches!(watched, Some((id, _)) if *id == user.id),
                    ) {
                        watched.set(None);
                    }
                    (Tone::Success, format!("{name}'s account and everything in it is deleted; they were signed out everywhere."))
                }
            };
            announcement.set(Some(message));
        });
    });
    let question = Signal::derive(move || {
        deleting.with(|user| match user {
            Some(user) => format!(
                "Delete the account of {} ({}) and everything in it?",
                user.name, user.email
            ),
            None => String::new(),
        })
    });

    let row = move |user: User| {
        let info_id = format!("user-{}", user.id);
        let id = user.id;
        let is_admin = user.role == Role::Admin;
        let role_label = if is_admin {
            "Remove admin role"
        } else {
            "Make admin"
        };
        let disable_label = if user.disabled { "Enable" } else { "Disable" };
        let role_request = UpdateUserRequest {
            role: Some(if is_admin { Role::User } else { Role::Admin }),
            disabled: None,
        };
        let disable_request = UpdateUserRequest {
            role: None,
            disabled: Some(!user.disabled),
        };
        let for_role = user.clone();
        let for_disable = user.clone();
        let for_totp = user.clone();
        let for_delete = user.clone();
        let is_me = Some(user.id) == me;
        let for_activity = (user.id, user.name.to_string());
        view! {
            <tr data-testid="user-row">
                <td id=info_id.clone()>
                    {user.name.to_string()}
                    {(Some(user.id) == me).then(|| view! { " " <span class="badge">"You"</span> })}
                </td>
                <td>{user.email.to_string()}</td>
                <td>{if is_admin { "Admin" } else { "User" }}</td>
                <td>
                    {if user.disabled { "Disabled" } else { "Active" }}
                    {(!user.email_verified).then_some(" · email not confirmed")}
                </td>
                <td class="row-actions">
                    <button
                        type="button"
                        class="button secondary"
                        aria-describedby=info_id.clone()
                        disabled=move || busy.get().is_some()
                        aria-busy=move || (busy.get() == Some(id)).to_string()
                        on:click=move |_| change(for_role.clone(), role_request.clone())
                    >
                        {role_label}
                    </button>
                    <button
                        type="button"
                        class=if user.disabled { "button secondary" } else { "button danger" }
                        aria-describedby=info_id.clone()
                        disabled=move || busy.get().is_some()
                        on:click=move |_| change(for_disable.clone(), disable_request.clone())
                    >
                        {disable_label}
                    </button>
                    <button
                        type="button"
                        class="button secondary"
                        aria-describedby=info_id.clone()
                        disabled=move || busy.get().is_some()
                        on:click=move |_| remove_totp(for_totp.clone())
                    >
                        "Remove two-step verification"
                    </button>
                    {(!is_me).then(|| view! {
                        <button
                            type="button"
                            class="button danger"
                            aria-describedby=info_id.clone()
                            aria-controls="delete-user"
                            disabled=move || busy.get().is_some()
                            on:click=move |_| {
                                deleting.set(Some(for_delete.clone()));
                                confirming.set(true);
                            }
                        >
                            "Delete…"
                        </button>
                    })}
                    <button
                        type="button"
                        class="button secondary"
                        aria-describedby=info_id.clone()
                        aria-controls="user-activity"
                        on:click=move |_| watched.set(Some(for_activity.clone()))
                    >
                        "Activity"
                    </button>
                </td>
            </tr>
        }
    };

    view! {
        <Show when=move || !forbidden.get() fallback=|| view! { <Forbidden/> }>
            <div class="stack">
                <p class="lead">
                    "Making someone an admin, removing their admin role or disabling their account signs them out on every device; a disabled account cannot sign in until it is enabled again. "
                    <strong>"There must always be at least one enabled admin:"</strong>
                    " the last one can be neither made a user nor disabled (make someone else an admin first). "
                    "Removing someone's two-step verification (when they lost their authenticator app) lets them sign in with their password alone, and signs them out everywhere."
                </p>
                <SearchBox
                    id="users-search"
                    label="Search users"
                    hint="Any part of a name or an email address; the list follows as you type."
                    position=position
                />
                <Announcement message=announcement/>
                <div id="delete-user">
                    <ConfirmAction
                        id="confirm-delete-user"
                        question=question
                        detail="They are signed out everywhere at once, and their sessions, two-step verification, activity and waiting mail are erased. People they added to the directory stay, without their name. This cannot be undone."
                        confirm_label="Yes, delete the account"
                        pending_label="Deleting…"
                        confirming=confirming
                        pending=Signal::derive(move || busy.get().is_some())
                        on_confirm=delete
                    />
                </div>
                {move || match users.get() {
                    None => view! { <Loading label="Loading users…"/> }.into_any(),
                    Some(list) if list.is_empty() => view! {
                        <p role="status" data-testid="users-empty">
                            {match position.search() {
                                Some(search) => format!("No account matches “{search}”."),
                                None => "No accounts on this page.".to_owned(),
                            }}
                        </p>
                    }
                        .into_any(),
                    Some(list) => view! {
                        <div class="table-scroll">
                            <table class="list" aria-label="Users" aria-busy=move || loading.get().to_string()>
                                <thead>
                                    <tr>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"Email"</th>
                                        <th scope="col">"Role"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Actions"</th>
                                    </tr>
                                </thead>
                                <tbody>{list.into_iter().map(row).collect_view()}</tbody>
                            </table>
                        </div>
                    }
                        .into_any(),
                }}
                <Pager position=position loading=loading/>
                <section id="user-activity" class="card stack" aria-labelledby="user-activity-heading" hidden=move || watched.get().is_none()>
                    {move || watched.get().map(|(id, name)| view! {
                        <h2 id="user-activity-heading">{format!("Recent activity of {name}")}</h2>
                        <ActivityLog whose=Whose::User(id) labelled_by="user-activity-heading"/>
                    })}
                </section>
            </div>
        </Show>
    }
    .into_any()
}
