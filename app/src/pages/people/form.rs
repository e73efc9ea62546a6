//! Adding a person, and the fields a person is edited with.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_navigate};

use crate::{
    api::{
        endpoints::CreatePerson,
        types::{Person, PersonInput},
        ProblemCode,
    },
    api_client::ClientError,
    auth::use_auth,
    components::{
        form::{Announcement, Field, SubmitButton, TextArea, TextField, Tone},
        guard::RequireAuth,
    },
    routes::Page,
    validation::validate_person,
};

/// The four fields of a person, as typed.
#[derive(Clone, Copy)]
pub(super) struct PersonForm {
    pub(super) name: Field,
    pub(super) email: Field,
    pub(super) phone: Field,
    pub(super) notes: Field,
    pub(super) submitted: RwSignal<bool>,
}

impl PersonForm {
    pub(super) fn new() -> Self {
        Self {
            name: Field::new(),
            email: Field::new(),
            phone: Field::new(),
            notes: Field::new(),
            submitted: RwSignal::new(false),
        }
    }

    pub(super) fn fields(self) -> [(&'static str, Field); 4] {
        [
            ("name", self.name),
            ("email", self.email),
            ("phone", self.phone),
            ("notes", self.notes),
        ]
    }

    pub(super) fn input(self) -> PersonInput {
        PersonInput {
            name: self.name.value.get(),
            email: self.email.value.get(),
            phone: self.phone.value.get(),
            notes: self.notes.value.get(),
        }
    }

    /// Shows `person` as it is now, forgetting what was typed.
    pub(super) fn fill(self, person: &Person) {
        self.name.value.set(person.name.clone());
        self.email.value.set(
            person
                .email
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        );
        self.phone
            .value
            .set(person.phone.clone().unwrap_or_default());
        self.notes
            .value
            .set(person.notes.clone().unwrap_or_default());
        for (_, field) in self.fields() {
            field.touched.set(false);
            field.server_error.set(None);
        }
        self.submitted.set(false);
    }

    /// The shared rules' verdict on one field, once visited or submitted;
    /// the server's message first.
    pub(super) fn error(self, name: &'static str, field: Field) -> Signal<Option<String>> {
        Signal::derive(move || {
            if let Some(message) = field.server_error.get() {
                return Some(message);
            }
            if !(field.touched.get() || self.submitted.get()) {
                return None;
            }
            validate_person(&self.input()).err().and_then(|errors| {
                errors
                    .into_iter()
                    .find(|error| error.field == name)
                    .map(|error| error.message)
            })
        })
    }

    /// Submits the form: `Some(input)` when the shared rules accept it.
    pub(super) fn submit(self) -> Option<PersonInput> {
        self.submitted.set(true);
        let input = untrack(|| self.input());
        validate_person(&input).is_ok().then_some(input)
    }

    pub(super) fn show_server_errors(self, error: &ClientError) {
        for (name, field) in self.fields() {
            field.server_error.set(error.field_message(name));
        }
    }
}

/// The message for a refused save.
pub(super) fn save_failure(error: &ClientError) -> String {
    if error.code() == Some(ProblemCode::ValidationFailed) {
        "Please correct the fields below.".to_owned()
    } else {
        error.message()
    }
}

#[component]
pub(super) fn PersonFields(form: PersonForm) -> impl IntoView {
    view! {
        <TextField id="name" label="Name" autocomplete="off" field=form.name error=form.error("name", form.name)/>
        <TextField
            id="email"
            label="Email"
            input_type="email"
            autocomplete="off"
            field=form.email
            error=form.error("email", form.email)
            hint="Optional."
        />
        <TextField
            id="phone"
            label="Phone"
            input_type="tel"
            autocomplete="off"
            field=form.phone
            error=form.error("phone", form.phone)
            hint="Optional, like +44 20 7946 0958."
        />
        <TextArea
            id="notes"
            label="Notes"
            field=form.notes
            error=form.error("notes", form.notes)
            hint="Optional, up to 2000 characters."
        />
    }
    .into_any()
}

#[component]
pub fn NewPersonPage() -> impl IntoView {
    view! {
        <Title text="Add a person"/>
        <section class="narrow">
            <h1 class="page-title">"Add a person"</h1>
            <RequireAuth>
                <NewPersonForm/>
            </RequireAuth>
        </section>
    }
    .into_any()
}

#[component]
fn NewPersonForm() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let form = PersonForm::new();
    let pending = RwSignal::new(false);
    let announcement = RwSignal::new(None::<(Tone, String)>);

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
        pending.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let outcome = client.call::<CreatePerson>((), &input).await;
            pending.set(false);
            match outcome {
                Ok(person) => navigate(&Page::person(person.id), Default::default()),
                Err(error) => {
                    form.show_server_errors(&error);
                    announcement.set(Some((Tone::Error, save_failure(&error))));
                }
            }
        });
    };

    view! {
        <div class="stack">
            <Announcement message=announcement/>
            <form class="card form" method="post" novalidate=true on:submit=on_submit aria-label="Add a person">
                <PersonFields form=form/>
                <div class="actions">
                    <SubmitButton label="Add person" pending_label="Adding…" pending=pending/>
                    <A href=Page::People.path()>"Cancel"</A>
                </div>
            </form>
        </div>
    }
    .into_any()
}
