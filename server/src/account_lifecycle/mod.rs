//! The account's lifecycle service: moving an account to another email
//! address (confirmed from the new address, undoable from the old one) and
//! deleting it with everything that is its own. It owns the invariants
//! these share with sign-in: an account's address changes only when the
//! new address proved it reads its mail, the old address can always take
//! the account back for a week, and a deleted account leaves no session
//! alive and no row behind that names it.
//!
//! Every flow begins its transaction by taking the account's row
//! ([`crate::store::users::lock`]), so that a confirmation, an undo and a
//! deletion of one account queue behind each other in one order and each
//! reads what the one before left; each race is then settled by one
//! conditional statement (taking the link's row, the UNIQUE constraint on
//! the address, the last-admin rule). The attacker's moves against each
//! flow, and what answers them, are listed in [`email_change`] and
//! [`deletion`]; each has a black-box test on both databases
//! (`tests/api/email_change.rs`, `account_deletion.rs`).

pub mod deletion;
pub mod email_change;
mod email_change_undo;

use std::sync::Arc;

use crate::{
    auth::{factors::Factors, password::Passwords, sessions::Sessions},
    config::Settings,
    db::Database,
    mail::Mailer,
    me_cache::MeCache,
};

pub use deletion::{DeleteRefused, Deleter};
pub use email_change::LinkRefused;

#[derive(Clone)]
pub struct AccountLifecycle {
    db: Database,
    sessions: Sessions,
    mailer: Mailer,
    me_cache: MeCache,
    passwords: Passwords,
    factors: Factors,
    settings: Arc<Settings>,
}

impl AccountLifecycle {
    pub fn new(
        db: Database,
        sessions: Sessions,
        mailer: Mailer,
        me_cache: MeCache,
        passwords: Passwords,
        factors: Factors,
        settings: Arc<Settings>,
    ) -> Self {
        Self {
            db,
            sessions,
            mailer,
            me_cache,
            passwords,
            factors,
            settings,
        }
    }
}
