//! Deleting an account, by its owner or by an admin. Everything that is the
//! account's own goes, in one transaction: the account's row and, through
//! its foreign keys, its sessions and their refresh tokens, its emailed
//! links, its second factors, its waiting and undoable changes of address
//! and its activity; the failed re-authentications of its sessions; and
//! what is keyed by its address: pending sign-ups, other accounts' waiting
//! changes to it, failed sign-ins, and every message to it but the goodbye
//! that confirms the deletion, and the mail to the addresses it had lately
//! (those no other account has now); to an address it only asked to move
//! to, the confirmation link it asked for. Shared records
//! the account wrote (people of the directory) stay, without its id (the
//! foreign keys set it NULL). Mentions of the addresses it had in other
//! accounts' activity are replaced, whole addresses only. Afterwards the
//! address is free to sign up again.
//!
//! What an attacker may try, and what answers it:
//! - Delete the account from a borrowed, signed-in browser: it needs a
//!   recent proof of who the user is (step-up).
//! - Keep using a session of the deleted account, on any instance: its
//!   sessions end in the deleting transaction, are announced with it, and
//!   their revocations outlive the rows (`revoked_sessions`), so an
//!   instance that starts or reconciles later still refuses their tokens.
//! - Leave no admin: the delete is one statement that refuses the last
//!   enabled admin, serialized with every role change (PostgreSQL's
//!   advisory lock, SQLite's single writer), so of two admins deleting
//!   themselves (or each other) at once, only one succeeds.
//! - Race a deletion with a change of address or its undo: all begin by
//!   taking the account's row, so one waits for the other and then finds
//!   the account gone, or deletes it as the other left it.
//! - Delete another account by its id as a non-admin: only admins may name
//!   an id (`DELETE /api/users/{id}`); the owner's own endpoint takes none.
//! - Edit other accounts' activity, or drop mail meant for someone else,
//!   by asking to move to an address (or to part of one) and then deleting
//!   the account: only addresses the account had are scrubbed, as whole
//!   addresses; of an address only asked for, only its own link goes.

use app::{
    api::values::{Email, UserId},
    routes::Page,
};

use super::AccountLifecycle;
use crate::{
    db::Backend,
    device::Device,
    mail::account_letters::{self, DeletedBy},
    security_log::{self, EventKind},
    store::{
        email_change_undos, email_changes,
        mail_outbox::{self, MailKind},
        pending_signups, security_events, sign_in_failures, users,
    },
};

/// What replaces a deleted account's address where other accounts'
/// activity mentions it.
const DELETED_MENTION: &str = "a deleted account";

/// Who deletes the account.
#[derive(Debug, Clone)]
pub enum Deleter {
    Owner,
    /// An admin, whose own activity records it.
    Admin {
        id: UserId,
        device: Device,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteRefused {
    #[error("there is no such account")]
    NotFound,
    #[error("the account is the last enabled admin")]
    LastAdmin,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl AccountLifecycle {
    /// Deletes the account and everything that is its own, ends its
    /// sessions on every instance and mails it goodbye. Returns the address
    /// it had.
    pub async fn delete_account(
        &self,
        id: UserId,
        by: Deleter,
        now: i64,
    ) -> Result<Email, DeleteRefused> {
        let mut transaction = self.db.pool().begin().await?;
        if self.db.backend() == Backend::Postgres {
            users::lock_admin_changes(&mut *transaction).await?;
        }
        if !users::lock(&mut *transaction, id).await? {
            transaction.rollback().await?;
            return Err(DeleteRefused::NotFound);
        }
        let Some(user) = users::find_by_id(&mut *transaction, id).await? else {
            transaction.rollback().await?;
            return Err(DeleteRefused::NotFound);
        };
        // Every address the account had lately: mail to them is the
        // account's, and so are the mentions of them. An address it only
        // asked to move to was never shown to be its own: only the link
        // it asked for goes, and mentions of it stay (anyone may ask for
        // any address, so scrubbing it would let anyone edit others'
        // activity).
        let mut addresses = vec![user.email.clone()];
        addresses.extend(email_change_undos::addresses_of(&mut *transaction, id).await?);
        addresses.sort();
        addresses.dedup();
        let asked_for = email_changes::find_any_for_user(&mut *transaction, id)
            .await?
            .map(|waiting| waiting.new_email);
        let ending = self
            .sessions
            .end_all_for_deletion_within(&mut transaction, id, now)
            .await?;
        sign_in_failures::clear_sessions_of(&mut *transaction, id).await?;
        if !users::delete_guarded(&mut *transaction, id).await? {
            transaction.rollback().await?;
            return Err(DeleteRefused::LastAdmin);
        }
        let address = &user.email;
        pending_signups::delete_for_email(&mut *transaction, address).await?;
        email_changes::delete_to_address(&mut *transaction, address).await?;
        sign_in_failures::clear(&mut *transaction, address.as_str()).await?;
        for address in &addresses {
            // An old address that another account has now is that account's.
            if users::find_by_email(&mut *transaction, address)
                .await?
                .is_some()
            {
                continue;
            }
            mail_outbox::delete_for_recipient(&mut *transaction, address, None).await?;
            security_events::scrub_mentions(&mut *transaction, address.as_str(), DELETED_MENTION)
                .await?;
        }
        if let Some(address) = asked_for.filter(|address| !addresses.contains(address)) {
            mail_outbox::delete_for_recipient(
                &mut *transaction,
                &address,
                Some(MailKind::ConfirmEmailChange),
            )
            .await?;
        }
        let deleted_by = match &by {
            Deleter::Owner => DeletedBy::Owner,
            Deleter::Admin { id: admin, device } => {
                security_log::record_in(
                    &mut *transaction,
                    *admin,
                    EventKind::AccountDeleted,
                    Some(device),
                    Some("deleted an account"),
                    now,
                )
                .await?;
                DeletedBy::Admin
            }
        };
        let register = self.settings.page_url(Page::Register.path());
        let goodbye =
            account_letters::account_deleted(address, &user.name, deleted_by, register.as_str());
        // The address's earlier mail is gone: the goodbye is never over the cap.
        self.mailer.enqueue(&mut transaction, &goodbye, now).await?;
        let ended = self.sessions.commit(transaction, ending, now).await?;
        self.mailer.wake();
        self.me_cache.forget_user(id);
        tracing::info!(
            user_id = %id,
            by_admin = matches!(by, Deleter::Admin { .. }),
            sessions = ended.len(),
            "account deleted"
        );
        Ok(user.profile.email)
    }
}
