//! The pages of the web app, in one place: the router mounts them, links and
//! redirects point at them, and the server writes them into emails.

use leptos_router::StaticSegment;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Page {
    Home,
    Register,
    VerifyEmail,
    Login,
    ForgotPassword,
    ResetPassword,
    Account,
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
        Page::Account,
        Page::DevMailbox,
    ];

    pub const fn path(self) -> &'static str {
        match self {
            Self::Home => "/",
            Self::Register => "/register",
            Self::VerifyEmail => "/verify-email",
            Self::Login => "/login",
            Self::ForgotPassword => "/forgot-password",
            Self::ResetPassword => "/reset-password",
            Self::Account => "/account",
            Self::DevMailbox => "/dev/mailbox",
        }
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
    }
}
