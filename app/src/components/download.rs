//! Files the page hands to the browser to save, made in the page itself:
//! a `data:` URL, so nothing is sent anywhere, and a link to it works
//! before the page has hydrated.

/// A `data:` URL of type `mime` holding `text` (UTF-8, percent-encoded:
/// every byte but the unreserved ones).
pub fn data_url(mime: &str, text: &str) -> String {
    let mut url = format!("data:{mime};charset=utf-8,");
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_encodes_every_byte_but_the_unreserved() {
        assert_eq!(
            data_url("text/plain", "a-b c\n%é"),
            "data:text/plain;charset=utf-8,a-b%20c%0A%25%C3%A9"
        );
    }

    #[test]
    fn json_survives_the_round_trip() {
        let url = data_url("application/json", r#"{"a":"b"}"#);
        assert_eq!(
            url,
            "data:application/json;charset=utf-8,%7B%22a%22%3A%22b%22%7D"
        );
    }
}
