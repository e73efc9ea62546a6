//! One person's page: view, edit with the version that was read (a
//! conflict is shown, never overwritten), delete for admins.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

use crate::{
    api::{
        endpoints::{DeletePerson, GetPerson, UpdatePerson},
        types::Person,
        values::{PersonId, Role},
        ProblemCode,
    },
    auth::use_auth,
    components::{
        form::{Announcement, SubmitButton, Tone},
        guard::RequireAuth,
        layout::Loading,
    },
    routes::Page,
};

use super::form::{save_failure, PersonFields, PersonForm};
use crate::components::{confirm::ConfirmAction, time::LocalTime};

#[component]
pub fn PersonPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .with(|params| params.get(Page::PERSON_ID))
            .and_then(|raw| raw.parse::<PersonId>().ok())
    });
    // The server reads the title again as it writes the head, possibly
    // outside the render's arena, where an arena signal panics (a 500).
    let title = ArcRwSignal::new("Person".to_owned());
    let heading = RwSignal::from(&title);

    view! {
        <Title text=move || title.get()/>
        <section class="narrow">
            <p class="breadcrumb"><A href=Page::People.path()>"← All people"</A></p>
            <h1 class="page-title">{move || heading.get()}</h1>
            <RequireAuth>
                {move || match id.get() {
                    Some(id) => view! { <PersonDetails id=id heading=heading/> }.into_any(),
                    None => view! { <PersonMissing/> }.into_any(),
                }}
            </RequireAuth>
        </section>
    }
    .into_any()
}

#[component]
fn PersonMissing() -> impl IntoView {
    view! {
        <div class="card stack" data-testid="person-missing">
            <p>"This person is not in the directory: the address is wrong, or someone deleted them."</p>
            <p><A href=Page::People.path()>"Back to the list of people"</A></p>
        </div>
    }
    .into_any()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Loaded {
    Loading,
    Found,
    Missing,
    Deleted(String),
    Failed,
}

#[component]
fn PersonDetails(id: PersonId, heading: RwSignal<String>) -> impl IntoView {
    let auth = use_auth();
    let person = RwSignal::new(None::<Person>);
    // The version that was read: a save replaces only that version.
    let etag = RwSignal::new(None::<String>);
    let state = RwSignal::new(Loaded::Loading);
    let editing = RwSignal::new(false);
    let conflict = RwSignal::new(false);
    let reloading = RwSignal::new(false);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    let form = PersonForm::new();

    let load = move |after: Option<(Tone, String)>| {
        let Some(client) = auth.client() else { return };
        reloading.set(true);
        spawn_local(async move {
            let outcome = client.call_versioned::<GetPerson>(id, &(), None).await;
            reloading.set(false);
            match outcome {
                Ok(answer) => {
                    heading.set(answer.value.name.clone());
                    form.fill(&answer.value);
                    etag.set(answer.etag);
                    person.set(Some(answer.value));
                    conflict.set(false);
                    if state.get_untracked() != Loaded::Found {
                        state.set(Loaded::Found);
                    }
                    announcement.set(after);
                }
                Err(error) if error.code() == Some(ProblemCode::NotFound) => {
                    heading.set("Person not found".to_owned());
                    state.set(Loaded::Missing);
                }
                Err(error) => {
                    if state.get_untracked() == Loaded::Loading {
                        state.set(Loaded::Failed);
                    }
                    announcement.set(Some((Tone::Error, error.message())));
                }
            }
        });
    };
    Effect::new(move |_| load(None));

    view! {
        <div class="stack">
            <Announcement message=announcement/>
            {move || match state.get() {
                Loaded::Loading => view! { <Loading label="Loading this person…"/> }.into_any(),
                Loaded::Missing => view! { <PersonMissing/> }.into_any(),
                Loaded::Failed => view! {
                    <div>
                        <button type="button" class="button secondary" on:click=move |_| load(None)>"Try again"</button>
                    </div>
                }
                    .into_any(),
                Loaded::Deleted(name) => view! {
                    <div class="card stack" data-testid="person-deleted">
                        <p>{format!("{name} has been deleted from the directory.")}</p>
                        <p><A href=Page::People.path()>"Back to the list of people"</A></p>
                    </div>
                }
                    .into_any(),
                Loaded::Found => view! {
                    <Show
                        when=move || editing.get()
                        fallback=move || view! {
                            <PersonView person=person editing=editing state=state announcement=announcement/>
                        }
                    >
                        <EditPerson
                            id=id
                            form=form
                            person=person
                            etag=etag
                            editing=editing
                            conflict=conflict
                            reloading=reloading
                            heading=heading
                            state=state
                            announcement=announcement
                            load=load
                        />
                    </Show>
                }
                    .into_any(),
            }}
        </div>
    }
    .into_any()
}

#[component]
fn PersonView(
    person: RwSignal<Option<Person>>,
    editing: RwSignal<bool>,
    state: RwSignal<Loaded>,
    announcement: RwSignal<Option<(Tone, String)>>,
) -> impl IntoView {
    let auth = use_auth();
    let is_admin = move || auth.user().is_some_and(|user| user.role == Role::Admin);
    let details = move || {
        person.get().map(|person| {
            let email = person.email.map(|email| {
                let address = email.to_string();
                view! { <a href=format!("mailto:{address}")>{address.clone()}</a> }
            });
            view! {
                <dl class="profile" data-testid="person-details">
                    <dt>"Name"</dt>
                    <dd data-testid="person-name">{person.name}</dd>
                    <dt>"Email"</dt>
                    <dd data-testid="person-email">{email}</dd>
                    <dt>"Phone"</dt>
                    <dd data-testid="person-phone">{person.phone.unwrap_or_default()}</dd>
                    <dt>"Notes"</dt>
                    <dd class="notes" data-testid="person-notes">{person.notes.unwrap_or_default()}</dd>
                    <dt>"Last changed"</dt>
                    <dd><LocalTime at=person.updated_at.clone()/></dd>
                </dl>
            }
        })
    };
    view! {
        <div class="card stack">
            {details}
            <div class="actions">
                <button
                    type="button"
                    class="button"
                    on:click=move |_| {
                        announcement.set(None);
                        editing.set(true);
                    }
                >
                    "Edit"
                </button>
            </div>
        </div>
        <Show when=is_admin>
            <DeletePersonAction person=person state=state announcement=announcement/>
        </Show>
    }
    .into_any()
}

#[component]
#[allow(clippy::too_many_arguments)]
fn EditPerson(
    id: PersonId,
    form: PersonForm,
    person: RwSignal<Option<Person>>,
    etag: RwSignal<Option<String>>,
    editing: RwSignal<bool>,
    conflict: RwSignal<bool>,
    reloading: RwSignal<bool>,
    heading: RwSignal<String>,
    state: RwSignal<Loaded>,
    announcement: RwSignal<Option<(Tone, String)>>,
    load: impl Fn(Option<(Tone, String)>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let auth = use_auth();
    let pending = RwSignal::new(false);

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        announcement.set(None);
        let Some(input) = form.submit() else {
            announcement.set(Some((
                Tone::Error,
                "Please correct the fields below.".into(),
            )));
            return;
        };
        let Some(client) = auth.client() else { return };
        let version = etag.get_untracked();
        pending.set(true);
        spawn_local(async move {
            let outcome = client
                .call_versioned::<UpdatePerson>(id, &input, version.as_deref())
                .await;
            pending.set(false);
            match outcome {
                Ok(answer) => {
                    heading.set(answer.value.name.clone());
                    form.fill(&answer.value);
                    etag.set(answer.etag);
                    person.set(Some(answer.value));
                    conflict.set(false);
                    editing.set(false);
                    announcement.set(Some((
                        Tone::Success,
                        "Your changes have been saved.".into(),
                    )));
                }
                // Never a silent overwrite: the server refused, nothing changed.
                Err(error) if error.code() == Some(ProblemCode::PreconditionFailed) => {
                    conflict.set(true);
                }
                Err(error) if error.code() == Some(ProblemCode::NotFound) => {
                    heading.set("Person not found".to_owned());
                    state.set(Loaded::Missing);
                }
                Err(error) => {
                    form.show_server_errors(&error);
                    announcement.set(Some((Tone::Error, save_failure(&error))));
                }
            }
        });
    };

    let cancel = move |_| {
        if let Some(current) = person.get_untracked() {
            form.fill(&current);
        }
        conflict.set(false);
        editing.set(false);
    };
    let reload = move |_| {
        load(Some((
            Tone::Info,
            "This is the person as they are now. Make your changes again and save.".into(),
        )))
    };

    view! {
        <Show when=move || conflict.get()>
            <div class="banner error" role="alert" data-testid="edit-conflict">
                <p><strong>"Someone changed this person since you opened it."</strong></p>
                <p>"Your changes have not been saved, and theirs have not been overwritten. Reload to see the person as they are now (what you typed here will be replaced), then make your changes again."</p>
                <div class="actions">
                    <button
                        type="button"
                        class="button"
                        disabled=move || reloading.get()
                        aria-busy=move || reloading.get().to_string()
                        on:click=reload
                    >
                        "Reload"
                    </button>
                </div>
            </div>
        </Show>
        <form class="card form" method="post" novalidate=true on:submit=on_submit aria-label="Edit person">
            <PersonFields form=form/>
            <div class="actions">
                <SubmitButton label="Save changes" pending_label="Saving…" pending=pending/>
                <button type="button" class="button secondary" on:click=cancel>"Cancel"</button>
            </div>
        </form>
    }
    .into_any()
}

/// "Delete person", for admins, with a confirmation first.
#[component]
fn DeletePersonAction(
    person: RwSignal<Option<Person>>,
    state: RwSignal<Loaded>,
    announcement: RwSignal<Option<(Tone, String)>>,
) -> impl IntoView {
    let auth = use_auth();
    let confirming = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let question = Signal::derive(move || {
        person.with(|person| {
            format!(
                "Delete {}?",
                person.as_ref().map(|p| p.name.as_str()).unwrap_or_default()
            )
        })
    });

    let delete = Callback::new(move |()| {
        let Some(current) = person.get_untracked() else {
            return;
        };
        let Some(client) = auth.client() else { return };
        pending.set(true);
        announcement.set(None);
        spawn_local(async move {
            let outcome = client.call::<DeletePerson>(current.id, &()).await;
            pending.set(false);
            confirming.set(false);
            match outcome {
                Ok(()) => state.set(Loaded::Deleted(current.name)),
                Err(error) if error.code() == Some(ProblemCode::Forbidden) => {
                    announcement.set(Some((
                        Tone::Error,
                        format!(
                            "Only admins can delete people, and your account is not an admin account. {} has not been deleted.",
                            current.name
                        ),
                    )));
                }
                Err(error) if error.code() == Some(ProblemCode::NotFound) => {
                    state.set(Loaded::Deleted(current.name));
                }
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    });

    view! {
        <div class="card stack">
            <h2>"Delete"</h2>
            <p>"Deleting removes this person from the directory for everyone."</p>
            <ConfirmAction
                id="confirm-delete"
                ask_label="Delete person"
                question=question
                detail="This cannot be undone."
                confirm_label="Yes, delete"
                pending_label="Deleting…"
                confirming=confirming
                pending=pending
                on_confirm=delete
            />
        </div>
    }
    .into_any()
}
