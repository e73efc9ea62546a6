//! Input rules that both the server and the browser apply. The server is the
//! authority (it also rates password strength); the browser runs the same
//! rules as people type, so they rarely meet a server-side rejection.

pub use crate::api::values::{
    check_email, check_name, normalize_email, EMAIL_MAX_CHARS, NAME_MAX_CHARS,
};
use crate::api::{
    types::{LoginRequest, PersonInput, RegisterRequest},
    values::{DisplayName, Email},
    FieldError,
};

pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// Length only: strength is rated by the server, which knows more.
pub fn check_password(password: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length == 0 {
        Err("Choose a password.")
    } else if length < PASSWORD_MIN_CHARS {
        Err("Use at least 8 characters.")
    } else if length > PASSWORD_MAX_CHARS {
        Err("Use at most 128 characters.")
    } else {
        Ok(())
    }
}

pub const PHONE_MAX_CHARS: usize = 32;
pub const NOTES_MAX_CHARS: usize = 2000;

/// Loosely: digits with the usual separators, and at least three digits.
pub fn check_phone(raw: &str) -> Result<String, &'static str> {
    let phone = raw.trim();
    let allowed =
        |c: char| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.' | '/');
    if phone.chars().count() > PHONE_MAX_CHARS {
        Err("Use at most 32 characters.")
    } else if !phone.chars().all(allowed) || phone.chars().filter(char::is_ascii_digit).count() < 3
    {
        Err("Enter a phone number like +44 20 7946 0958.")
    } else {
        Ok(phone.to_owned())
    }
}

pub fn check_notes(raw: &str) -> Result<String, &'static str> {
    let notes = raw.trim();
    if notes.chars().count() > NOTES_MAX_CHARS {
        Err("Keep notes to 2000 characters.")
    } else if notes
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        Err("Use letters, digits, spaces and punctuation only.")
    } else {
        Ok(notes.to_owned())
    }
}

/// A person whose fields passed every shared rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPerson {
    pub name: DisplayName,
    pub email: Option<Email>,
    pub phone: Option<String>,
    pub notes: Option<String>,
}

/// An optional field: blank means absent.
fn optional(raw: &str) -> Option<&str> {
    (!raw.trim().is_empty()).then_some(raw)
}

pub fn validate_person(input: &PersonInput) -> Result<ValidPerson, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = DisplayName::parse(&input.name)
        .map_err(|invalid| errors.push(FieldError::new("name", invalid.0)))
        .ok();
    let email = match optional(&input.email) {
        Some(raw) => Email::parse(raw)
            .map(Some)
            .map_err(|invalid| errors.push(FieldError::new("email", invalid.0)))
            .unwrap_or(None),
        None => None,
    };
    let phone = match optional(&input.phone) {
        Some(raw) => check_phone(raw)
            .map(Some)
            .map_err(|message| errors.push(FieldError::new("phone", message)))
            .unwrap_or(None),
        None => None,
    };
    let notes = match optional(&input.notes) {
        Some(raw) => check_notes(raw)
            .map(Some)
            .map_err(|message| errors.push(FieldError::new("notes", message)))
            .unwrap_or(None),
        None => None,
    };
    match name {
        Some(name) if errors.is_empty() => Ok(ValidPerson {
            name,
            email,
            phone,
            notes,
        }),
        _ => Err(errors),
    }
}

/// A registration whose fields passed every shared rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRegistration {
    pub email: Email,
    pub password: String,
    pub name: DisplayName,
}

pub fn validate_registration(
    request: &RegisterRequest,
) -> Result<ValidRegistration, Vec<FieldError>> {
    let mut errors = Vec::new();
    let email = Email::parse(&request.email)
        .map_err(|invalid| errors.push(FieldError::new("email", invalid.0)))
        .ok();
    let password_ok = check_password(&request.password)
        .map_err(|message| errors.push(FieldError::new("password", message)))
        .is_ok();
    let name = DisplayName::parse(&request.name)
        .map_err(|invalid| errors.push(FieldError::new("name", invalid.0)))
        .ok();
    match (email, password_ok, name) {
        (Some(email), true, Some(name)) => Ok(ValidRegistration {
            email,
            password: request.password.clone(),
            name,
        }),
        _ => Err(errors),
    }
}

/// Login asks that both fields are filled in, and that the address could
/// be one; whether they match an account is for the server to say, in one
/// message for both cases. The typed address is the sign-in lockout's key
/// and the limits' target as it is, so it is held to what every address
/// has: at most 254 characters (not megabytes), an `@` (no other kind of
/// key has one: `session …`, `device …`), and no control characters (a
/// NUL cannot even be stored). The full syntax check stays with sign-up,
/// which keeps it out of the page every visitor loads.
pub fn validate_login(request: &LoginRequest) -> Result<(String, String), Vec<FieldError>> {
    let mut errors = Vec::new();
    let email = normalize_email(&request.email);
    let problem = if email.is_empty() {
        Some("Enter your email address.")
    } else if email.chars().any(char::is_control) {
        Some("An email address has no control characters.")
    } else if email.chars().count() > EMAIL_MAX_CHARS {
        Some("An email address has at most 254 characters.")
    } else if !email.contains('@') {
        Some("Enter an email address like name@example.com.")
    } else {
        None
    };
    if let Some(message) = problem {
        errors.push(FieldError::new("email", message));
    }
    if request.password.is_empty() {
        errors.push(FieldError::new("password", "Enter your password."));
    }
    if errors.is_empty() {
        Ok((email, request.password.clone()))
    } else {
        Err(errors)
    }
}

/// The authenticator app's code: six digits (spaces allowed, as some apps
/// show them in two groups).
pub fn check_app_code(value: &str) -> Result<(), &'static str> {
    let digits: Vec<char> = value.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.is_empty() {
        Err("Enter the code from your authenticator app.")
    } else if digits.len() != 6 || !digits.iter().all(char::is_ascii_digit) {
        Err("Enter the 6 digits your authenticator app shows.")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_login_address_with_a_control_character_is_a_field_error() {
        let request = crate::api::types::LoginRequest {
            email: "ada\u{0}@example.com".into(),
            password: "anything".into(),
            remember: true,
        };
        let errors = super::validate_login(&request).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "email");
    }

    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            check_email("  Ada.Lovelace@Example.COM "),
            Ok("ada.lovelace@example.com".into())
        );
    }

    #[test]
    fn bad_emails_are_refused() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a b@example.com",
            "Ada <ada@example.com>",
            "a@[127.0.0.1]",
            "a@example.",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(check_email(&long).is_err());
    }

    #[test]
    fn password_length_counts_characters_not_bytes() {
        assert!(check_password("").is_err());
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"é".repeat(128)).is_ok());
        assert!(check_password(&"é".repeat(129)).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  Ada  "), Ok("Ada".into()));
        assert!(check_name("   ").is_err());
        assert!(check_name(&"x".repeat(100)).is_ok());
        assert!(check_name(&"x".repeat(101)).is_err());
        assert!(check_name("Ada\u{0}").is_err());
    }

    #[test]
    fn registration_reports_every_bad_field() {
        let errors = validate_registration(&RegisterRequest {
            email: "nope".into(),
            password: "short".into(),
            name: " ".into(),
        })
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["email", "password", "name"]);
    }

    #[test]
    fn a_good_registration_is_normalized() {
        let valid = validate_registration(&RegisterRequest {
            email: " Ada@Example.com".into(),
            password: "correct horse battery staple".into(),
            name: " Ada Lovelace ".into(),
        })
        .unwrap();
        assert_eq!(valid.email.as_str(), "ada@example.com");
        assert_eq!(valid.name.as_str(), "Ada Lovelace");
    }

    #[test]
    fn people_need_a_name_and_valid_optional_fields() {
        let valid = validate_person(&PersonInput {
            name: " Ada ".into(),
            email: "".into(),
            phone: "+44 (20) 7946-0958".into(),
            notes: "Met at the\nconference.".into(),
        })
        .unwrap();
        assert_eq!(valid.name.as_str(), "Ada");
        assert_eq!(valid.email, None);
        assert_eq!(valid.phone.as_deref(), Some("+44 (20) 7946-0958"));
        let errors = validate_person(&PersonInput {
            name: "".into(),
            email: "nope".into(),
            phone: "call me".into(),
            notes: "x".repeat(2001),
        })
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["name", "email", "phone", "notes"]);
        assert!(check_phone("12").is_err());
    }

    #[test]
    fn a_login_address_must_be_an_address() {
        for email in [
            "x".repeat(3_000) + "@example.com",
            "session 0190f0f0-0000-7000-8000-000000000000".to_owned(),
            "device abc".to_owned(),
        ] {
            let errors = validate_login(&LoginRequest {
                email,
                password: "x".into(),
                remember: true,
            })
            .unwrap_err();
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field, "email");
        }
    }

    #[test]
    fn login_needs_both_fields() {
        let errors = validate_login(&LoginRequest::default()).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(
            validate_login(&LoginRequest {
                email: " A@B.io ".into(),
                password: "x".into(),
                remember: true,
            }),
            Ok(("a@b.io".into(), "x".into()))
        );
    }

    #[test]
    fn an_app_code_is_six_digits() {
        assert_eq!(check_app_code("123456"), Ok(()));
        assert_eq!(check_app_code(" 123 456 "), Ok(()));
        assert!(check_app_code("").is_err());
        assert!(check_app_code("   ").is_err());
        assert!(check_app_code("12345").is_err());
        assert!(check_app_code("1234567").is_err());
        assert!(check_app_code("12345a").is_err());
        assert!(check_app_code("１２３４５６").is_err());
    }
}
