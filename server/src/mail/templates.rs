//! The messages the app sends, as plain text with an HTML alternative.

use app::api::values::{DisplayName, Email};

use super::{Letter, MailKind};

pub fn verify_email(to_address: &Email, name: &DisplayName, link: &str) -> Letter {
    let text = format!(
        "Hello {name},\n\n\
         Please confirm your email address by opening this link:\n\n\
         {link}\n\n\
         The link works once and expires in 24 hours. If you did not create \
         an account, ignore this message.\n"
    );
    let html = layout(&format!(
        "<p>Hello {name},</p>\
         <p>Please confirm your email address:</p>\
         <p><a href=\"{link}\">Verify my email address</a></p>\
         <p>The link works once and expires in 24 hours. If you did not create \
         an account, ignore this message.</p>",
        name = escape(name.as_str()),
        link = escape(link),
    ));
    Letter {
        kind: MailKind::VerifyEmail,
        to_address: to_address.clone(),
        to_name: name.clone(),
        subject: "Verify your email address".into(),
        text,
        html,
        link: link.to_owned(),
    }
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
    }
}

fn layout(body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><body style=\"font-family: system-ui, sans-serif; \
         line-height: 1.5\">{body}</body></html>"
    )
}

/// Names are user input and must not become markup.
fn escape(text: &str) -> String {
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
    fn names_are_escaped_in_html() {
        let email = verify_email(
            &Email::parse("a@example.com").unwrap(),
            &DisplayName::parse("<script>x</script>").unwrap(),
            "https://x/verify?token=1&a=b",
        );
        assert!(!email.html.contains("<script>"));
        assert!(email.html.contains("&lt;script&gt;"));
        assert!(email.html.contains("token=1&amp;a=b"));
        assert!(email.text.contains("https://x/verify?token=1&a=b"));
    }
}
