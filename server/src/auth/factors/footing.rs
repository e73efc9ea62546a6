//! Footings: how far back the holder of a session may have had a hand in
//! the account. An undone change of address takes back the second factors
//! added since the footing of the session that asked for it (`take_back`).
//!
//! A session opened with fresh proofs stands from its opening. But a
//! factor is only as trustworthy as the session that added it, and a
//! password as the session that chose it: someone with a borrowed session
//! can add a passkey, sign in with it (a new session, opened later), and
//! ask for the change from there; measured from the new session's opening,
//! the passkey would look older than the intrusion and stay. So each
//! factor keeps the footing of the session that added it, a password
//! chosen from a session keeps that session's, and a session opened or
//! stepped up with them stands from the earliest of them. The chain leads
//! back to where it began; a password proven through the mailbox (a
//! sign-up, a reset) starts none.
//!
//! The price: a session opened with a factor the owner added long ago
//! reaches back to then, and an undo asked from such a session takes back
//! every factor added since. That is the undo's rule, that the oldest
//! address has the last word, applied to whatever the session could have
//! done.

use crate::auth::jwt::Amr;

/// A second proof that held: its method, and the footing of the factor
/// that gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proved {
    pub method: Amr,
    pub footing: Option<i64>,
}

/// The earlier of two footings; `None` is a fresh proof, which reaches
/// back to nothing.
pub fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (one, None) | (None, one) => one,
    }
}

#[cfg(test)]
mod tests {
    use super::earliest;

    #[test]
    fn the_earliest_footing_wins_and_fresh_proofs_reach_nowhere() {
        assert_eq!(earliest(None, None), None);
        assert_eq!(earliest(Some(5), None), Some(5));
        assert_eq!(earliest(None, Some(7)), Some(7));
        assert_eq!(earliest(Some(9), Some(3)), Some(3));
    }
}
