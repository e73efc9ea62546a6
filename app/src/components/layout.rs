use leptos::{prelude::*, task::spawn_local};
use leptos_router::{components::A, hooks::use_navigate};

use crate::{
    api::values::Role,
    auth::{use_auth, AuthStatus},
    routes::Page,
    theme::ThemeSelect,
};

/// The banner on every page: the product name and navigation that follows
/// the session (nothing session-specific until the session is known).
#[component]
pub fn SiteHeader() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let signing_out = RwSignal::new(false);
    // A sign-out the server did not make leaves the session on: said so,
    // rather than a sign-in page over a session a reload brings back. (One
    // sentence for every cause: the errors' own sentences would bring their
    // formatting into the module every page loads.)
    let sign_out_failed = RwSignal::new(false);
    let sign_out = move |_| {
        signing_out.set(true);
        sign_out_failed.set(false);
        let navigate = navigate.clone();
        spawn_local(async move {
            let outcome = auth.logout().await;
            signing_out.set(false);
            match outcome {
                Ok(()) => navigate(Page::Login.path(), Default::default()),
                Err(_) => sign_out_failed.set(true),
            }
        });
    };

    view! {
        <header class="site-header">
            <A href=Page::Home.path() attr:class="brand">"Accounts"</A>
            <nav aria-label="Main">
                <ul class="nav-links">
                    <li><A href=Page::Home.path() exact=true>"Home"</A></li>
                    {move || match auth.status.get() {
                        AuthStatus::Restoring => ().into_any(),
                        AuthStatus::SignedIn(user) => view! {
                            <li><A href=Page::People.path()>"People"</A></li>
                            {(user.role == Role::Admin).then(|| view! {
                                <li><A href=Page::AdminUsers.path()>"Users"</A></li>
                            })}
                            <li><A href=Page::Account.path()>"Account"</A></li>
                            <li class="nav-user" data-testid="nav-user">{user.name.to_string()}</li>
                            <li>
                                <button
                                    type="button"
                                    class="link-button"
                                    disabled=move || signing_out.get()
                                    on:click=sign_out.clone()
                                >
                                    "Sign out"
                                </button>
                            </li>
                            {move || sign_out_failed.get().then(|| view! {
                                <li class="nav-error" role="alert">
                                    "Not signed out: the server did not answer. You are still signed in; try again."
                                </li>
                            })}
                        }
                            .into_any(),
                        AuthStatus::SignedOut => view! {
                            <li><A href=Page::Login.path()>"Sign in"</A></li>
                            <li><A href=Page::Register.path()>"Register"</A></li>
                        }
                            .into_any(),
                    }}
                </ul>
            </nav>
            <ThemeSelect/>
        </header>
    }
}

/// A neutral placeholder while something loads.
#[component]
pub fn Loading(#[prop(into, default = "Loading…".to_owned())] label: String) -> impl IntoView {
    view! {
        <div class="loading" role="status" data-testid="loading">
            <span class="spinner" aria-hidden="true"></span>
            <span>{label}</span>
        </div>
    }
}
