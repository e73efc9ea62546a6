//! The danger zone: deleting the account. The confirmation names what
//! goes and what stays; the server asks for a recent proof of who the
//! user is (the API client's dialog), and the last admin is refused with
//! the server's reason. Once deleted, the app lands signed out on the home
//! page, which says so.

use leptos::{prelude::*, task::spawn_local};
use leptos_router::{hooks::use_navigate, NavigateOptions};

use crate::{
    auth::use_auth,
    components::{
        confirm::ConfirmAction,
        form::{Announcement, Tone},
    },
    routes::Page,
};

#[component]
pub(super) fn DangerZone() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let confirming = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    let question = Signal::derive(move || match auth.user() {
        Some(user) => format!("Delete the account {} and everything in it?", user.email),
        None => "Delete your account and everything in it?".to_owned(),
    });

    let delete = Callback::new(move |()| {
        pending.set(true);
        announcement.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let outcome = auth.delete_account().await;
            pending.set(false);
            match outcome {
                Ok(()) => navigate(
                    Page::Home.path(),
                    NavigateOptions {
                        replace: true,
                        ..Default::default()
                    },
                ),
                Err(error) => {
                    confirming.set(false);
                    announcement.set(Some((Tone::Error, error.message())));
                }
            }
        });
    });

    view! {
        <section class="card stack danger-zone" aria-labelledby="danger-zone-heading">
            <h2 id="danger-zone-heading">"Delete your account"</h2>
            <Announcement message=announcement/>
            <p>"Deleting your account signs you out on every device and erases your profile, sessions, two-step verification, activity and any mail waiting to be sent. People you added to the directory stay, without your name."</p>
            <ConfirmAction
                id="confirm-delete-account"
                ask_label="Delete account…"
                question=question
                detail="You cannot undo this, and you can no longer sign in with this address (you can sign up with it again)."
                confirm_label="Yes, delete my account"
                pending_label="Deleting…"
                cancel_label="Keep my account"
                confirming=confirming
                pending=pending
                on_confirm=delete
            />
        </section>
    }
}
