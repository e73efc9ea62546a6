//! The directory of people: the list (search as you type, pages), adding a
//! person, and one person's page (view, edit with the version that was
//! read, delete for admins).

mod form;
mod person;

pub use form::NewPersonPage;
pub use person::PersonPage;

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    api::{
        endpoints::ListPeople,
        types::{ListQuery, Person},
    },
    auth::use_auth,
    components::{
        form::{Announcement, Tone},
        guard::RequireAuth,
        layout::Loading,
        list::{ListPosition, Pager, SearchBox},
    },
    routes::Page,
};

/// How many people a page of the list shows.
pub const PAGE_SIZE: u32 = 20;

#[component]
pub fn PeoplePage() -> impl IntoView {
    view! {
        <Title text="People"/>
        <section class="wide">
            <div class="page-heading">
                <h1 class="page-title">"People"</h1>
                <A href=Page::NewPerson.path() attr:class="button">"Add a person"</A>
            </div>
            <RequireAuth>
                <PeopleList/>
            </RequireAuth>
        </section>
    }
    .into_any()
}

#[component]
fn PeopleList() -> impl IntoView {
    let auth = use_auth();
    let position = ListPosition::new();
    let people = RwSignal::new(None::<Vec<Person>>);
    let loading = RwSignal::new(false);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    // Only the answer to the latest request counts (typing outruns the API).
    let latest = RwSignal::new(0u64);

    Effect::new(move |_| {
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
            let outcome = client.call::<ListPeople>(query, &()).await;
            if latest.try_get_untracked() != Some(number) {
                return;
            }
            loading.set(false);
            match outcome {
                Ok(page) => {
                    announcement.set(None);
                    position.next_cursor.set(page.next_cursor);
                    people.set(Some(page.people));
                }
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    });

    let summary = move || {
        let search = position.search();
        people.with(|list| {
            let list = list.as_ref()?;
            Some(match (list.len(), search) {
                (0, None) => String::new(),
                (0, Some(search)) => format!("Nobody matches “{search}”."),
                (1, _) => "1 person on this page.".to_owned(),
                (count, _) => format!("{count} people on this page."),
            })
        })
    };

    let row = |person: Person| {
        let href = Page::person(person.id);
        view! {
            <tr>
                <td><A href=href>{person.name.clone()}</A></td>
                <td>{person.email.map(|email| email.to_string()).unwrap_or_default()}</td>
                <td>{person.phone.unwrap_or_default()}</td>
            </tr>
        }
    };

    view! {
        <div class="stack">
            <SearchBox
                id="people-search"
                label="Search people"
                hint="Any part of a name or an email address; the list follows as you type."
                position=position
            />
            <Announcement message=announcement/>
            <p class="meta" role="status" data-testid="people-summary">{summary}</p>
            {move || match people.get() {
                None => view! { <Loading label="Loading people…"/> }.into_any(),
                Some(list) if list.is_empty() && position.search().is_none() && position.page_number() == 1 => view! {
                    <div class="card stack empty" data-testid="people-empty">
                        <h2>"Nobody here yet"</h2>
                        <p>"The directory is empty. Add the first person to get started."</p>
                        <p><A href=Page::NewPerson.path()>"Add the first person"</A></p>
                    </div>
                }
                    .into_any(),
                Some(list) if list.is_empty() => ().into_any(),
                Some(list) => view! {
                    <div class="table-scroll">
                        <table class="list" aria-label="People" aria-busy=move || loading.get().to_string()>
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Email"</th>
                                    <th scope="col">"Phone"</th>
                                </tr>
                            </thead>
                            <tbody>{list.into_iter().map(row).collect_view()}</tbody>
                        </table>
                    </div>
                }
                    .into_any(),
            }}
            <Pager position=position loading=loading/>
        </div>
    }
    .into_any()
}
