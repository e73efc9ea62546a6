//! The two pages the links about a change of address open: the one mailed
//! to the new address confirms the change, the one mailed to the old
//! address undoes it. Nothing happens until the person presses the button:
//! a mail scanner or link preview that opens a link changes nothing.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    api::{lifecycle::EmailLinkRequest, ProblemCode},
    auth::{use_auth, AuthStatus},
    components::form::{Announcement, SubmitButton, Tone},
    routes::Page,
};

/// Which of the two links opened the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Confirm,
    Undo,
}

impl Link {
    const fn title(self) -> &'static str {
        match self {
            Self::Confirm => "Confirm your new email address",
            Self::Undo => "Undo the change of email address",
        }
    }

    const fn explanation(self) -> &'static str {
        match self {
            Self::Confirm => "Press the button to make this the address you sign in with. Your old address is told, with a way to undo the change.",
            Self::Undo => "Your account's email address was changed. If it was not you, undo it: your address comes back, every device is signed out, your password stops working, and we email you a link to choose a new one.",
        }
    }

    const fn button(self) -> (&'static str, &'static str) {
        match self {
            Self::Confirm => ("Confirm new address", "Confirming…"),
            Self::Undo => ("Undo the change", "Undoing…"),
        }
    }

    const fn invalid(self) -> &'static str {
        match self {
            Self::Confirm => "This link is not valid: it may have expired, been replaced by a newer one, or been used already. Ask for the change again from your account page.",
            Self::Undo => "This link is not valid: it may have expired or been used already. If someone else has your account, reset your password from the sign-in page.",
        }
    }
}

/// Opened from the link mailed to the new address.
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    view! { <EmailLinkPage link=Link::Confirm/> }
}

/// Opened from the notice mailed to the old address.
#[component]
pub fn UndoEmailChangePage() -> impl IntoView {
    view! { <EmailLinkPage link=Link::Undo/> }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Done(String),
    Invalid,
}

#[component]
fn EmailLinkPage(link: Link) -> impl IntoView {
    let auth = use_auth();
    let token = super::use_link_token();
    let outcome = RwSignal::new(None::<Outcome>);
    let pending = RwSignal::new(false);
    let announcement = RwSignal::new(None::<(Tone, String)>);

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        announcement.set(None);
        let Some(token) = token.get_untracked() else {
            outcome.set(Some(Outcome::Invalid));
            return;
        };
        let Some(client) = auth.client() else { return };
        pending.set(true);
        spawn_local(async move {
            let request = EmailLinkRequest { token };
            let answer = match link {
                Link::Confirm => client.confirm_email_change(&request).await,
                Link::Undo => client.undo_email_change(&request).await,
            };
            pending.set(false);
            match answer {
                Ok(answer) => {
                    // A signed-in page shows the address it now has.
                    if link == Link::Confirm
                        && matches!(auth.status.get_untracked(), AuthStatus::SignedIn(_))
                    {
                        let _ = client.me().await;
                    }
                    outcome.set(Some(Outcome::Done(answer.message)));
                }
                Err(error) if error.code() == Some(ProblemCode::InvalidLink) => {
                    outcome.set(Some(Outcome::Invalid));
                }
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    };

    let state = move || match outcome.get() {
        None if token.with(Option::is_none) => Some(Outcome::Invalid),
        state => state,
    };
    let (label, pending_label) = link.button();

    view! {
        <Title text=link.title()/>
        <section class="narrow">
            <h1 class="page-title">{link.title()}</h1>
            <div class="card stack">
                {move || match state() {
                    Some(Outcome::Done(message)) => view! {
                        <div class="stack" data-testid="email-link-done">
                            <Announcement message=Signal::derive(move || Some((Tone::Success, message.clone())))/>
                            {match link {
                                Link::Confirm => view! {
                                    <p><A href=Page::Account.path() attr:class="button">"Go to your account"</A></p>
                                }
                                    .into_any(),
                                Link::Undo => view! {
                                    <p>"Open the link in the email we just sent to choose your new password, then sign in."</p>
                                    <p><A href=Page::Login.path() attr:class="button">"Sign in"</A></p>
                                }
                                    .into_any(),
                            }}
                        </div>
                    }
                        .into_any(),
                    Some(Outcome::Invalid) => view! {
                        <div class="stack" data-testid="invalid-link">
                            <Announcement message=Signal::derive(move || Some((Tone::Error, link.invalid().to_owned())))/>
                        </div>
                    }
                        .into_any(),
                    None => view! {
                        <Announcement message=announcement/>
                        <p>{link.explanation()}</p>
                        <form class="form" method="post" novalidate=true on:submit=on_submit aria-label=link.title()>
                            <div>
                                <SubmitButton label=label pending_label=pending_label pending=pending/>
                            </div>
                        </form>
                    }
                        .into_any(),
                }}
            </div>
        </section>
    }
}
