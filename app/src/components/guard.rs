use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_location, use_navigate},
    NavigateOptions,
};

use super::layout::Loading;
use crate::{
    api::values::Role,
    auth::{login_path_returning_to, use_auth, AuthStatus},
    routes::Page,
};

/// Shows its children only to a signed-in user. While the session is being
/// restored it shows a neutral placeholder (no flash of the login page, no
/// flash of protected content); a signed-out visitor is sent to the login
/// page, which brings them back here afterwards (or, after signing out on
/// purpose, where [`Auth::signed_out_to`](crate::auth::Auth) says).
#[component]
pub fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let navigate = use_navigate();

    Effect::new(move |_| {
        if auth.status.get() == AuthStatus::SignedOut {
            // Signed out on purpose, to somewhere else than the login page.
            if let Some(page) = auth.signed_out_to.get_untracked() {
                auth.signed_out_to.set(None);
                navigate(
                    page.path(),
                    NavigateOptions {
                        replace: true,
                        ..Default::default()
                    },
                );
                return;
            }
            // The router's `search` comes without its `?`.
            let search = location.search.get_untracked();
            let here = if search.is_empty() {
                location.pathname.get_untracked()
            } else {
                format!("{}?{search}", location.pathname.get_untracked())
            };
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

/// Shows its children only to an admin (inside [`RequireAuth`]); anyone
/// else sees why they cannot use the page.
#[component]
pub fn RequireAdmin(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    let is_admin = move || auth.user().is_some_and(|user| user.role == Role::Admin);
    view! {
        <Show when=is_admin fallback=|| view! { <Forbidden/> }>
            {children()}
        </Show>
    }
}

/// What someone sees where only admins may go (the 403 page).
#[component]
pub fn Forbidden() -> impl IntoView {
    view! {
        <div class="card stack" role="alert" data-testid="forbidden">
            <h2>"Admins only"</h2>
            <p>"This page is for admins, and your account is not an admin account. If you need access, ask an admin."</p>
            <p><A href=Page::Home.path()>"Back to the home page"</A></p>
        </div>
    }
}
