use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;

use crate::{
    api::{endpoints, types::MailboxMessage},
    auth::use_auth,
    components::{
        form::{Announcement, Tone},
        layout::Loading,
    },
    pages::not_found::NotFoundPage,
    site_flags::dev_tools_enabled,
};

/// Development only: the mail the app has "sent", with its links, so that
/// verifying an account takes two clicks.
#[component]
pub fn DevMailboxPage() -> impl IntoView {
    if !dev_tools_enabled() {
        return view! { <NotFoundPage/> }.into_any();
    }
    let auth = use_auth();
    let messages = RwSignal::new(None::<Vec<MailboxMessage>>);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    let load = move || {
        let Some(client) = auth.client() else { return };
        spawn_local(async move {
            match client.call::<endpoints::DevMailbox>((), &()).await {
                Ok(mailbox) => messages.set(Some(mailbox.messages)),
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    };
    Effect::new(move |_| load());

    view! {
        <Title text="Development mailbox"/>
        <section class="stack">
            <h1 class="page-title">"Development mailbox"</h1>
            <p class="lead">"Messages the app wrote to its outbox, newest first. This page exists only in development."</p>
            <p><button type="button" class="button secondary" on:click=move |_| load()>"Reload"</button></p>
            <Announcement message=announcement/>
            {move || match messages.get() {
                None => view! { <Loading/> }.into_any(),
                Some(list) if list.is_empty() => view! { <p>"No messages yet."</p> }.into_any(),
                Some(list) => view! {
                    <ul class="mailbox">
                        {list
                            .into_iter()
                            .map(|message| view! {
                                <li class="card" data-testid="mail">
                                    <h2>{message.subject}</h2>
                                    <p class="meta">"To " {message.to} " · " {message.sent_at}</p>
                                    <ul>
                                        {message
                                            .links
                                            .into_iter()
                                            .map(|link| view! { <li><a href=link.clone()>{link.clone()}</a></li> })
                                            .collect_view()}
                                    </ul>
                                </li>
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any(),
            }}
        </section>
    }
    .into_any()
}
