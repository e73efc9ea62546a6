//! Where to go after signing in. `?next=` comes from the address bar, so it
//! is only followed when it is a path on this site: never another origin.

use crate::routes::Page;

/// `next` if it is a local path, else the home page.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control)
                && !path.starts_with(Page::Login.path()) =>
        {
            path.to_owned()
        }
        _ => Page::Home.path().to_owned(),
    }
}

/// The login page, asked to come back to `here` afterwards.
pub fn login_path_returning_to(here: &str) -> String {
    let mut query = String::from("next=");
    for byte in here.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                query.push(byte as char)
            }
            other => query.push_str(&format!("%{other:02X}")),
        }
    }
    format!("{}?{query}", Page::Login.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/account")), "/account");
        assert_eq!(safe_next(Some("/account?tab=x#y")), "/account?tab=x#y");
        for hostile in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "account",
            "/login?next=/x",
            "/\u{0}x",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn the_return_path_is_encoded() {
        assert_eq!(login_path_returning_to("/account"), "/login?next=/account");
        assert_eq!(
            login_path_returning_to("/a?b=c&d"),
            "/login?next=/a%3Fb%3Dc%26d"
        );
    }
}
