//! Device cookies (OWASP's defence against lockout abuse): a browser that
//! signed in to an account gets a cookie, signed by the server, naming a
//! random device id and the account's address (as a keyed hash, so the
//! cookie does not carry the address itself). Its later sign-ins to that
//! address count their failures toward the device's own lockout key rather
//! than the address's: someone locking the address from elsewhere does not
//! lock its owner out of their own browser.
//!
//! What an attacker may try, and what answers it:
//! - Forge a cookie, or move one to another address: the HMAC covers the
//!   id, the address hash and the issue time, under a key derived from the
//!   server's signing secret.
//! - Guess passwords with a stolen device cookie: the device's key locks
//!   after as many failures as an address would.
//! - Keep one forever: it is refused after [`DEVICE_COOKIE_TTL_SECS`].

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use app::api::values::normalize_email;

type HmacSha256 = Hmac<Sha256>;

/// How long a device cookie counts: a device seen within half a year.
pub const DEVICE_COOKIE_TTL_SECS: i64 = 180 * 24 * 60 * 60;

const VERSION: &str = "d1";

#[derive(Clone)]
pub struct DeviceCookies {
    key: [u8; 32],
}

impl DeviceCookies {
    /// Derives its own key from the server's signing secret, so that a
    /// device cookie's MAC can never pass for anything else's.
    pub fn new(signing_secret: &[u8]) -> Self {
        let mut mac =
            HmacSha256::new_from_slice(signing_secret).expect("HMAC takes keys of any length");
        mac.update(b"device-cookie key v1");
        Self {
            key: mac.finalize().into_bytes().into(),
        }
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length")
    }

    fn address_tag(&self, email: &str) -> String {
        let mut mac = self.mac();
        mac.update(b"address:");
        mac.update(normalize_email(email).as_bytes());
        URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16])
    }

    /// A fresh cookie value for a browser that just signed in as `email`.
    pub fn issue(&self, email: &str, now: i64) -> String {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).expect("the operating system's random source is available");
        let payload = format!(
            "{VERSION}.{}.{}.{now}",
            URL_SAFE_NO_PAD.encode(id),
            self.address_tag(email)
        );
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{payload}.{signature}")
    }

    /// The device id of a cookie issued by this server to `email` within
    /// its lifetime; `None` for anything else.
    pub fn verify_at(&self, cookie: &str, email: &str, now: i64) -> Option<String> {
        let (payload, signature) = cookie.rsplit_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).ok()?;
        let mut parts = payload.split('.');
        let (Some(VERSION), Some(id), Some(tag), Some(issued), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let issued: i64 = issued.parse().ok()?;
        let fresh = issued <= now && now - issued < DEVICE_COOKIE_TTL_SECS;
        (fresh && tag == self.address_tag(email)).then(|| id.to_owned())
    }

    pub fn verify(&self, cookie: &str, email: &str) -> Option<String> {
        self.verify_at(cookie, email, crate::clock::unix_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies() -> DeviceCookies {
        DeviceCookies::new(b"a test signing secret of some length")
    }

    #[test]
    fn a_cookie_names_its_device_for_its_address_only() {
        let cookies = cookies();
        let cookie = cookies.issue("Ada@Example.com", 1_000);
        let id = cookies.verify_at(&cookie, " ada@example.com ", 1_001);
        assert!(id.is_some());
        assert_eq!(cookies.verify_at(&cookie, "ada@example.com", 2_000), id);
        assert_eq!(cookies.verify_at(&cookie, "eve@example.com", 1_001), None);
        // Another device gets another id.
        let other = cookies.issue("ada@example.com", 1_000);
        assert_ne!(cookies.verify_at(&other, "ada@example.com", 1_001), id);
    }

    #[test]
    fn forged_moved_or_stale_cookies_are_refused() {
        let cookies = cookies();
        let cookie = cookies.issue("ada@example.com", 1_000);
        let (payload, signature) = cookie.rsplit_once('.').unwrap();
        // Another server's key.
        let stranger = DeviceCookies::new(b"another secret");
        assert_eq!(stranger.verify_at(&cookie, "ada@example.com", 1_001), None);
        // The payload changed under the same signature.
        let tampered = format!("{}.{signature}", payload.replace(".1000", ".1001"));
        assert_eq!(cookies.verify_at(&tampered, "ada@example.com", 1_002), None);
        // Too old, or from the future.
        let later = 1_000 + DEVICE_COOKIE_TTL_SECS;
        assert_eq!(cookies.verify_at(&cookie, "ada@example.com", later), None);
        assert_eq!(cookies.verify_at(&cookie, "ada@example.com", 999), None);
        for junk in ["", ".", "d1.a.b.c", "d1.a.b.c.d.e", "nonsense"] {
            assert_eq!(cookies.verify_at(junk, "ada@example.com", 1_001), None);
        }
    }
}
