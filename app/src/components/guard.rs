use leptos::prelude::*;
use leptos_router::{
    hooks::{use_location, use_navigate},
    NavigateOptions,
};

use super::layout::Loading;
use crate::auth::{login_path_returning_to, use_auth, AuthStatus};

/// Shows its children only to a signed-in user. While the session is being
/// restored it shows a neutral placeholder (no flash of the login page, no
/// flash of protected content); a signed-out visitor is sent to the login
/// page, which brings them back here afterwards.
#[component]
pub fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let navigate = use_navigate();

    Effect::new(move |_| {
        if auth.status.get() == AuthStatus::SignedOut {
            let here = format!(
                "{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked()
            );
            navigate(
                &login_path_returning_to(&here),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });

    let signed_in = move || matches!(auth.status.get(), AuthStatus::SignedIn(_));
    view! {
        <Show when=signed_in fallback=|| view! { <Loading label="Checking your session…"/> }>
            {children()}
        </Show>
    }
}
