//! An account's recent activity (the security event log), newest first:
//! the owner's own on the account page, anyone's for admins.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{types::SecurityEvent, values::UserId},
    auth::use_auth,
    components::{
        form::{Announcement, Tone},
        layout::Loading,
        time::LocalTime,
    },
};

/// Whose activity to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    Mine,
    /// Another account's (admins only).
    User(UserId),
}

#[component]
pub fn ActivityLog(
    #[prop(into)] whose: Signal<Whose>,
    /// The id of the heading that names the list.
    labelled_by: &'static str,
) -> impl IntoView {
    let auth = use_auth();
    let events = RwSignal::new(None::<Vec<SecurityEvent>>);
    let announcement = RwSignal::new(None::<(Tone, String)>);

    Effect::new(move |_| {
        let whose = whose.get();
        let Some(client) = auth.client() else { return };
        events.set(None);
        spawn_local(async move {
            let outcome = match whose {
                Whose::Mine => client.my_activity().await,
                Whose::User(id) => client.user_activity(id).await,
            };
            match outcome {
                Ok(list) => events.set(Some(list)),
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    });

    let row = |event: SecurityEvent| {
        let mut meta = Vec::new();
        if let Some(device) = event.device.clone() {
            meta.push(device);
        }
        if let Some(ip) = event.ip_address.clone() {
            meta.push(format!("IP address {ip}"));
        }
        let class = if event.kind.is_warning() {
            "event warning"
        } else {
            "event"
        };
        view! {
            <li class=class>
                <p>
                    <strong>{event.kind.describe()}</strong>
                    {event.detail.clone().map(|detail| view! { " — " {detail} })}
                </p>
                <p class="meta">
                    <LocalTime at=event.occurred_at.clone()/>
                    {(!meta.is_empty()).then(|| format!(" · {}", meta.join(" · ")))}
                </p>
            </li>
        }
    };

    view! {
        <Announcement message=announcement/>
        {move || match events.get() {
            None => view! { <Loading label="Loading activity…"/> }.into_any(),
            Some(list) if list.is_empty() => {
                view! { <p data-testid="activity-empty">"Nothing recorded yet."</p> }.into_any()
            }
            Some(list) => view! {
                <ul class="activity" aria-labelledby=labelled_by>
                    {list.into_iter().map(row).collect_view()}
                </ul>
            }
                .into_any(),
        }}
    }
}
