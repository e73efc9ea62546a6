//! Undoing a change of address from the old address's link (the attacker's
//! moves against it are listed in `email_change`): the old address comes
//! back, every session ends, the password is replaced by one nobody knows
//! with a reset link to the address that is back, and the second factors
//! within the asking session's reach are taken back.

use app::api::values::Email;

use super::{email_change::LinkRefused, AccountLifecycle};
use crate::{
    auth::tokens,
    mail::{account_letters, Queued},
    password_resets::{self, RESET_TTL_SECS},
    security_log::{self, EventKind},
    store::{
        email_change_undos, email_changes,
        email_tokens::{self, Purpose},
        is_unique_violation, pending_signups,
        sessions::EndReason,
        users,
    },
};

impl AccountLifecycle {
    /// Puts the account back on the address the undo link was mailed to.
    /// Returns that address.
    pub async fn undo_email_change(&self, token: &str, now: i64) -> Result<Email, LinkRefused> {
        let token_hash = tokens::presented_hash(token).ok_or(LinkRefused::Invalid)?;
        let found = email_change_undos::find_live(self.db.pool(), &token_hash, now)
            .await?
            .ok_or(LinkRefused::Invalid)?;
        // Whoever made the change may know the password: it is replaced by
        // one nobody knows (hashed like any, so sign-in treats it alike).
        let password_hash = self.passwords.hash(tokens::generate()).await?;
        let mut transaction = self.db.pool().begin().await?;
        if !users::lock(&mut *transaction, found.user_id).await? {
            transaction.rollback().await?;
            return Err(LinkRefused::Invalid);
        }
        let Some(undo) =
            email_change_undos::take(&mut *transaction, &token_hash, found.user_id, now).await?
        else {
            transaction.rollback().await?;
            return Err(LinkRefused::Invalid);
        };
        let Some(user) = users::find_by_id(&mut *transaction, undo.user_id).await? else {
            transaction.rollback().await?;
            return Err(LinkRefused::Invalid);
        };
        let restored = users::restore_email(
            &mut *transaction,
            user.id,
            &undo.old_email,
            &password_hash,
            now,
        )
        .await;
        match restored {
            Ok(true) => {}
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
        // Later changes cannot move the account away again, and a change
        // still waiting is cancelled.
        email_change_undos::delete_later(&mut *transaction, user.id, &undo.id).await?;
        email_changes::delete_for_user(&mut *transaction, user.id).await?;
        pending_signups::delete_for_email(&mut *transaction, &undo.old_email).await?;
        let taken_back = self
            .factors
            .take_back_added_since(&mut transaction, user.id, undo.suspect_since())
            .await?;
        let taken_back = taken_back.describe();
        let detail = match &taken_back {
            // Addresses between spaces or at the end, as deletion's scrub
            // of them expects.
            Some(factors) => format!(
                "the second factors added since were removed ({factors}); back to {} from {}",
                undo.old_email, user.email
            ),
            None => format!("back to {} from {}", undo.old_email, user.email),
        };
        security_log::record_in(
            &mut *transaction,
            user.id,
            EventKind::EmailChangeUndone,
            None,
            Some(&detail),
            now,
        )
        .await?;
        let reset =
            password_resets::new_link(&mut transaction, &self.settings, user.id, now).await?;
        let letter = account_letters::email_change_undone(
            &undo.old_email,
            &user.name,
            &reset,
            taken_back.as_deref(),
        )
        .link_expiring_at(now + RESET_TTL_SECS);
        if self.mailer.enqueue(&mut transaction, &letter, now).await? != Queued::Yes {
            // The undo stands without it; "forgot password" makes another.
            email_tokens::spend_all(&mut *transaction, user.id, Purpose::ResetPassword, now)
                .await?;
        }
        let ending = self
            .sessions
            .end_stale_within(
                &mut transaction,
                user.id,
                None,
                EndReason::EmailChangeUndone,
                now,
            )
            .await?;
        let ended = self.sessions.commit(transaction, ending, now).await?;
        self.mailer.wake();
        self.me_cache.forget_user(user.id);
        tracing::info!(user_id = %user.id, sessions = ended.len(), "email address change undone");
        Ok(undo.old_email)
    }
}
