//! The messages the app sends, as plain text with an HTML alternative.
//! A letter's link does not expire until its caller says when it does
//! ([`Letter::link_expiring_at`]): the caller made the link and knows its
//! lifetime.

use app::api::values::{DisplayName, Email};

use super::{Letter, MailKind};

/// The link of a sign-up. It greets nobody by name: the name was typed
/// into the sign-up form by whoever filled it in, and this message goes to
/// an address that may not be theirs.
pub fn verify_email(to_address: &Email, link: &str) -> Letter {
    let text = format!(
        "Hello,\n\n\
         Someone (hopefully you) signed up with this email address. To \
         confirm it, open this link and enter the password chosen at sign-up:\n\n\
         {link}\n\n\
         The link expires in 24 hours. If you did not sign up, ignore this \
         message: without that password nobody can confirm it.\n"
    );
    let html = layout(&format!(
        "<p>Hello,</p>\
         <p>Someone (hopefully you) signed up with this email address. To \
         confirm it, open this link and enter the password chosen at sign-up:</p>\
         <p><a href=\"{link}\">Confirm my email address</a></p>\
         <p>The link expires in 24 hours. If you did not sign up, ignore this \
         message: without that password nobody can confirm it.</p>",
        link = escape(link),
    ));
    Letter {
        kind: MailKind::VerifyEmail,
        to_address: to_address.clone(),
        to_name: addressee(to_address),
        subject: "Verify your email address".into(),
        text,
        html,
        link: link.to_owned(),
        link_expires_at: None,
    }
}

/// The name a message to an address without a known owner is addressed
/// to: the address's local part, which is no one's free text.
pub(super) fn addressee(address: &Email) -> DisplayName {
    let local = address.as_str().split('@').next().unwrap_or_default();
    DisplayName::parse(local)
        .or_else(|_| DisplayName::parse("there"))
        .expect("a plain word is a valid name")
}

/// Sent instead of a verification link when someone registers an address
/// that already has an account: the owner learns of it, the requester
/// learns nothing.
pub fn already_registered(to_address: &Email, name: &DisplayName, login_link: &str) -> Letter {
    let text = format!(
        "Hello {name},\n\n\
         Someone (perhaps you) tried to create an account with this email \
         address, which already has one. You can sign in here:\n\n\
         {login_link}\n\n\
         If it was not you, you can ignore this message; nothing has changed.\n"
    );
    let html = layout(&format!(
        "<p>Hello {name},</p>\
         <p>Someone (perhaps you) tried to create an account with this email \
         address, which already has one.</p>\
         <p><a href=\"{link}\">Sign in</a></p>\
         <p>If it was not you, you can ignore this message; nothing has changed.</p>",
        name = escape(name.as_str()),
        link = escape(login_link),
    ));
    Letter {
        kind: MailKind::AlreadyRegistered,
        to_address: to_address.clone(),
        to_name: name.clone(),
        subject: "You already have an account".into(),
        text,
        html,
        link: login_link.to_owned(),
        link_expires_at: None,
    }
}

/// A link to choose a new password.
pub fn reset_password(to_address: &Email, name: &DisplayName, link: &str) -> Letter {
    let text = format!(
        "Hello {name},\n\n\
         Someone (perhaps you) asked to reset the password of your account. \
         Choose a new one here:\n\n\
         {link}\n\n\
         The link works once and expires in 30 minutes. If you did not ask, \
         ignore this message: your password stays as it is.\n"
    );
    let html = layout(&format!(
        "<p>Hello {name},</p>\
         <p>Someone (perhaps you) asked to reset the password of your account.</p>\
         <p><a href=\"{link}\">Choose a new password</a></p>\
         <p>The link works once and expires in 30 minutes. If you did not ask, \
         ignore this message: your password stays as it is.</p>",
        name = escape(name.as_str()),
        link = escape(link),
    ));
    Letter {
        kind: MailKind::ResetPassword,
        to_address: to_address.clone(),
        to_name: name.clone(),
        subject: "Reset your password".into(),
        text,
        html,
        link: link.to_owned(),
        link_expires_at: None,
    }
}

/// Tells the owner that the password changed, with the way back in should
/// it not have been them.
pub fn password_changed(to_address: &Email, name: &DisplayName, forgot_link: &str) -> Letter {
    let text = format!(
        "Hello {name},\n\n\
         The password of your account was just changed, and every other \
         session was signed out.\n\n\
         If that was not you, reset your password now:\n\n\
         {forgot_link}\n"
    );
    let html = layout(&format!(
        "<p>Hello {name},</p>\
         <p>The password of your account was just changed, and every other \
         session was signed out.</p>\
         <p>If that was not you, <a href=\"{link}\">reset your password now</a>.</p>",
        name = escape(name.as_str()),
        link = escape(forgot_link),
    ));
    Letter {
        kind: MailKind::PasswordChanged,
        to_address: to_address.clone(),
        to_name: name.clone(),
        subject: "Your password was changed".into(),
        text,
        html,
        link: forgot_link.to_owned(),
        link_expires_at: None,
    }
}

/// Tells the owner of a change to how their account is protected (a second
/// factor turned on or off, new recovery codes, a recovery code used),
/// with the way back in should it not have been them.
pub fn security_notice(
    to_address: &Email,
    name: &DisplayName,
    what: &str,
    forgot_link: &str,
) -> Letter {
    let text = format!(
        "Hello {name},\n\n\
         {what}\n\n\
         If that was not you, reset your password now:\n\n\
         {forgot_link}\n"
    );
    let html = layout(&format!(
        "<p>Hello {name},</p><p>{what}</p>\
         <p>If that was not you, <a href=\"{link}\">reset your password now</a>.</p>",
        name = escape(name.as_str()),
        what = escape(what),
        link = escape(forgot_link),
    ));
    Letter {
        kind: MailKind::SecurityNotice,
        to_address: to_address.clone(),
        to_name: name.clone(),
        subject: "A change to how your account is protected".into(),
        text,
        html,
        link: forgot_link.to_owned(),
        link_expires_at: None,
    }
}

pub(super) fn layout(body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><body style=\"font-family: system-ui, sans-serif; \
         line-height: 1.5\">{body}</body></html>"
    )
}

/// Names are user input and must not become markup.
pub(super) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_links_are_escaped_in_html() {
        let email = already_registered(
            &Email::parse("a@example.com").unwrap(),
            &DisplayName::parse("<script>x</script>").unwrap(),
            "https://x/login?a=1&b=2",
        );
        assert!(!email.html.contains("<script>"));
        assert!(email.html.contains("&lt;script&gt;"));
        assert!(email.html.contains("login?a=1&amp;b=2"));
        let email = verify_email(
            &Email::parse("a@example.com").unwrap(),
            "https://x/verify?token=1&a=b",
        );
        assert!(email.html.contains("token=1&amp;a=b"));
        assert!(email.text.contains("https://x/verify?token=1&a=b"));
    }

    #[test]
    fn a_sign_up_link_greets_no_typed_name() {
        let email = verify_email(&Email::parse("ada.l@example.com").unwrap(), "https://x/v");
        assert_eq!(email.to_name.as_str(), "ada.l");
        assert!(email.text.starts_with("Hello,\n"));
    }
}
