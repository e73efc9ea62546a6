//! Taking back the second factors added while an account was in other
//! hands. An undone change of address says that whoever made the change
//! was not the owner, and what they added goes with it: a passkey of
//! theirs would sign them in with no password, and an authenticator app or
//! recovery codes of theirs would lock the owner out of the account just
//! given back. Factors older than that stay: they are the owner's.
//!
//! "Added since" is measured from the footing of the session that asked
//! for the change (`footing`): from its own start, or, when it was opened
//! or stepped up with a factor or a password that an earlier session made,
//! from that session's footing, so a chain of sessions (add a passkey, sign
//! in with it, ask from there) is followed back to where it began. A factor
//! the owner added within that reach goes too, and is set up again in a
//! minute; one the other hands added stays out.

use app::api::values::UserId;
use sqlx::AnyConnection;

use super::Factors;
use crate::store::{passkeys, recovery_codes, totp_factors};

/// What an undo took back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TakenBack {
    pub passkeys: u64,
    /// The authenticator app, and with it every recovery code.
    pub authenticator_app: bool,
    /// Recovery codes made since, the app itself being older.
    pub recovery_codes: bool,
}

impl TakenBack {
    /// The factors in words ("2 passkeys and the authenticator app"), or
    /// `None` when nothing was taken back.
    pub fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        match self.passkeys {
            0 => {}
            1 => parts.push("a passkey".to_owned()),
            n => parts.push(format!("{n} passkeys")),
        }
        if self.authenticator_app {
            parts.push("the authenticator app with its recovery codes".to_owned());
        } else if self.recovery_codes {
            parts.push("the recovery codes".to_owned());
        }
        (!parts.is_empty()).then(|| parts.join(" and "))
    }
}

impl Factors {
    /// Removes, in the caller's transaction, the account's second factors
    /// added at `since` or later. The caller's change raises the credential
    /// epoch and ends the sessions; this only removes.
    pub async fn take_back_added_since(
        &self,
        transaction: &mut AnyConnection,
        user_id: UserId,
        since: i64,
    ) -> Result<TakenBack, sqlx::Error> {
        let passkeys = passkeys::delete_added_since(&mut *transaction, user_id, since).await?;
        let authenticator_app =
            totp_factors::delete_confirmed_since(&mut *transaction, user_id, since).await?;
        let recovery_codes = if authenticator_app {
            recovery_codes::delete_all(&mut *transaction, user_id).await?;
            false
        } else {
            recovery_codes::delete_created_since(&mut *transaction, user_id, since).await? > 0
        };
        Ok(TakenBack {
            passkeys,
            authenticator_app,
            recovery_codes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_what_was_taken_back() {
        assert_eq!(TakenBack::default().describe(), None);
        let taken = |passkeys, authenticator_app, recovery_codes| TakenBack {
            passkeys,
            authenticator_app,
            recovery_codes,
        };
        assert_eq!(taken(1, false, false).describe().unwrap(), "a passkey");
        assert_eq!(
            taken(2, true, false).describe().unwrap(),
            "2 passkeys and the authenticator app with its recovery codes"
        );
        assert_eq!(
            taken(0, false, true).describe().unwrap(),
            "the recovery codes"
        );
    }
}
