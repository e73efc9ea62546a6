//! The refresh token cookie: HttpOnly (no script can read it), Secure,
//! SameSite=Strict, and scoped to the auth endpoints so that no other
//! request carries it.
//!
//! Beside it lives a hint that holds no secret, only "a session may exist",
//! readable by the page so that a visitor who never signed in is not sent
//! on a refresh that can only fail.

use app::api::endpoints::AUTH_PREFIX;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::auth::sessions::CookieLife;

pub const REFRESH_COOKIE: &str = "refresh_token";
pub const SESSION_HINT_COOKIE: &str = app::auth::SESSION_HINT_COOKIE;

pub fn refresh_token(jar: &CookieJar) -> Option<String> {
    jar.get(REFRESH_COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| !value.is_empty())
}

/// Sets the cookie to expire with the session, never later; or, for a
/// session not to be remembered, when the browser closes.
pub fn with_refresh_token(jar: CookieJar, token: String, life: CookieLife) -> CookieJar {
    let mut cookie = base(token);
    let mut hint = hint("1".into());
    if let CookieLife::Seconds(remaining) = life {
        let max_age = time::Duration::seconds(remaining.max(0));
        cookie.set_max_age(max_age);
        hint.set_max_age(max_age);
    }
    jar.add(cookie).add(hint)
}

pub fn without_refresh_token(jar: CookieJar) -> CookieJar {
    let mut cookie = base(String::new());
    let mut hint = hint(String::new());
    for cookie in [&mut cookie, &mut hint] {
        cookie.set_max_age(time::Duration::ZERO);
        cookie.set_expires(time::OffsetDateTime::UNIX_EPOCH);
    }
    jar.add(cookie).add(hint)
}

fn hint(value: String) -> Cookie<'static> {
    Cookie::build((SESSION_HINT_COOKIE, value))
        .secure(true)
        .same_site(SameSite::Strict)
        .path("/")
        .build()
}

fn base(value: String) -> Cookie<'static> {
    Cookie::build((REFRESH_COOKIE, value))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .path(AUTH_PREFIX)
        .build()
}
