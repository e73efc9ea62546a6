//! The authenticator app (RFC 6238 TOTP): a secret made and shown once,
//! turned on by its first code, turned off again; its secret kept
//! encrypted at rest (XChaCha20-Poly1305 under `TOTP_ENCRYPTION_KEY`,
//! bound to the account's id, so a secret copied to another row does not
//! decrypt).

use app::api::{
    types::TotpEnrollment,
    values::{SessionId, UserId},
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, Payload},
    XChaCha20Poly1305, XNonce,
};
use totp_rs::{Builder, Secret, Totp};

use super::{hashes, new_recovery_codes, normalize_code, unix, FactorError, Factors, SECRET_BYTES};
use crate::{
    device::Device,
    security_log::EventKind,
    store::{
        recovery_codes, totp_factors,
        users::{self, UserRow},
    },
};

impl Factors {
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
        let footing = self.sessions.footing(keep, now).await?;
        let mut transaction = self.db.pool().begin().await?;
        let confirmed = totp_factors::confirm(
            &mut *transaction,
            user.id,
            &row.secret,
            step as i64,
            footing,
            now,
        )
        .await?;
        if !confirmed {
            transaction.rollback().await?;
            return Err(FactorError::NotOn);
        }
        recovery_codes::replace(&mut transaction, user.id, &hashes(&codes), footing, now).await?;
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
        // The account's row first, as making new recovery codes takes it:
        // codes made at the same moment come before or find the app gone.
        users::lock(&mut *transaction, user.id).await?;
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

    pub(super) fn totp(&self, secret: &[u8], user: &UserRow) -> Result<Totp, FactorError> {
        Builder::new()
            .with_secret(secret.to_vec())
            .with_account_name(label(user.email.as_str()))
            .with_issuer(Some(label(
                self.settings.app_url.host_str().unwrap_or("accounts"),
            )))
            .build()
            .map_err(|_| FactorError::Corrupt)
    }
}

/// A name the authenticator app shows (the account's address, or the
/// app's host as the issuer). A key URI's label separates the two with a
/// colon, so neither may hold one: a valid address can (`"a:b"@example.com`,
/// quoted), and an IPv6 host does.
fn label(name: &str) -> String {
    name.replace(':', "")
}

/// `base64(nonce ‖ ciphertext)`, bound to the account by the associated
/// data.
pub(super) fn seal(cipher: &XChaCha20Poly1305, user_id: UserId, secret: &[u8]) -> String {
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

pub(super) fn open(
    cipher: &XChaCha20Poly1305,
    user_id: UserId,
    sealed: &str,
) -> Result<Vec<u8>, FactorError> {
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
    use chacha20poly1305::KeyInit;

    use super::*;

    #[test]
    fn every_valid_address_makes_a_key_uri() {
        for email in ["ada@example.com", "\"a:b\"@example.com"] {
            let email = app::api::values::check_email(email).unwrap();
            let totp = Builder::new()
                .with_secret(vec![7u8; 20])
                .with_account_name(label(&email))
                .with_issuer(Some(label("[::1]")))
                .build();
            assert!(totp.is_ok(), "{email}");
        }
    }

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
}
