//! Moving an account to another email address. The address is what signs
//! in and where every reset link goes, so it changes only once the new
//! address has shown that it reads its mail (a link, 256 random bits,
//! stored by SHA-256, single use, 30 minutes; asking again replaces it),
//! and the old address is told at once, with a link that undoes the change
//! for 7 days. Until the new address is confirmed, sign-in keeps the old
//! one.
//!
//! Confirming changes the sign-in identifier, so it is a change of
//! credentials: it raises the credential epoch, and every session but the
//! one that asked (a recent sign-in proved it) ends in its transaction.
//! Undoing says the change was not the owner's: whoever made it may know
//! the password, so every session ends, the password is replaced by one
//! nobody knows, and a reset link goes to the address that is back. The
//! second factors added since the footing of the session that asked for
//! the change (its opening, or earlier when it was opened with a factor or
//! password an earlier session made) are taken back with it
//! (`auth::factors::take_back`); older ones stay: they are what the owner
//! still has.
//!
//! What an attacker may try, and what answers it:
//! - Learn whether an address has an account by asking to move to it: the
//!   answer is the same 202 with the same body after the same writes (the
//!   waiting change is stored either way); the address's owner is mailed
//!   that it is taken, instead of a link.
//! - Move a borrowed, signed-in browser's account to their own address:
//!   the request needs a recent proof of who the user is (step-up), and
//!   the old address can undo the change for a week.
//! - Confirm the same link twice, in parallel: taking the waiting change
//!   is one conditional delete; exactly one request gets it.
//! - Use a replaced, expired or already used link: it is gone (400
//!   `invalid_link`).
//! - Confirm the link from a borrowed session after the owner took the
//!   account back (reset or changed the password elsewhere, signed out
//!   everywhere, ended that session from the list): a change is confirmed
//!   only while the session that asked for it was not ended on purpose
//!   (its own sign-out, its expiry and the session cap keep it), checked in
//!   the statement that takes the change.
//! - Take the new address between the request and the confirmation (a
//!   sign-up, another account's change): the UNIQUE constraint on the
//!   address refuses the update in the confirming statement; 409
//!   `email_taken`, and nothing changes.
//! - Keep a session opened before the change: the confirmation raises the
//!   epoch and ends it; an undo ends them all, on every instance.
//! - Race the undo with a confirmation of a newer change: both begin by
//!   taking the account's row; an undo that comes first cancels the
//!   waiting change, and one that comes second spends the newer change's
//!   undo link.
//! - Undo the undo (chain two changes, then undo the later one to regain
//!   the account): an undo spends the undo links of every later change,
//!   never those of earlier ones, so the oldest address has the last word.
//! - Add a passkey (or an authenticator app) before moving the account,
//!   to sign in again after the owner undoes the move: the undo takes
//!   back every second factor added since the asking session's footing,
//!   which follows a chain of sessions (a passkey added in one, a second
//!   one opened with it to ask from) back to the first one's.
//! - Ask to move the account while it is being deleted, so that the link's
//!   mail to the new address outlives it: asking takes the account's row
//!   first, like the deletion, so it waits and then finds no account.
//! - Suppress the notice to the old address by filling its hourly mail
//!   quota: a change whose notice cannot be queued is not made (429).

use app::{
    api::values::{Email, SessionId, UserId},
    routes::Page,
};

use super::AccountLifecycle;
use crate::{
    auth::{password::HashError, tokens},
    device::Device,
    mail::{account_letters, Queued},
    security_log::{self, EventKind},
    store::{
        email_change_undos::{self, NewUndo},
        email_changes::{self, NewEmailChange},
        is_unique_violation, pending_signups,
        sessions::{self, EndReason},
        users::{self, UserRow},
    },
};

/// A confirmation link works for 30 minutes…
pub const CONFIRM_TTL_SECS: i64 = 30 * 60;
/// …and an undo link for 7 days.
pub const UNDO_TTL_SECS: i64 = 7 * 24 * 60 * 60;

/// Why a confirmation or an undo link did nothing.
#[derive(Debug, thiserror::Error)]
pub enum LinkRefused {
    /// Unknown, used, expired, replaced or cancelled (never which).
    #[error("the link is not valid")]
    Invalid,
    /// The address the link would move the account to has another account.
    #[error("another account has the address")]
    Taken,
    /// The old address already got its hourly share of such notices.
    #[error("the notice to the old address cannot be sent now")]
    OverMailLimit,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl AccountLifecycle {
    /// Stores the account's only waiting change (replacing the one before)
    /// and mails the new address: its confirmation link, or, when another
    /// account (this one included) has it, the notice that it is taken.
    /// Over the address's hourly mail limit nothing is stored. `false` when
    /// the account is gone (deleted meanwhile): nothing is stored or sent.
    pub async fn request_email_change(
        &self,
        user: &UserRow,
        session_id: SessionId,
        new_email: &Email,
        device: &Device,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        // Read before the transaction, whose first statement then writes
        // (on SQLite a transaction that reads first cannot write once
        // another connection has committed).
        let owner = users::find_by_email(self.db.pool(), new_email).await?;
        let token = tokens::generate();
        let mut transaction = self.db.pool().begin().await?;
        // Like every change of the account's address: a deletion under way
        // finishes first (its list of mail to take back would miss this
        // link's), and then there is no account to ask for.
        if !users::lock(&mut *transaction, user.id).await? {
            transaction.rollback().await?;
            return Ok(false);
        }
        email_changes::replace(
            &mut *transaction,
            NewEmailChange {
                user_id: user.id,
                new_email,
                token_hash: &tokens::hash(&token),
                session_id,
            },
            now,
            now + CONFIRM_TTL_SECS,
        )
        .await?;
        let detail = format!("to {new_email}");
        security_log::record_in(
            &mut *transaction,
            user.id,
            EventKind::EmailChangeRequested,
            Some(device),
            Some(&detail),
            now,
        )
        .await?;
        let letter = match owner {
            Some(owner) => {
                let login = self.settings.page_url(Page::Login.path());
                account_letters::email_change_taken(&owner.email, &owner.name, login.as_str())
            }
            None => account_letters::confirm_email_change(
                new_email,
                &self.link(Page::ConfirmEmail, &token),
            )
            .link_expiring_at(now + CONFIRM_TTL_SECS),
        };
        self.mailer.commit_with(transaction, &letter, now).await?;
        Ok(true)
    }

    /// Cancels the account's waiting change, if any: its link stops
    /// working. Recorded only when there was one.
    pub async fn cancel_email_change(
        &self,
        user_id: UserId,
        device: &Device,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut transaction = self.db.pool().begin().await?;
        if email_changes::delete_for_user(&mut *transaction, user_id).await? > 0 {
            security_log::record_in(
                &mut *transaction,
                user_id,
                EventKind::EmailChangeCancelled,
                Some(device),
                None,
                now,
            )
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Moves the account to the address the link was mailed to. Returns
    /// that address.
    pub async fn confirm_email_change(&self, token: &str, now: i64) -> Result<Email, LinkRefused> {
        let token_hash = tokens::presented_hash(token).ok_or(LinkRefused::Invalid)?;
        let found = email_changes::find_live(self.db.pool(), &token_hash, now)
            .await?
            .ok_or(LinkRefused::Invalid)?;
        let mut transaction = self.db.pool().begin().await?;
        if !users::lock(&mut *transaction, found.user_id).await? {
            transaction.rollback().await?;
            return Err(LinkRefused::Invalid);
        }
        let Some(change) =
            email_changes::take(&mut *transaction, &token_hash, found.user_id, now).await?
        else {
            transaction.rollback().await?;
            return Err(LinkRefused::Invalid);
        };
        let Some(user) = users::find_by_id(&mut *transaction, change.user_id).await? else {
            transaction.rollback().await?;
            return Err(LinkRefused::Invalid);
        };
        match users::change_email(&mut *transaction, user.id, &change.new_email, now).await {
            Ok(true) => {}
            // Disabled since: an admin's freeze stands.
            Ok(false) => {
                transaction.rollback().await?;
                return Err(LinkRefused::Invalid);
            }
            Err(error) if is_unique_violation(&error) => {
                transaction.rollback().await?;
                return Err(LinkRefused::Taken);
            }
            Err(error) => return Err(error.into()),
        }
        // Sign-ups of the address can never become accounts now.
        pending_signups::delete_for_email(&mut *transaction, &change.new_email).await?;
        // Whoever asked may have had a hand in the account from the asking
        // session's footing (or, with that session's row gone, from the
        // asking).
        let suspect_since = match change.session_id() {
            Some(session_id) => sessions::footing(&mut *transaction, session_id).await?,
            None => None,
        }
        .unwrap_or(change.created_at);
        let undo = tokens::generate();
        email_change_undos::insert(
            &mut *transaction,
            NewUndo {
                token_hash: &tokens::hash(&undo),
                user_id: user.id,
                old_email: &user.email,
                new_email: &change.new_email,
                suspect_since,
            },
            now,
            now + UNDO_TTL_SECS,
        )
        .await?;
        let detail = format!("from {} to {}", user.email, change.new_email);
        security_log::record_in(
            &mut *transaction,
            user.id,
            EventKind::EmailChanged,
            None,
            Some(&detail),
            now,
        )
        .await?;
        let notice = account_letters::email_changed(
            &user.email,
            &user.name,
            &change.new_email,
            &self.link(Page::UndoEmailChange, &undo),
        )
        .link_expiring_at(now + UNDO_TTL_SECS);
        if self.mailer.enqueue(&mut transaction, &notice, now).await? != Queued::Yes {
            transaction.rollback().await?;
            return Err(LinkRefused::OverMailLimit);
        }
        // The new identifier raised the credential epoch: every other
        // session ends here; the one that asked moves to the new epoch.
        let ending = self
            .sessions
            .end_stale_within(
                &mut transaction,
                user.id,
                change.session_id(),
                EndReason::EmailChanged,
                now,
            )
            .await?;
        let ended = self.sessions.commit(transaction, ending, now).await?;
        self.mailer.wake();
        self.me_cache.forget_user(user.id);
        tracing::info!(user_id = %user.id, sessions = ended.len(), "email address changed");
        Ok(change.new_email)
    }

    /// The page a link leads to, with its token.
    pub(super) fn link(&self, page: Page, token: &str) -> String {
        let mut url = self.settings.page_url(page.path());
        url.query_pairs_mut().append_pair("token", token);
        url.into()
    }
}
