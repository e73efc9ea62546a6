use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    auth::{use_auth, AuthStatus},
    components::form::{Announcement, Tone},
    routes::Page,
};

#[component]
pub fn HomePage() -> impl IntoView {
    let auth = use_auth();
    // Why the visitor was signed out, such as a deleted account.
    let notice = Signal::derive(move || {
        (!matches!(auth.status.get(), AuthStatus::SignedIn(_)))
            .then(|| auth.notice.get().map(|notice| (Tone::Info, notice)))
            .flatten()
    });

    view! {
        <Title text=""/>
        <section class="hero stack">
            <Announcement message=notice/>
            {move || match auth.status.get() {
                AuthStatus::SignedIn(user) => view! {
                    <h1 data-testid="greeting">"Welcome back, " {user.name.to_string()} "!"</h1>
                    <p class="lead">"Pick up where you left off: the people you keep track of, or your account and its security."</p>
                    <p class="actions">
                        <A href=Page::People.path() attr:class="button">"Open the people directory"</A>
                        <A href=Page::Account.path() attr:class="button secondary">"Go to your account"</A>
                    </p>
                }
                    .into_any(),
                status => view! {
                    <h1>"Your account, done right"</h1>
                    <p class="lead">
                        "Keep one directory of the people you work with, and reach it from any device. "
                        "Create an account with your email address, confirm it, and sign in."
                    </p>
                    <ul class="features">
                        <li>"Find people by name or email address, add them, and keep their details up to date."</li>
                        <li>"See every device where you are signed in, and sign any of them out at once."</li>
                        <li>"Forgot your password? Set a new one from a link we email you. Changed it? We tell you."</li>
                        <li>"See recent activity on your account, including sign-in attempts that failed."</li>
                    </ul>
                    <Show when=move || status == AuthStatus::SignedOut>
                        <p class="actions">
                            <A href=Page::Register.path() attr:class="button">"Create an account"</A>
                            <A href=Page::Login.path() attr:class="button secondary">"Sign in"</A>
                        </p>
                    </Show>
                }
                    .into_any(),
            }}
        </section>
    }
}
