use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{FlatRoutes, Route, Router},
    Lazy,
};

use crate::{
    auth::provide_auth,
    components::layout::SiteHeader,
    pages::{
        not_found::NotFoundPage,
        on_demand::{
            AccountRoute, AdminUsersRoute, ConfirmEmailRoute, DevMailboxRoute, ForgotPasswordRoute,
            HomeRoute, LoginRoute, NewPersonRoute, PeopleRoute, PersonRoute, RegisterRoute,
            ResetPasswordRoute, UndoEmailChangeRoute, VerifyEmailRoute,
        },
    },
    routes::Page,
    site_flags::{dev_tools_enabled, on_off, passkeys_enabled, DEV_TOOLS_META, PASSKEYS_META},
    theme,
};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::csp::send_for_current_response();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <meta name=DEV_TOOLS_META content=on_off(dev_tools_enabled())/>
                <meta name=PASSKEYS_META content=on_off(passkeys_enabled())/>
                // Before any stylesheet, so that the first paint has the
                // stored theme; it carries the nonce the CSP asks for.
                <script nonce=leptos::nonce::use_nonce() inner_html=theme::INLINE_SCRIPT></script>
                <meta name="description" content="Email and password accounts, done right."/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Here rather than in the app: the file's name carries its hash,
                // which only the server knows, and the bundle need not know it.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_auth();

    // The marker lets tests (and curious people) tell a live page from
    // static HTML.
    let hydrated = crate::hydration::hydrated();
    Effect::new(move |_| {
        if hydrated.get() {
            if let Some(body) = document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        }
    });

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Accounts".to_owned() } else { format!("{page} · Accounts") }
        }/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <SiteHeader/>
            <main id="main" tabindex="-1">
                <FlatRoutes fallback=NotFoundPage>
                    <Route path=Page::Home.route() view={Lazy::<HomeRoute>::new()}/>
                    <Route path=Page::Register.route() view={Lazy::<RegisterRoute>::new()}/>
                    <Route path=Page::Login.route() view={Lazy::<LoginRoute>::new()}/>
                    <Route path=Page::VerifyEmail.route() view={Lazy::<VerifyEmailRoute>::new()}/>
                    <Route path=Page::ForgotPassword.route() view={Lazy::<ForgotPasswordRoute>::new()}/>
                    <Route path=Page::ResetPassword.route() view={Lazy::<ResetPasswordRoute>::new()}/>
                    <Route path=Page::ConfirmEmail.route() view={Lazy::<ConfirmEmailRoute>::new()}/>
                    <Route path=Page::UndoEmailChange.route() view={Lazy::<UndoEmailChangeRoute>::new()}/>
                    <Route path=Page::Account.route() view={Lazy::<AccountRoute>::new()}/>
                    <Route path=Page::People.route() view={Lazy::<PeopleRoute>::new()}/>
                    <Route path=Page::NewPerson.route2() view={Lazy::<NewPersonRoute>::new()}/>
                    <Route path=Page::Person.route_param() view={Lazy::<PersonRoute>::new()}/>
                    <Route path=Page::AdminUsers.route2() view={Lazy::<AdminUsersRoute>::new()}/>
                    <Route path=Page::DevMailbox.route2() view={Lazy::<DevMailboxRoute>::new()}/>
                </FlatRoutes>
            </main>
        </Router>
    }
}
