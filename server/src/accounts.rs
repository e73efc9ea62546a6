//! The account service: an admin's changes to an account's role and status.
//! It owns two invariants: some enabled admin always remains, and a change
//! takes effect at once, because the role travels inside access tokens: the
//! account's sessions all end (on every instance) with the change.

use app::api::values::{DisplayName, UserId};

use crate::{
    auth::sessions::Sessions,
    db::{Backend, Database},
    me_cache::MeCache,
    security_log::{self, EventKind},
    store::{
        sessions::EndReason,
        users::{self, Change, UserRow},
    },
};

#[derive(Debug, thiserror::Error)]
pub enum ChangeRefused {
    #[error("there is no such account")]
    NotFound,
    #[error("the change would leave no enabled admin")]
    LastAdmin,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(Clone)]
pub struct Accounts {
    db: Database,
    sessions: Sessions,
    me_cache: MeCache,
}

impl Accounts {
    pub fn new(db: Database, sessions: Sessions, me_cache: MeCache) -> Self {
        Self {
            db,
            sessions,
            me_cache,
        }
    }

    /// Renames the account and returns it as it now is; `None` when it no
    /// longer exists. The `/api/me` answers kept for its sessions are
    /// forgotten before this returns.
    pub async fn rename(
        &self,
        id: UserId,
        name: &DisplayName,
        now: i64,
    ) -> Result<Option<UserRow>, sqlx::Error> {
        users::update_name(self.db.pool(), id, name, now).await?;
        self.me_cache.forget_user(id);
        users::find_by_id(self.db.pool(), id).await
    }

    /// Applies `change` to the account and returns it as it now is. A new
    /// role or a disable raises the credential epoch, and the same
    /// transaction ends the account's sessions and logs the change; a
    /// change that alters nothing ends no session.
    pub async fn change(
        &self,
        id: UserId,
        change: Change,
        now: i64,
    ) -> Result<UserRow, ChangeRefused> {
        let before = users::find_by_id(self.db.pool(), id)
            .await?
            .ok_or(ChangeRefused::NotFound)?;
        let mut transaction = self.db.pool().begin().await?;
        if self.db.backend() == Backend::Postgres {
            users::lock_admin_changes(&mut *transaction).await?;
        }
        if !users::change_guarded(&mut *transaction, id, change, now).await? {
            transaction.rollback().await?;
            return Err(match users::find_by_id(self.db.pool(), id).await? {
                Some(_) => ChangeRefused::LastAdmin,
                None => ChangeRefused::NotFound,
            });
        }
        let after = users::find_by_id(&mut *transaction, id)
            .await?
            .ok_or(ChangeRefused::NotFound)?;
        let event = if after.is_disabled() != before.is_disabled() {
            Some(if after.is_disabled() {
                (EventKind::AccountDisabled, None)
            } else {
                (EventKind::AccountEnabled, None)
            })
        } else if after.role != before.role {
            Some((EventKind::RoleChanged, Some(format!("now {}", after.role))))
        } else {
            None
        };
        if let Some((kind, detail)) = event {
            security_log::record_in(&mut *transaction, id, kind, None, detail.as_deref(), now)
                .await?;
        }
        let reason = if after.is_disabled() {
            EndReason::Disabled
        } else {
            EndReason::RoleChanged
        };
        // Ends only what the statement above made stale.
        let ending = self
            .sessions
            .end_stale_within(&mut transaction, id, None, reason, now)
            .await?;
        let ended = self.sessions.commit(transaction, ending, now).await?;
        self.me_cache.forget_user(id);
        if !ended.is_empty() {
            tracing::info!(
                user_id = %id,
                role = %after.role,
                disabled = after.is_disabled(),
                sessions = ended.len(),
                "account changed"
            );
        }
        Ok(after)
    }
}
