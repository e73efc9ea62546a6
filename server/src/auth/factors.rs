//! The factor service: an account's second factors (an authenticator app,
//! RFC 6238 TOTP with SHA-1, 6 digits, 30 s steps and one step of drift
//! either way; and single-use recovery codes), as methods of one service so
//! that sign-in and re-authentication ask one place. Every change (turning
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
        types::{SecondFactorStatus, TotpEnrollment},
        values::{SessionId, UserId},
    },
    routes::Page,
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use totp_rs::{Builder, Secret, Totp};

use super::{device::Device, jwt::Amr, sessions::Sessions, tokens};
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
const SECRET_BYTES: usize = 20;
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
}

impl Factors {
    pub fn new(
        db: Database,
        sessions: Sessions,
        mailer: Mailer,
        settings: Arc<Settings>,
        key: Option<[u8; 32]>,
    ) -> Self {
        Self {
            db,
            sessions,
            mailer,
            settings,
            cipher: key.map(|key| Arc::new(XChaCha20Poly1305::new(&key.into()))),
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

    /// A new secret waiting for its first code (replacing one that waited).
    pub async fn start_totp(
        &self,
        user: &UserRow,
        now: i64,
    ) -> Result<TotpEnrollment, FactorError> {
        let cipher = self.cipher.as_ref().ok_or(FactorError::Unavailable)?;
        let mut secret = [0u8; SECRET_BYTES];
        getrandom::fill(&mut secret).expect("the operating system's random source is available");
        let sealed = seal(cipher, user.id, &secret);
        if !totp_factors::put_pending(self.db.pool(), user.id, &sealed, now).await? {
            return Err(FactorError::AlreadyOn);
        }
        let totp = self.totp(&secret, user)?;
        let otpauth_uri = totp.to_url().map_err(|_| FactorError::Corrupt)?;
        let qr_svg = qrcode::QrCode::new(otpauth_uri.as_bytes())
            .map_err(|_| FactorError::Corrupt)?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build();
        Ok(TotpEnrollment {
            secret: Secret::from(secret.to_vec()).to_base32(),
            otpauth_uri,
            qr_svg,
        })
    }

    /// Turns the waiting secret on with a code it shows, and returns the
    /// first recovery codes. `keep` (the caller's session) goes on; every
    /// other session ends.
    pub async fn confirm_totp(
        &self,
        user: &UserRow,
        keep: SessionId,
        code: &str,
        device: &Device,
        now: i64,
    ) -> Result<Vec<String>, FactorError> {
        let cipher = self.cipher.as_ref().ok_or(FactorError::Unavailable)?;
        let row = totp_factors::find(self.db.pool(), user.id)
            .await?
            .ok_or(FactorError::NotOn)?;
        if row.confirmed_at.is_some() {
            return Err(FactorError::AlreadyOn);
        }
        let secret = open(cipher, user.id, &row.secret)?;
        let step = self
            .totp(&secret, user)?
            .check(&normalize_code(code), unix(now))
            .ok_or(FactorError::WrongCode)?;
        let codes = new_recovery_codes();
        let mut transaction = self.db.pool().begin().await?;
        if !totp_factors::confirm(&mut *transaction, user.id, &row.secret, step as i64, now).await?
        {
            transaction.rollback().await?;
            return Err(FactorError::NotOn);
        }
        recovery_codes::replace(&mut transaction, user.id, &hashes(&codes), now).await?;
        self.commit_change(
            transaction,
            user,
            Some(keep),
            EventKind::TotpEnabled,
            "An authenticator app was turned on for your account, with new recovery codes; \
             every other session was signed out.",
            device,
            now,
        )
        .await?;
        Ok(codes)
    }

    /// Turns the authenticator app off, with its recovery codes. `keep`
    /// is the owner's session that asked; an admin's removal keeps none.
    pub async fn disable_totp(
        &self,
        user: &UserRow,
        keep: Option<SessionId>,
        device: &Device,
        now: i64,
    ) -> Result<(), FactorError> {
        let mut transaction = self.db.pool().begin().await?;
        if !totp_factors::delete_confirmed(&mut *transaction, user.id).await? {
            transaction.rollback().await?;
            return Err(FactorError::NotOn);
        }
        recovery_codes::delete_all(&mut *transaction, user.id).await?;
        self.commit_change(
            transaction,
            user,
            keep,
            EventKind::TotpDisabled,
            "The authenticator app of your account was turned off; signing in now takes \
             only the password, and every other session was signed out.",
            device,
            now,
        )
        .await
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
        let mut transaction = self.db.pool().begin().await?;
        recovery_codes::replace(&mut transaction, user.id, &hashes(&codes), now).await?;
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

    /// Checks a second proof of who `user` is: the method it proved on
    /// success, `WrongCode` otherwise. A code is taken once; a recovery
    /// code is spent (and its owner mailed).
    pub async fn verify(
        &self,
        user: &UserRow,
        proof: Proof<'_>,
        device: &Device,
        now: i64,
    ) -> Result<Amr, FactorError> {
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
                    Ok(Amr::Otp)
                } else {
                    // Seen already: a replay, or a second tab.
                    Err(FactorError::WrongCode)
                }
            }
            Proof::RecoveryCode(code) => {
                let hash = tokens::hash(&normalize_recovery_code(code));
                let mut transaction = self.db.pool().begin().await?;
                if !recovery_codes::spend(&mut *transaction, user.id, &hash, now).await? {
                    transaction.rollback().await?;
                    return Err(FactorError::WrongCode);
                }
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
                Ok(Amr::Otp)
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

    fn totp(&self, secret: &[u8], user: &UserRow) -> Result<Totp, FactorError> {
        Builder::new()
            .with_secret(secret.to_vec())
            .with_account_name(user.email.as_str())
            .with_issuer(Some(self.issuer()))
            .build()
            .map_err(|_| FactorError::Corrupt)
    }

    /// What the authenticator app shows the account under: the app's host.
    fn issuer(&self) -> String {
        self.settings
            .app_url
            .host_str()
            .unwrap_or("accounts")
            .replace(':', "")
    }
}

fn unix(now: i64) -> u64 {
    u64::try_from(now).unwrap_or(0)
}

/// Authenticator apps show codes as "123 456"; people type what they see.
fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace()).collect()
}

fn normalize_recovery_code(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Ten codes of 80 random bits, in lower-case base32, as `xxxx-xxxx-xxxx-xxxx`.
fn new_recovery_codes() -> Vec<String> {
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

fn hashes(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .map(|code| tokens::hash(&normalize_recovery_code(code)))
        .collect()
}

/// `base64(nonce ‖ ciphertext)`, bound to the account by the associated
/// data.
fn seal(cipher: &XChaCha20Poly1305, user_id: UserId, secret: &[u8]) -> String {
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut nonce).expect("the operating system's random source is available");
    let aad = user_id.to_string();
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: secret,
                aad: aad.as_bytes(),
            },
        )
        .expect("encrypting a short secret cannot fail");
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&ciphertext);
    STANDARD.encode(sealed)
}

fn open(cipher: &XChaCha20Poly1305, user_id: UserId, sealed: &str) -> Result<Vec<u8>, FactorError> {
    let bytes = STANDARD.decode(sealed).map_err(|_| FactorError::Corrupt)?;
    if bytes.len() < 24 {
        return Err(FactorError::Corrupt);
    }
    let (nonce, ciphertext) = bytes.split_at(24);
    let aad = user_id.to_string();
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| FactorError::Corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&[7u8; 32].into())
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_own_account() {
        let ada = UserId::from_uuid(uuid::Uuid::from_u128(1));
        let eve = UserId::from_uuid(uuid::Uuid::from_u128(2));
        let sealed = seal(&cipher(), ada, b"twenty bytes secret!");
        assert_eq!(
            open(&cipher(), ada, &sealed).unwrap(),
            b"twenty bytes secret!"
        );
        assert!(open(&cipher(), eve, &sealed).is_err());
        let other = XChaCha20Poly1305::new(&[8u8; 32].into());
        assert!(open(&other, ada, &sealed).is_err());
        assert!(open(&cipher(), ada, "bm9wZQ==").is_err());
        assert_ne!(
            sealed,
            seal(&cipher(), ada, b"twenty bytes secret!"),
            "fresh nonce"
        );
    }

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
