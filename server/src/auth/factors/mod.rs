//! The factor service: an account's second factors (an authenticator app,
//! RFC 6238 TOTP with SHA-1, 6 digits, 30 s steps and one step of drift
//! either way, in `totp`; single-use recovery codes; and passkeys, in
//! `passkeys`), as methods of one service so that sign-in and
//! re-authentication ask one place. Every change (turning
//! a factor on or off, new recovery codes) raises the credential epoch,
//! ends the account's other sessions, records the activity and mails a
//! notice, in one transaction.
//!
//! Secrets at rest: the TOTP secret is encrypted with XChaCha20-Poly1305
//! under `TOTP_ENCRYPTION_KEY`, bound to the account's id (a secret copied
//! to another row does not decrypt); recovery codes are stored as SHA-256
//! of 80 random bits.
//!
//! What an attacker may try, and what answers it:
//! - Replay a code seen over a shoulder or in a log: a code is accepted
//!   only for a time step later than the last one accepted, in one
//!   conditional statement, so the same code works once (even in parallel).
//! - Reuse a recovery code: spending one is a conditional update that only
//!   one request can make.
//! - Make new recovery codes while the app is being turned off, to keep
//!   codes that work without it: both take the account's row first, and
//!   the codes are made only if the app is still on under it.
//! - Turn the factor off, or read new recovery codes, from a borrowed
//!   signed-in browser: every change needs a recent authentication (the
//!   step-up extractor), and the owner is mailed.
//! - Keep a session opened before the factor went on: the change raises the
//!   credential epoch and ends every other session in its transaction.
//! - Read secrets from a database dump: the TOTP secret is encrypted, and
//!   recovery codes are hashes of values too long to guess.

use std::sync::Arc;

use app::{
    api::{
        types::SecondFactorStatus,
        values::{SessionId, UserId},
    },
    routes::Page,
};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use totp_rs::Secret;
use webauthn_rs::prelude::{Webauthn, WebauthnError};

mod footing;
mod passkey_use;
mod passkeys;
mod take_back;
mod totp;

use totp::open;

pub use footing::{earliest, Proved};
pub use passkey_use::{Ceremony, PasskeyProof};
pub use passkeys::{relying_party, CEREMONY_TTL_SECS};
pub use take_back::TakenBack;

use super::{jwt::Amr, sessions::Sessions, tokens};
use crate::device::Device;
use crate::{
    config::Settings,
    db::Database,
    mail::{templates, Mailer},
    security_log::{self, EventKind},
    store::{
        recovery_codes,
        sessions::EndReason,
        totp_factors,
        users::{self, UserRow},
    },
};

/// Recovery codes made at a time.
pub const RECOVERY_CODES: usize = 10;
pub(super) const SECRET_BYTES: usize = 20;
const RECOVERY_CODE_BYTES: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    #[error("the account already has this factor on")]
    AlreadyOn,
    #[error("the account has no second factor on")]
    NotOn,
    #[error("second factors are not configured on this server")]
    Unavailable,
    #[error("the code is not right")]
    WrongCode,
    #[error("the stored secret does not decrypt")]
    Corrupt,
    #[error("passkeys are not available on this server")]
    PasskeysUnavailable,
    #[error("the ceremony is unknown, expired or used")]
    ChallengeInvalid,
    #[error("the passkey's answer does not verify: {0}")]
    PasskeyRejected(WebauthnError),
    #[error("no account has this passkey")]
    UnknownPasskey,
    #[error("the passkey is another account's")]
    PasskeyOfAnotherAccount,
    #[error("the passkey's signature counter went backwards")]
    CounterRegressed,
    #[error("the passkey is registered already")]
    PasskeyExists,
    #[error("the account has no such passkey")]
    NotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A second proof of who the user is.
#[derive(Debug, Clone, Copy)]
pub enum Proof<'a> {
    /// A code from the authenticator app.
    Code(&'a str),
    RecoveryCode(&'a str),
}

#[derive(Clone)]
pub struct Factors {
    db: Database,
    sessions: Sessions,
    mailer: Mailer,
    settings: Arc<Settings>,
    cipher: Option<Arc<XChaCha20Poly1305>>,
    /// The WebAuthn relying party; `None` where `APP_URL` cannot be one.
    webauthn: Option<Arc<Webauthn>>,
}

impl Factors {
    pub fn new(
        db: Database,
        sessions: Sessions,
        mailer: Mailer,
        settings: Arc<Settings>,
        key: Option<[u8; 32]>,
        webauthn: Option<Webauthn>,
    ) -> Self {
        Self {
            db,
            sessions,
            mailer,
            settings,
            cipher: key.map(|key| Arc::new(XChaCha20Poly1305::new(&key.into()))),
            webauthn: webauthn.map(Arc::new),
        }
    }

    pub async fn status(&self, user_id: UserId) -> Result<SecondFactorStatus, sqlx::Error> {
        let totp = self.has_second_factor(user_id).await?;
        let left = recovery_codes::count_unused(self.db.pool(), user_id).await?;
        Ok(SecondFactorStatus {
            totp,
            recovery_codes_left: u32::try_from(left).unwrap_or(0),
        })
    }

    /// Whether sign-in must ask for a second factor.
    pub async fn has_second_factor(&self, user_id: UserId) -> Result<bool, sqlx::Error> {
        Ok(totp_factors::find(self.db.pool(), user_id)
            .await?
            .is_some_and(|row| row.confirmed_at.is_some()))
    }

    /// New recovery codes; the old ones stop working.
    pub async fn replace_recovery_codes(
        &self,
        user: &UserRow,
        keep: SessionId,
        device: &Device,
        now: i64,
    ) -> Result<Vec<String>, FactorError> {
        if !self.has_second_factor(user.id).await? {
            return Err(FactorError::NotOn);
        }
        let codes = new_recovery_codes();
        let footing = self.sessions.footing(keep, now).await?;
        let mut transaction = self.db.pool().begin().await?;
        // The app may have been turned off since the check above: under the
        // account's row (which turning it off takes first too), look again.
        let still_on = users::lock(&mut *transaction, user.id).await?
            && totp_factors::find(&mut *transaction, user.id)
                .await?
                .is_some_and(|row| row.confirmed_at.is_some());
        if !still_on {
            transaction.rollback().await?;
            return Err(FactorError::NotOn);
        }
        recovery_codes::replace(&mut transaction, user.id, &hashes(&codes), footing, now).await?;
        self.commit_change(
            transaction,
            user,
            Some(keep),
            EventKind::RecoveryCodesReplaced,
            "New recovery codes were made for your account; the old ones no longer work, and \
             every other session was signed out.",
            device,
            now,
        )
        .await?;
        Ok(codes)
    }

    /// Checks a second proof of who `user` is: the method it proved and the
    /// factor's footing on success, `WrongCode` otherwise. A code is taken
    /// once; a recovery code is spent (and its owner mailed).
    pub async fn verify(
        &self,
        user: &UserRow,
        proof: Proof<'_>,
        device: &Device,
        now: i64,
    ) -> Result<Proved, FactorError> {
        match proof {
            Proof::Code(code) => {
                let cipher = self.cipher.as_ref().ok_or(FactorError::Unavailable)?;
                let row = totp_factors::find(self.db.pool(), user.id)
                    .await?
                    .filter(|row| row.confirmed_at.is_some())
                    .ok_or(FactorError::NotOn)?;
                let secret = open(cipher, user.id, &row.secret)?;
                let step = self
                    .totp(&secret, user)?
                    .check(&normalize_code(code), unix(now))
                    .ok_or(FactorError::WrongCode)?;
                if totp_factors::take_step(self.db.pool(), user.id, step as i64).await? {
                    Ok(Proved {
                        method: Amr::Otp,
                        footing: row.footing(),
                    })
                } else {
                    // Seen already: a replay, or a second tab.
                    Err(FactorError::WrongCode)
                }
            }
            Proof::RecoveryCode(code) => {
                let hash = tokens::hash(&normalize_recovery_code(code));
                let mut transaction = self.db.pool().begin().await?;
                let Some(footing) =
                    recovery_codes::spend(&mut *transaction, user.id, &hash, now).await?
                else {
                    transaction.rollback().await?;
                    return Err(FactorError::WrongCode);
                };
                security_log::record_in(
                    &mut *transaction,
                    user.id,
                    EventKind::RecoveryCodeUsed,
                    Some(device),
                    None,
                    now,
                )
                .await?;
                let letter = self.notice(
                    user,
                    "A recovery code was just used to sign in to your account.",
                );
                self.mailer.commit_with(transaction, &letter, now).await?;
                Ok(Proved {
                    method: Amr::Otp,
                    footing: Some(footing),
                })
            }
        }
    }

    /// The end of every change: the epoch raised, the other sessions
    /// ended, the activity recorded and the owner mailed, all committed
    /// together.
    #[allow(clippy::too_many_arguments)]
    async fn commit_change(
        &self,
        mut transaction: sqlx::Transaction<'_, sqlx::Any>,
        user: &UserRow,
        keep: Option<SessionId>,
        kind: EventKind,
        notice: &str,
        device: &Device,
        now: i64,
    ) -> Result<(), FactorError> {
        users::raise_epoch(&mut *transaction, user.id, now).await?;
        security_log::record_in(&mut *transaction, user.id, kind, Some(device), None, now).await?;
        self.mailer
            .enqueue(&mut transaction, &self.notice(user, notice), now)
            .await?;
        let ending = self
            .sessions
            .end_stale_within(
                &mut transaction,
                user.id,
                keep,
                EndReason::SecondFactorChanged,
                now,
            )
            .await?;
        self.sessions.commit(transaction, ending, now).await?;
        self.mailer.wake();
        Ok(())
    }

    fn notice(&self, user: &UserRow, what: &str) -> crate::mail::Letter {
        let forgot = self.settings.page_url(Page::ForgotPassword.path());
        templates::security_notice(&user.email, &user.name, what, forgot.as_str())
    }
}

pub(super) fn unix(now: i64) -> u64 {
    u64::try_from(now).unwrap_or(0)
}

/// Authenticator apps show codes as "123 456"; people type what they see.
pub(super) fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace()).collect()
}

fn normalize_recovery_code(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Ten codes of 80 random bits, in lower-case base32, as `xxxx-xxxx-xxxx-xxxx`.
pub(super) fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; RECOVERY_CODE_BYTES];
            getrandom::fill(&mut bytes).expect("the operating system's random source is available");
            let text = Secret::from(bytes.to_vec())
                .to_base32()
                .to_ascii_lowercase();
            text.as_bytes()
                .chunks(4)
                .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

pub(super) fn hashes(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .map(|code| tokens::hash(&normalize_recovery_code(code)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_long_distinct_and_forgiving_to_type() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        for code in &codes {
            assert_eq!(code.len(), 19, "{code}");
            assert_eq!(
                tokens::hash(&normalize_recovery_code(
                    &code.to_uppercase().replace('-', " ")
                )),
                tokens::hash(&normalize_recovery_code(code))
            );
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
    }
}
