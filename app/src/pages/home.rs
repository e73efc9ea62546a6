use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    auth::{use_auth, AuthStatus},
    routes::Page,
};

#[component]
pub fn HomePage() -> impl IntoView {
    let auth = use_auth();
    // Only a hydrated page reacts to clicks, so this button doubles as the
    // end-to-end proof that the wasm bundle took over the server's HTML.
    let clicks = RwSignal::new(0u32);

    view! {
        <Title text=""/>
        <section class="hero stack">
            {move || match auth.status.get() {
                AuthStatus::SignedIn(user) => view! {
                    <h1 data-testid="greeting">"Welcome back, " {user.name.to_string()} "!"</h1>
                    <p class="lead">"You are signed in. Your session renews itself while you work."</p>
                    <p><A href=Page::Account.path() attr:class="button">"Go to your account"</A></p>
                }
                    .into_any(),
                status => view! {
                    <h1>"Your account, done right"</h1>
                    <p class="lead">
                        "Register with your email address, verify it, and sign in. "
                        "Sessions stay safe: short-lived access tokens in memory, "
                        "rotating refresh tokens in an HttpOnly cookie."
                    </p>
                    <Show when=move || status == AuthStatus::SignedOut>
                        <p class="actions">
                            <A href=Page::Register.path() attr:class="button">"Create an account"</A>
                            <A href=Page::Login.path() attr:class="button secondary">"Sign in"</A>
                        </p>
                    </Show>
                }
                    .into_any(),
            }}
            <p>
                <button
                    type="button"
                    class="button secondary"
                    data-testid="hydration-probe"
                    on:click=move |_| clicks.update(|count| *count += 1)
                >
                    {move || match clicks.get() {
                        0 => "Try me".to_owned(),
                        1 => "Clicked once".to_owned(),
                        n => format!("Clicked {n} times"),
                    }}
                </button>
            </p>
        </section>
    }
}
