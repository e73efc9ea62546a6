//! The messages of an account's lifecycle: a change of email address (the
//! confirmation to the new address or the notice that it is taken, the
//! notice with the undo link to the old address, and what the undo sends),
//! and the goodbye of a deleted account. A link's lifetime is its caller's
//! to set ([`Letter::link_expiring_at`]).

use app::api::values::{DisplayName, Email};

use super::{
    templates::{addressee, escape, layout},
    Letter, MailKind,
};

/// The link that confirms a change of address, to the new address. It
/// greets nobody by name: whoever asked typed the address, which may not
/// be theirs, and the account's name is their free text.
pub fn confirm_email_change(to_address: &Email, link: &str) -> Letter {
    let text = format!(
        "Hello,\n\n\
         Someone (hopefully you) asked to use this email address for their \
         account. To confirm it, open this link:\n\n\
         {link}\n\n\
         The link works once and expires in 30 minutes. Until it is opened \
         the account keeps its old address. If you did not ask, ignore this \
         message: nothing changes.\n"
    );
    let html = layout(&format!(
        "<p>Hello,</p>\
         <p>Someone (hopefully you) asked to use this email address for their \
         account. To confirm it, open this link:</p>\
         <p><a href=\"{link}\">Confirm my new email address</a></p>\
         <p>The link works once and expires in 30 minutes. Until it is opened \
         the account keeps its old address. If you did not ask, ignore this \
         message: nothing changes.</p>",
        link = escape(link),
    ));
    Letter {
        kind: MailKind::ConfirmEmailChange,
        to_address: to_address.clone(),
        to_name: addressee(to_address),
        subject: "Confirm your new email address".into(),
        text,
        html,
        link: link.to_owned(),
        link_expires_at: None,
    }
}

/// Sent instead of a confirmation link when the new address already has
/// an account (the asker's own included): its owner learns of it, the
/// asker learns nothing from the answer.
pub fn email_change_taken(to_address: &Email, name: &DisplayName, login_link: &str) -> Letter {
    let text = format!(
        "Hello {name},\n\n\
         Someone (perhaps you) asked to move an account to this email \
         address, which already has an account. Nothing was changed. You can \
         sign in here:\n\n\
         {login_link}\n\n\
         If it was not you, you can ignore this message.\n"
    );
    let html = layout(&format!(
        "<p>Hello {name},</p>\
         <p>Someone (perhaps you) asked to move an account to this email \
         address, which already has an account. Nothing was changed.</p>\
         <p><a href=\"{link}\">Sign in</a></p>\
         <p>If it was not you, you can ignore this message.</p>",
        name = escape(name.as_str()),
        link = escape(login_link),
    ));
    Letter {
        kind: MailKind::ConfirmEmailChange,
        to_address: to_address.clone(),
        to_name: name.clone(),
        subject: "This email address already has an account".into(),
        text,
        html,
        link: login_link.to_owned(),
        link_expires_at: None,
    }
}

/// To the old address once the new one is confirmed: what changed, and
/// the link that undoes it.
pub fn email_changed(
    to_address: &Email,
    name: &DisplayName,
    new_address: &Email,
    undo_link: &str,
) -> Letter {
    let text = format!(
        "Hello {name},\n\n\
         The email address of your account was changed to {new_address}, and \
         every other session was signed out. From now on you sign in with \
         the new address.\n\n\
         If that was not you, undo it with this link within 7 days:\n\n\
         {undo_link}\n\n\
         Undoing it puts this address back, signs the account out everywhere \
         and sends a link to this address to choose a new password.\n"
    );
    let html = layout(&format!(
        "<p>Hello {name},</p>\
         <p>The email address of your account was changed to {new_address}, and \
         every other session was signed out. From now on you sign in with \
         the new address.</p>\
         <p>If that was not you, <a href=\"{link}\">undo it</a> within 7 days.</p>\
         <p>Undoing it puts this address back, signs the account out everywhere \
         and sends a link to this address to choose a new password.</p>",
        name = escape(name.as_str()),
        new_address = escape(new_address.as_str()),
        link = escape(undo_link),
    ));
    Letter {
        kind: MailKind::EmailChanged,
        to_address: to_address.clone(),
        to_name: name.clone(),
        subject: "Your email address was changed".into(),
        text,
        html,
        link: undo_link.to_owned(),
        link_expires_at: None,
    }
}

/// After an undo, to the address that is back: the password no longer
/// works, and this link chooses a new one (a reset link).
/// `taken_back` names the second factors added while the account was in
/// other hands, which the undo removed.
pub fn email_change_undone(
    to_address: &Email,
    name: &DisplayName,
    reset_link: &str,
    taken_back: Option<&str>,
) -> Letter {
    let factors = taken_back.map(|factors| {
        format!(
            "The second factors added since the change was asked for were removed \
             too ({factors}): set them up again once you are back in."
        )
    });
    let text = format!(
        "Hello {name},\n\n\
         The change of your account's email address was undone: you sign in \
         with this address again. Every session was signed out, and the \
         password stopped working, since whoever changed the address may \
         know it.{factors_text} Choose a new password here:\n\n\
         {reset_link}\n\n\
         The link works once and expires in 30 minutes; after that, ask for \
         a new one from the sign-in page (\"Forgot your password?\").\n",
        factors_text = factors
            .as_ref()
            .map(|f| format!(" {f}"))
            .unwrap_or_default(),
    );
    let html = layout(&format!(
        "<p>Hello {name},</p>\
         <p>The change of your account's email address was undone: you sign in \
         with this address again. Every session was signed out, and the \
         password stopped working, since whoever changed the address may \
         know it.</p>{factors_html}\
         <p><a href=\"{link}\">Choose a new password</a></p>\
         <p>The link works once and expires in 30 minutes; after that, ask for \
         a new one from the sign-in page (\"Forgot your password?\").</p>",
        name = escape(name.as_str()),
        factors_html = factors
            .as_ref()
            .map(|f| format!("<p>{}</p>", escape(f)))
            .unwrap_or_default(),
        link = escape(reset_link),
    ));
    Letter {
        kind: MailKind::ResetPassword,
        to_address: to_address.clone(),
        to_name: name.clone(),
        subject: "Choose a new password".into(),
        text,
        html,
        link: reset_link.to_owned(),
        link_expires_at: None,
    }
}

/// Who deleted an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletedBy {
    Owner,
    Admin,
}

/// The goodbye of a deleted account; the only message to its address that
/// outlives the deletion.
pub fn account_deleted(
    to_address: &Email,
    name: &DisplayName,
    by: DeletedBy,
    register_link: &str,
) -> Letter {
    let what = match by {
        DeletedBy::Owner => "Your account was deleted, as you asked.",
        DeletedBy::Admin => "An administrator deleted your account.",
    };
    let text = format!(
        "Hello {name},\n\n\
         {what} Everything that was yours is gone and every session was \
         signed out. People you added to the directory stay there, without \
         your name.\n\n\
         You can sign up again with this address at any time:\n\n\
         {register_link}\n"
    );
    let html = layout(&format!(
        "<p>Hello {name},</p>\
         <p>{what} Everything that was yours is gone and every session was \
         signed out. People you added to the directory stay there, without \
         your name.</p>\
         <p>You can <a href=\"{link}\">sign up again</a> with this address at any time.</p>",
        name = escape(name.as_str()),
        what = escape(what),
        link = escape(register_link),
    ));
    Letter {
        kind: MailKind::AccountDeleted,
        to_address: to_address.clone(),
        to_name: name.clone(),
        subject: "Your account was deleted".into(),
        text,
        html,
        link: register_link.to_owned(),
        link_expires_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmation_greets_no_typed_name_and_escapes_its_link() {
        let letter = confirm_email_change(
            &Email::parse("new.me@example.com").unwrap(),
            "https://x/confirm-email?token=1&a=b",
        );
        assert_eq!(letter.to_name.as_str(), "new.me");
        assert!(letter.text.starts_with("Hello,\n"));
        assert!(letter.html.contains("token=1&amp;a=b"));
    }

    #[test]
    fn names_are_escaped() {
        let name = DisplayName::parse("<b>x</b>").unwrap();
        let to = Email::parse("a@example.com").unwrap();
        for letter in [
            email_change_taken(&to, &name, "https://x/login"),
            email_changed(&to, &name, &to, "https://x/undo"),
            email_change_undone(&to, &name, "https://x/reset", Some("<b>a passkey</b>")),
            account_deleted(&to, &name, DeletedBy::Admin, "https://x/register"),
        ] {
            assert!(!letter.html.contains("<b>"), "{}", letter.subject);
        }
    }
}
