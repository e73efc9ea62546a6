//! Every page, as code the browser loads only when someone opens it.
//!
//! The build splits the wasm bundle (`cargo leptos build --split`): each
//! `view` below, and whatever only it uses, goes into a chunk of its own
//! under `/pkg`, fetched the first time the router shows the page; code that
//! several of them use goes into chunks they share. The main module keeps
//! the router, the header, the session and the API client. On the server
//! the views render as any other page, and the rendered HTML preloads the
//! chunks it used. Only the not-found page stays in the main module.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use super::{
    account::AccountPage,
    admin_users::AdminUsersPage,
    dev_mailbox::DevMailboxPage,
    email_link::{ConfirmEmailPage, UndoEmailChangePage},
    forgot_password::ForgotPasswordPage,
    home::HomePage,
    login::LoginPage,
    people::{NewPersonPage, PeoplePage, PersonPage},
    register::RegisterPage,
    reset_password::ResetPasswordPage,
    verify_email::VerifyEmailPage,
};

pub struct AccountRoute;

#[lazy_route]
impl LazyRoute for AccountRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <AccountPage/> }.into_any()
    }
}

pub struct PeopleRoute;

#[lazy_route]
impl LazyRoute for PeopleRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <PeoplePage/> }.into_any()
    }
}

pub struct NewPersonRoute;

#[lazy_route]
impl LazyRoute for NewPersonRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <NewPersonPage/> }.into_any()
    }
}

pub struct PersonRoute;

#[lazy_route]
impl LazyRoute for PersonRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <PersonPage/> }.into_any()
    }
}

pub struct AdminUsersRoute;

#[lazy_route]
impl LazyRoute for AdminUsersRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <AdminUsersPage/> }.into_any()
    }
}

pub struct DevMailboxRoute;

#[lazy_route]
impl LazyRoute for DevMailboxRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <DevMailboxPage/> }.into_any()
    }
}

pub struct VerifyEmailRoute;

#[lazy_route]
impl LazyRoute for VerifyEmailRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <VerifyEmailPage/> }.into_any()
    }
}

pub struct ForgotPasswordRoute;

#[lazy_route]
impl LazyRoute for ForgotPasswordRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ForgotPasswordPage/> }.into_any()
    }
}

pub struct ResetPasswordRoute;

#[lazy_route]
impl LazyRoute for ResetPasswordRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ResetPasswordPage/> }.into_any()
    }
}

pub struct HomeRoute;

#[lazy_route]
impl LazyRoute for HomeRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <HomePage/> }.into_any()
    }
}

pub struct LoginRoute;

#[lazy_route]
impl LazyRoute for LoginRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <LoginPage/> }.into_any()
    }
}

pub struct RegisterRoute;

#[lazy_route]
impl LazyRoute for RegisterRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <RegisterPage/> }.into_any()
    }
}

pub struct ConfirmEmailRoute;

#[lazy_route]
impl LazyRoute for ConfirmEmailRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ConfirmEmailPage/> }.into_any()
    }
}

pub struct UndoEmailChangeRoute;

#[lazy_route]
impl LazyRoute for UndoEmailChangeRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <UndoEmailChangePage/> }.into_any()
    }
}
