//! Values that are checked once, where they enter, and trusted after: an
//! [`Email`] is always a normalized, valid address, a [`DisplayName`] always
//! a usable name, an id always a well-formed id of its own kind. The server
//! and the browser parse them with the same rules.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "ssr", schema(value_type = String, format = "uuid"))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.as_hyphenated().fmt(formatter)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Uuid::try_parse(value).map(Self)
            }
        }

        impl TryFrom<String> for $name {
            type Error = uuid::Error;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                value.parse()
            }
        }
    };
}

id_type! {
    /// Identifies an account.
    UserId
}

id_type! {
    /// Identifies a session: one sign-in on one device.
    SessionId
}

id_type! {
    /// Identifies a person of the directory.
    PersonId
}

id_type! {
    /// Identifies one of an account's passkeys (not the credential id the
    /// authenticator knows it by).
    PasskeyId
}

/// What an account may do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    User,
    Admin,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A name that is not a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "user" => Ok(Self::User),
            "admin" => Ok(Self::Admin),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

impl TryFrom<String> for Role {
    type Error = UnknownRole;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

/// Why a text is not a valid value; the message is meant for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub &'static str);

macro_rules! checked_text {
    ($(#[$doc:meta])* $name:ident, check: $check:path, format: $($format:tt)*) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "ssr", schema(value_type = String $($format)*))]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, Invalid> {
                $check(raw).map(Self).map_err(Invalid)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

checked_text! {
    /// A valid email address, trimmed and lower-cased.
    Email, check: check_email, format: , format = Email
}

checked_text! {
    /// A person's name as shown in the app: trimmed, 1 to 100 characters, no
    /// control characters.
    DisplayName, check: check_name, format:
}

/// The rules for the two values above, as plain functions: the forms check
/// what people type with them, field by field.
pub const EMAIL_MAX_CHARS: usize = 254;
pub const NAME_MAX_CHARS: usize = 100;

/// Addresses are compared trimmed and lower-cased.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// The normalized address, or why it is not one.
pub fn check_email(raw: &str) -> Result<String, &'static str> {
    let email = normalize_email(raw);
    if email.is_empty() {
        return Err("Enter your email address.");
    }
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Err("An email address has at most 254 characters.");
    }
    let options = email_address::Options::default()
        .without_display_text()
        .without_domain_literal();
    let parsed = email_address::EmailAddress::parse_with_options(&email, options)
        .map_err(|_| "Enter an email address like name@example.com.")?;
    // Addresses on bare hosts ("me@localhost") are valid syntax but never
    // deliverable for a public service.
    if !parsed.domain().contains('.') || parsed.domain().ends_with('.') {
        return Err("Enter an email address like name@example.com.");
    }
    Ok(email)
}

/// The trimmed name, or why it cannot be used.
pub fn check_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    let length = name.chars().count();
    if length == 0 {
        Err("Enter your name.")
    } else if length > NAME_MAX_CHARS {
        Err("Use at most 100 characters.")
    } else if name.chars().any(char::is_control) {
        Err("Use letters, digits, spaces and punctuation only.")
    } else {
        Ok(name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_only_uuids_and_print_hyphenated() {
        let text = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        let id: UserId = text.parse().unwrap();
        assert_eq!(id.to_string(), text);
        assert!("not-an-id".parse::<UserId>().is_err());
        assert!("".parse::<SessionId>().is_err());
        assert_eq!(serde_json::to_value(id).unwrap(), text);
    }

    #[test]
    fn roles_round_trip_and_refuse_strangers() {
        for role in [Role::User, Role::Admin] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn emails_are_normalized_and_invalid_ones_cannot_be_built() {
        let email = Email::parse("  Ada@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada@example.com");
        assert!(Email::parse("nope").is_err());
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
        let back: Email = serde_json::from_str("\"ADA@example.com\"").unwrap();
        assert_eq!(back, email);
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(DisplayName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert!(DisplayName::parse(" ").is_err());
        assert!(serde_json::from_str::<DisplayName>("\"\"").is_err());
    }
}
