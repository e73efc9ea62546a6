//! The cookies a response sets, parsed.

/// The refresh cookie a response sets, parsed.
#[derive(Debug, Clone)]
pub struct SetCookie {
    pub value: String,
    pub attributes: Vec<String>,
}

impl SetCookie {
    pub fn has(&self, attribute: &str) -> bool {
        self.attributes
            .iter()
            .any(|present| present.eq_ignore_ascii_case(attribute))
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find_map(|attribute| {
            let (key, value) = attribute.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }
}

pub fn set_cookie(response: &reqwest::Response) -> Option<SetCookie> {
    cookie_named(response, "refresh_token")
}

pub fn cookie_named(response: &reqwest::Response, name: &str) -> Option<SetCookie> {
    let prefix = format!("{name}=");
    let cookies: Vec<_> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter(|value| value.starts_with(&prefix))
        .collect();
    assert!(cookies.len() <= 1, "several {name} cookies: {cookies:?}");
    let mut parts = cookies.first()?.split(';').map(str::trim);
    let value = parts.next()?.trim_start_matches(&prefix).to_owned();
    Some(SetCookie {
        value,
        attributes: parts.map(str::to_owned).collect(),
    })
}
