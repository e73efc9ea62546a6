//! The pages of the web app, in one place: the router mounts them, links and
//! redirects point at them, and the server writes them into emails.

use leptos_router::{ParamSegment, StaticSegment};

use crate::api::values::PersonId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Page {
    Home,
    Register,
    VerifyEmail,
    Login,
    ForgotPassword,
    ResetPassword,
    /// Where the link mailed to a new email address leads: confirms the
    /// change of address (`?token=…`).
    ConfirmEmail,
    /// Where the link mailed to the old address after a change leads:
    /// undoes it (`?token=…`).
    UndoEmailChange,
    Account,
    /// The directory of people: search and pages.
    People,
    /// Adding a person to the directory.
    NewPerson,
    /// One person, to view and edit: `/people/{id}` (see [`Page::person`]).
    Person,
    /// Admins only: the accounts, their roles and whether they are enabled.
    AdminUsers,
    /// Development only: the mail outbox.
    DevMailbox,
}

impl Page {
    pub const ALL: &'static [Page] = &[
        Page::Home,
        Page::Register,
        Page::VerifyEmail,
        Page::Login,
        Page::ForgotPassword,
        Page::ResetPassword,
        Page::ConfirmEmail,
        Page::UndoEmailChange,
        Page::Account,
        Page::People,
        Page::NewPerson,
        Page::Person,
        Page::AdminUsers,
        Page::DevMailbox,
    ];

    /// The name of the path parameter of [`Page::Person`].
    pub const PERSON_ID: &'static str = "id";

    pub const fn path(self) -> &'static str {
        match self {
            Self::Home => "/",
            Self::Register => "/register",
            Self::VerifyEmail => "/verify-email",
            Self::Login => "/login",
            Self::ForgotPassword => "/forgot-password",
            Self::ResetPassword => "/reset-password",
            Self::ConfirmEmail => "/confirm-email",
            Self::UndoEmailChange => "/undo-email-change",
            Self::Account => "/account",
            Self::People => "/people",
            Self::NewPerson => "/people/new",
            Self::Person => "/people/:id",
            Self::AdminUsers => "/admin/users",
            Self::DevMailbox => "/dev/mailbox",
        }
    }

    /// The address of one person's page.
    pub fn person(id: PersonId) -> String {
        Self::Person.path().replace(":id", &id.to_string())
    }

    fn segments(self) -> impl Iterator<Item = &'static str> {
        self.path().split('/').filter(|segment| !segment.is_empty())
    }

    /// The router's pattern for a page one segment deep (or the root).
    pub fn route(self) -> StaticSegment<&'static str> {
        let mut segments = self.segments();
        let segment = segments.next().unwrap_or("");
        debug_assert!(
            segments.next().is_none(),
            "{self:?} is deeper than one segment"
        );
        StaticSegment(segment)
    }

    /// The router's pattern for a page two segments deep.
    pub fn route2(self) -> (StaticSegment<&'static str>, StaticSegment<&'static str>) {
        let mut segments = self.segments();
        let first = segments.next().unwrap_or("");
        let second = segments.next().unwrap_or("");
        debug_assert!(
            segments.next().is_none(),
            "{self:?} is deeper than two segments"
        );
        (StaticSegment(first), StaticSegment(second))
    }

    /// The router's pattern for a page whose second segment is a parameter
    /// (`/people/:id`).
    pub fn route_param(self) -> (StaticSegment<&'static str>, ParamSegment) {
        let mut segments = self.segments();
        let first = segments.next().unwrap_or("");
        let second = segments.next().unwrap_or("");
        debug_assert!(
            second.starts_with(':') && segments.next().is_none(),
            "{self:?} is not one segment and a parameter"
        );
        (
            StaticSegment(first),
            ParamSegment(second.strip_prefix(':').unwrap_or(second)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_absolute_distinct_and_outside_the_api() {
        for (index, page) in Page::ALL.iter().enumerate() {
            assert!(page.path().starts_with('/'));
            assert!(!page.path().starts_with(crate::api::endpoints::API_PREFIX));
            for other in &Page::ALL[index + 1..] {
                assert_ne!(page.path(), other.path());
            }
        }
    }

    #[test]
    fn route_patterns_follow_the_paths() {
        assert_eq!(Page::Home.route().0, "");
        assert_eq!(Page::Login.route().0, "login");
        let (first, second) = Page::DevMailbox.route2();
        assert_eq!((first.0, second.0), ("dev", "mailbox"));
        let (first, second) = Page::Person.route_param();
        assert_eq!((first.0, second.0), ("people", Page::PERSON_ID));
        let id: PersonId = "0b5e5a4e-8f8e-4c61-9a39-2f4b8d7b1c10".parse().unwrap();
        assert_eq!(
            Page::person(id),
            "/people/0b5e5a4e-8f8e-4c61-9a39-2f4b8d7b1c10"
        );
    }
}
