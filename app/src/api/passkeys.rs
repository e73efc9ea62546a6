//! Bodies of the passkey (WebAuthn) endpoints. The ceremony's options and
//! the browser's answers are webauthn-rs-proto's types, the same ones the
//! server's relying-party library reads and writes, so neither side writes
//! their JSON by hand; in the browser the same crate turns them into the
//! `navigator.credentials` arguments and back.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
pub use webauthn_rs_proto::{
    CreationChallengeResponse, Mediation, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

use super::values::PasskeyId;

/// A credential as the browser sent it: the library's type when it parses,
/// and what is wrong with it when it does not, so that a malformed
/// credential is refused with a problem of its own (`malformed_credential`)
/// rather than as a body of the wrong shape.
#[derive(Debug, Clone)]
pub enum Presented<T> {
    Parsed(T),
    Malformed(String),
}

impl<T> Presented<T> {
    /// The credential, or why it is not one.
    pub fn parsed(&self) -> Result<&T, &str> {
        match self {
            Self::Parsed(value) => Ok(value),
            Self::Malformed(why) => Err(why),
        }
    }
}

impl<T> Default for Presented<T> {
    fn default() -> Self {
        Self::Malformed("no credential was sent".into())
    }
}

impl<T> From<T> for Presented<T> {
    fn from(value: T) -> Self {
        Self::Parsed(value)
    }
}

impl<T: Serialize> Serialize for Presented<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Parsed(value) => value.serialize(serializer),
            Self::Malformed(_) => serializer.serialize_none(),
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Presented<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(match serde_json::from_value(value) {
            Ok(parsed) => Self::Parsed(parsed),
            Err(error) => Self::Malformed(error.to_string()),
        })
    }
}

/// What the browser passes to `navigator.credentials.create()` to make a
/// passkey for the signed-in account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyCreation {
    /// `{publicKey: …}`: a discoverable credential, the account's own
    /// passkeys excluded.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub options: CreationChallengeResponse,
}

/// A new passkey: the name it is listed under and what
/// `navigator.credentials.create()` answered.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct AddPasskeyRequest {
    pub name: String,
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub credential: Presented<RegisterPublicKeyCredential>,
}

/// One of the account's passkeys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Passkey {
    pub id: PasskeyId,
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; absent until it is first used to sign in.
    pub last_used_at: Option<String>,
    /// Synced to other devices (the authenticator says it is backed up).
    pub backed_up: bool,
}

/// The account's passkeys, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyList {
    pub passkeys: Vec<Passkey>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RenamePasskeyRequest {
    pub name: String,
}

/// What the browser passes to `navigator.credentials.get()`, and the id to
/// send the answer back with (single use, a few minutes).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyChallenge {
    pub challenge_id: String,
    /// `{publicKey: …}` with a fresh challenge.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub options: RequestChallengeResponse,
}

/// What `navigator.credentials.get()` answered to a [`PasskeyChallenge`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PasskeyAssertion {
    pub challenge_id: String,
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub credential: Presented<PublicKeyCredential>,
    /// A sign-in only: keep the session past the browser's closing.
    pub remember: bool,
}

/// Asks for a passkey challenge to finish a sign-in whose password was
/// right: `challenge` is the second-factor challenge it answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SecondFactorPasskeyRequest {
    pub challenge: String,
}

/// The longest passkey name, in characters.
pub const PASSKEY_NAME_MAX: usize = 64;

/// A passkey's name as typed: trimmed, 1 to 64 characters, no control
/// characters; `None` otherwise.
pub fn passkey_name(name: &str) -> Option<String> {
    let name = name.trim();
    let length = name.chars().count();
    ((1..=PASSKEY_NAME_MAX).contains(&length) && !name.chars().any(char::is_control))
        .then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_that_does_not_parse_is_kept_as_malformed_not_refused() {
        let body: PasskeyAssertion =
            serde_json::from_str(r#"{"challenge_id": "c", "credential": {"id": 5}}"#).unwrap();
        assert!(body.credential.parsed().is_err());
        let body: PasskeyAssertion = serde_json::from_str(r#"{"challenge_id": "c"}"#).unwrap();
        assert_eq!(
            body.credential.parsed().unwrap_err(),
            "no credential was sent"
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(passkey_name("  Laptop  ").as_deref(), Some("Laptop"));
        assert_eq!(passkey_name("   "), None);
        assert_eq!(passkey_name(&"x".repeat(PASSKEY_NAME_MAX + 1)), None);
        assert_eq!(passkey_name("a\u{7}b"), None);
    }
}
