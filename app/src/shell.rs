use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Meta, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};

use crate::{
    auth::provide_auth,
    components::layout::SiteHeader,
    dev_tools::{dev_tools_enabled, META_NAME},
    pages::{
        account::AccountPage,
        admin_users::AdminUsersPage,
        dev_mailbox::DevMailboxPage,
        forgot_password::ForgotPasswordPage,
        home::HomePage,
        login::LoginPage,
        not_found::NotFoundPage,
        people::{NewPersonPage, PeoplePage, PersonPage},
        register::RegisterPage,
        reset_password::ResetPasswordPage,
        verify_email::VerifyEmailPage,
    },
    routes::Page,
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
                <meta name=META_NAME content=if dev_tools_enabled() { "on" } else { "off" }/>
                // Before any stylesheet, so that the first paint has the
                // stored theme; it carries the nonce the CSP asks for.
                <script nonce=leptos::nonce::use_nonce() inner_html=theme::INLINE_SCRIPT></script>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
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

    // Effects run only in the browser, after hydration: the marker lets
    // tests (and curious people) tell a live page from static HTML.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/accounts.css"/>
        <Meta name="description" content="Email and password accounts, done right."/>
        <Title formatter=|page: String| {
            if page.is_empty() { "Accounts".to_owned() } else { format!("{page} · Accounts") }
        }/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <SiteHeader/>
            <main id="main" tabindex="-1">
                <Routes fallback=NotFoundPage>
                    <Route path=Page::Home.route() view=HomePage/>
                    <Route path=Page::Register.route() view=RegisterPage/>
                    <Route path=Page::VerifyEmail.route() view=VerifyEmailPage/>
                    <Route path=Page::Login.route() view=LoginPage/>
                    <Route path=Page::ForgotPassword.route() view=ForgotPasswordPage/>
                    <Route path=Page::ResetPassword.route() view=ResetPasswordPage/>
                    <Route path=Page::Account.route() view=AccountPage/>
                    <Route path=Page::People.route() view=PeoplePage/>
                    <Route path=Page::NewPerson.route2() view=NewPersonPage/>
                    <Route path=Page::Person.route_param() view=PersonPage/>
                    <Route path=Page::AdminUsers.route2() view=AdminUsersPage/>
                    <Route path=Page::DevMailbox.route2() view=DevMailboxPage/>
                </Routes>
            </main>
        </Router>
    }
}
