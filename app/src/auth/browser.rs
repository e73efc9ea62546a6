//! The browser side of the session: restore on load, renew before expiry,
//! and keep every tab of the origin in step through a BroadcastChannel.

use std::cell::RefCell;

use gloo_timers::callback::Timeout;
use leptos::{prelude::*, task::spawn_local};
use wasm_bindgen::{closure::Closure, JsCast as _, JsValue};
use web_sys::{BroadcastChannel, MessageEvent};

use super::{has_session_hint, renewal_delay_ms, Auth, AuthStatus, ReauthPrompt, TabMessage};
use crate::api_client::{ApiClient, EndReason, FetchTransport, SessionEvent};

const CHANNEL_NAME: &str = "accounts-session";

thread_local! {
    static CHANNEL: RefCell<Option<BroadcastChannel>> = const { RefCell::new(None) };
    static RENEWAL: RefCell<Option<Timeout>> = const { RefCell::new(None) };
}

pub fn start(auth: Auth) {
    let client = ApiClient::new(FetchTransport);
    // Sensitive actions ask "Confirm it's you" through the app's dialog.
    let prompt = ReauthPrompt::new(auth);
    client.set_reauthenticator(prompt);
    auth.client.set_value(Some(client.clone()));

    let renewing_client = client.clone();
    client.on_session_event(move |event| match event {
        SessionEvent::Renewed(tokens) => {
            auth.status.set(AuthStatus::SignedIn(tokens.user));
            schedule_renewal(&renewing_client, tokens.expires_in);
        }
        // One signed-in user for the whole app: the header, the home page
        // and the account page all read it.
        SessionEvent::UserChanged(user) => {
            if matches!(auth.status.get_untracked(), AuthStatus::SignedIn(_)) {
                auth.status.set(AuthStatus::SignedIn(user));
            }
        }
        SessionEvent::Ended(reason) => {
            RENEWAL.with(|timer| timer.borrow_mut().take());
            // Nobody is left to confirm: the action waiting for it fails.
            prompt.cancel();
            let was_signed_in = matches!(auth.status.get_untracked(), AuthStatus::SignedIn(_));
            if was_signed_in && reason == EndReason::Expired {
                auth.notice
                    .set(Some("Your session has ended. Please sign in again.".into()));
            }
            auth.status.set(AuthStatus::SignedOut);
        }
    });

    listen_to_other_tabs(auth, client.clone());

    // Once the page has hydrated (not before: the page must first match
    // the server's HTML), ask whether a session exists.
    let hydrated = crate::hydration::hydrated();
    Effect::new(move |_| {
        if !hydrated.get() {
            return;
        }
        if !has_session_hint(&document_cookies()) {
            auth.status.set(AuthStatus::SignedOut);
            return;
        }
        let client = client.clone();
        spawn_local(async move {
            if client.refresh().await.is_err()
                && auth.status.get_untracked() == AuthStatus::Restoring
            {
                auth.status.set(AuthStatus::SignedOut);
            }
        });
    });
}

fn document_cookies() -> String {
    document()
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()
        .and_then(|document| document.cookie().ok())
        .unwrap_or_default()
}

fn schedule_renewal(client: &ApiClient, expires_in: u64) {
    let delay = u32::try_from(renewal_delay_ms(expires_in)).unwrap_or(u32::MAX);
    let client = client.clone();
    let timer = Timeout::new(delay, move || {
        spawn_local(async move {
            // A failure ends the session through the client's events.
            let _ = client.refresh().await;
        });
    });
    RENEWAL.with(|slot| *slot.borrow_mut() = Some(timer));
}

fn listen_to_other_tabs(auth: Auth, client: ApiClient) {
    let Ok(channel) = BroadcastChannel::new(CHANNEL_NAME) else {
        return;
    };
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(message) = event
            .data()
            .as_string()
            .as_deref()
            .and_then(TabMessage::parse)
        else {
            return;
        };
        match message {
            TabMessage::SignedOut => client.forget_session(),
            TabMessage::SignedIn => {
                if !matches!(auth.status.get_untracked(), AuthStatus::SignedIn(_)) {
                    let client = client.clone();
                    spawn_local(async move {
                        let _ = client.refresh().await;
                    });
                }
            }
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The listener lives as long as the page.
    on_message.forget();
    CHANNEL.with(|slot| *slot.borrow_mut() = Some(channel));
}

pub fn broadcast(message: TabMessage) {
    CHANNEL.with(|slot| {
        if let Some(channel) = slot.borrow().as_ref() {
            let _ = channel.post_message(&JsValue::from_str(message.as_str()));
        }
    });
}
