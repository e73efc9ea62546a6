//! The refresh token cookie: HttpOnly (no script can read it), Secure,
//! SameSite=Strict, and scoped to the auth endpoints so that no other
//! request carries it.
//!
//! Behind HTTPS its name carries the `__Secure-` prefix: a browser accepts
//! such a cookie only when it is set `Secure` from a secure origin, so a
//! network attacker answering a plain-http request for the site cannot
//! plant a refresh cookie of their choosing (signing the victim into the
//! attacker's session). Over plain http (development, tests on 127.0.0.1)
//! a browser would refuse the prefixed name, so it stays `refresh_token`.
//!
//! Beside it lives a hint that holds no secret, only "a session may exist",
//! readable by the page so that a visitor who never signed in is not sent
//! on a refresh that can only fail.

use app::api::endpoints::AUTH_PREFIX;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use url::Url;

use crate::{auth::sessions::CookieLife, config::Settings};

/// The refresh cookie's name over plain http.
pub const REFRESH_COOKIE: &str = "refresh_token";
/// The refresh cookie's name behind HTTPS.
pub const SECURE_REFRESH_COOKIE: &str = "__Secure-refresh_token";
pub const SESSION_HINT_COOKIE: &str = app::auth::SESSION_HINT_COOKIE;

/// Which name the refresh cookie has where the app is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshCookie {
    name: &'static str,
}

impl RefreshCookie {
    /// Prefixed when `APP_URL`, the address browsers use, is https.
    pub fn for_app_url(app_url: &Url) -> Self {
        let name = if app_url.scheme() == "https" {
            SECURE_REFRESH_COOKIE
        } else {
            REFRESH_COOKIE
        };
        Self { name }
    }

    pub fn for_settings(settings: &Settings) -> Self {
        Self::for_app_url(&settings.app_url)
    }

    pub fn name(self) -> &'static str {
        self.name
    }

    /// Behind HTTPS, the unprefixed cookie is one set before the prefix
    /// came in, or planted over plain http: never read, and cleared
    /// whenever the browser sends it.
    fn legacy(self) -> Option<&'static str> {
        (self.name != REFRESH_COOKIE).then_some(REFRESH_COOKIE)
    }
}

pub fn refresh_token(settings: &Settings, jar: &CookieJar) -> Option<String> {
    jar.get(RefreshCookie::for_settings(settings).name())
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| !value.is_empty())
}

/// Sets the cookie to expire with the session, never later; or, for a
/// session not to be remembered, when the browser closes.
pub fn with_refresh_token(
    settings: &Settings,
    jar: CookieJar,
    token: String,
    life: CookieLife,
) -> CookieJar {
    let refresh = RefreshCookie::for_settings(settings);
    let mut cookie = base(refresh.name(), token);
    let mut hint = hint("1".into());
    if let CookieLife::Seconds(remaining) = life {
        let max_age = time::Duration::seconds(remaining.max(0));
        cookie.set_max_age(max_age);
        hint.set_max_age(max_age);
    }
    without_legacy(refresh, jar).add(cookie).add(hint)
}

pub fn without_refresh_token(settings: &Settings, jar: CookieJar) -> CookieJar {
    let refresh = RefreshCookie::for_settings(settings);
    let cookie = expired(base(refresh.name(), String::new()));
    let hint = expired(hint(String::new()));
    without_legacy(refresh, jar).add(cookie).add(hint)
}

/// Clears the unprefixed cookie if the browser sent one where the prefixed
/// one is in use.
fn without_legacy(refresh: RefreshCookie, jar: CookieJar) -> CookieJar {
    match refresh.legacy() {
        Some(legacy) if jar.get(legacy).is_some() => jar.add(expired(base(legacy, String::new()))),
        _ => jar,
    }
}

fn expired(mut cookie: Cookie<'static>) -> Cookie<'static> {
    cookie.set_max_age(time::Duration::ZERO);
    cookie.set_expires(time::OffsetDateTime::UNIX_EPOCH);
    cookie
}

fn hint(value: String) -> Cookie<'static> {
    Cookie::build((SESSION_HINT_COOKIE, value))
        .secure(true)
        .same_site(SameSite::Strict)
        .path("/")
        .build()
}

fn base(name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .path(AUTH_PREFIX)
        .build()
}

/// The device cookie (see `auth::device_cookie`): sent only to the sign-in
/// endpoint, HttpOnly and SameSite=Strict like the refresh cookie, and kept
/// across browser restarts for as long as it counts.
pub const DEVICE_COOKIE: &str = "device";
const DEVICE_COOKIE_PATH: &str = "/api/auth/login";

pub fn device_cookie(jar: &CookieJar) -> Option<&str> {
    jar.get(DEVICE_COOKIE)
        .map(Cookie::value)
        .filter(|value| !value.is_empty())
}

pub fn with_device_cookie(jar: CookieJar, value: String) -> CookieJar {
    let cookie = Cookie::build((DEVICE_COOKIE, value))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .path(DEVICE_COOKIE_PATH)
        .max_age(time::Duration::seconds(
            crate::auth::device_cookie::DEVICE_COOKIE_TTL_SECS,
        ))
        .build();
    jar.add(cookie)
}

#[cfg(test)]
mod tests {
    use axum::http::{header, HeaderMap, HeaderValue};

    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn behind_https_the_name_has_the_secure_prefix() {
        for (app_url, name) in [
            ("https://accounts.example.com", "__Secure-refresh_token"),
            ("https://127.0.0.1:3000/app/", "__Secure-refresh_token"),
            ("HTTPS://accounts.example.com", "__Secure-refresh_token"),
            ("http://127.0.0.1:3000", "refresh_token"),
            ("http://accounts.example.com", "refresh_token"),
        ] {
            assert_eq!(
                RefreshCookie::for_app_url(&url(app_url)).name(),
                name,
                "{app_url}"
            );
        }
    }

    fn settings(app_url: &str) -> Settings {
        let app_url = app_url.to_owned();
        Settings::from_lookup(|name| match name {
            "APP_ENV" => Some("development".into()),
            "APP_URL" => Some(app_url.clone()),
            _ => None,
        })
        .unwrap()
    }

    fn jar(cookies: &'static str) -> CookieJar {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static(cookies));
        CookieJar::from_headers(&headers)
    }

    /// The `Set-Cookie` lines a response with this jar carries.
    fn set_cookies(jar: CookieJar) -> Vec<String> {
        use axum::response::IntoResponse as _;
        (jar, ())
            .into_response()
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn behind_https_only_the_prefixed_cookie_is_read_and_set() {
        let https = settings("https://127.0.0.1:3000");
        let sent = jar("refresh_token=planted; __Secure-refresh_token=real");
        assert_eq!(refresh_token(&https, &sent).as_deref(), Some("real"));
        assert_eq!(refresh_token(&https, &jar("refresh_token=planted")), None);

        let set = set_cookies(with_refresh_token(
            &https,
            sent.clone(),
            "fresh".into(),
            CookieLife::BrowserSession,
        ));
        assert!(set
            .iter()
            .any(|cookie| cookie.starts_with("__Secure-refresh_token=fresh;")
                && cookie.contains("Secure")
                && cookie.contains("HttpOnly")
                && cookie.contains("Path=/api/auth")));
        // The unprefixed one the browser sent is cleared.
        assert!(
            set.iter()
                .any(|cookie| cookie.starts_with("refresh_token=;")
                    && cookie.contains("Max-Age=0")
                    && cookie.contains("Path=/api/auth")),
            "{set:?}"
        );

        let set = set_cookies(without_refresh_token(&https, jar("other=1")));
        assert!(set
            .iter()
            .any(|cookie| cookie.starts_with("__Secure-refresh_token=;")
                && cookie.contains("Max-Age=0")));
        assert!(
            !set.iter()
                .any(|cookie| cookie.starts_with("refresh_token=")),
            "nothing to clear when none was sent: {set:?}"
        );
    }

    #[test]
    fn over_http_the_name_stays_plain() {
        let http = settings("http://127.0.0.1:3000");
        let sent = jar("refresh_token=real; __Secure-refresh_token=other");
        assert_eq!(refresh_token(&http, &sent).as_deref(), Some("real"));
        let set = set_cookies(with_refresh_token(
            &http,
            sent,
            "fresh".into(),
            CookieLife::BrowserSession,
        ));
        assert!(set
            .iter()
            .any(|cookie| cookie.starts_with("refresh_token=fresh;")));
        assert!(!set.iter().any(|cookie| cookie.starts_with("__Secure-")));
    }
}
