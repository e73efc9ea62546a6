//! Passkeys (WebAuthn, through webauthn-rs): adding one to the account,
//! listing, renaming and removing them; using one (a sign-in with no email
//! typed, the second factor of a password sign-in, proving again who the
//! signed-in user is) is in `passkey_use`. The relying party is `APP_URL`: its host is the
//! RP id and its origin the only one accepted.
//!
//! A passkey counts as both factors: the library asks the authenticator to
//! verify its user (PIN or biometrics) and refuses an answer without it.
//! Its creation options require a discoverable credential (a resident
//! key), so that signing in needs no email address.
//!
//! What an attacker may try, and what answers it:
//! - Replay an answer, or race two copies of it: the ceremony's state is
//!   taken by one `DELETE … RETURNING`, so an answer is checked once.
//! - Answer a stale challenge: states live five minutes.
//! - Use a page of another site (phishing): the library checks the origin
//!   and RP id the browser signed; another origin is refused.
//! - Use a cloned authenticator: a signature counter that does not move
//!   forward is refused in the same conditional statement that records the
//!   use, and the refusal lands in the owner's activity.
//! - Use a passkey of one's own account to step up or finish a sign-in of
//!   another: bound ceremonies name their account and session, and a
//!   credential of another account is refused by name.
//! - Keep signing in with a removed passkey, or one whose account was
//!   disabled: the use is recorded only while the row exists, and the
//!   session opens only under the credential epoch read before (removing
//!   a passkey raises it).
//! - Add a credential of someone else's account: credential ids are
//!   unique across accounts.
//! - Add or remove a passkey from a borrowed signed-in browser: both need a
//!   recent authentication, raise the credential epoch, end the other
//!   sessions and mail the owner.

use app::api::{
    passkeys::CreationChallengeResponse,
    values::{PasskeyId, SessionId, UserId},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use url::Url;
use webauthn_rs::prelude::{
    Credential, Passkey, PasskeyRegistration, RegisterPublicKeyCredential, Webauthn,
    WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::{FactorError, Factors};
use crate::{
    auth::tokens,
    config::Settings,
    device::Device,
    security_log::EventKind,
    store::{
        passkeys::{self, NewPasskey, PasskeyRow},
        users::UserRow,
        webauthn_ceremonies::{self, NewCeremony, Purpose},
    },
};

/// How long a ceremony waits for the browser's answer.
pub const CEREMONY_TTL_SECS: i64 = 5 * 60;

/// The relying party of `APP_URL`: `None` when its host is an IP address
/// (browsers offer passkeys to domain names only), an error when a domain
/// and its origin cannot make one.
pub fn relying_party(settings: &Settings) -> anyhow::Result<Option<Webauthn>> {
    let url: &Url = &settings.app_url;
    let Some(rp_id) = url.domain() else {
        tracing::warn!(
            app_url = %url,
            "APP_URL's host is not a domain name: passkeys are off (browsers offer them to domains only)"
        );
        return Ok(None);
    };
    let webauthn = WebauthnBuilder::new(rp_id, url)
        .and_then(|builder| builder.rp_name(rp_id).build())
        .map_err(|error| {
            anyhow::anyhow!("APP_URL ({url}) cannot be a WebAuthn relying party: {error}")
        })?;
    Ok(Some(webauthn))
}

impl Factors {
    /// Whether `APP_URL` makes a relying party: the pages offer passkeys.
    pub fn passkeys_available(&self) -> bool {
        self.webauthn.is_some()
    }

    pub(super) fn webauthn(&self) -> Result<&Webauthn, FactorError> {
        self.webauthn
            .as_deref()
            .ok_or(FactorError::PasskeysUnavailable)
    }

    pub async fn passkeys(&self, user_id: UserId) -> Result<Vec<PasskeyRow>, sqlx::Error> {
        passkeys::list(self.db.pool(), user_id).await
    }

    /// Whether the account has a passkey to offer.
    pub async fn has_passkey(&self, user_id: UserId) -> Result<bool, sqlx::Error> {
        passkeys::exists(self.db.pool(), user_id).await
    }

    /// Creation options for a new passkey of `user`; the state waits under
    /// the account (a second request replaces the first).
    pub async fn passkey_creation(
        &self,
        user: &UserRow,
        now: i64,
    ) -> Result<CreationChallengeResponse, FactorError> {
        let webauthn = self.webauthn()?;
        let existing = self.stored_passkeys(user.id).await?;
        let exclude = existing
            .iter()
            .map(|(_, passkey)| passkey.cred_id().clone())
            .collect();
        let (mut options, state) = webauthn
            .start_passkey_registration(
                *user.id.as_uuid(),
                user.email.as_str(),
                user.name.as_str(),
                Some(exclude),
            )
            .map_err(FactorError::PasskeyRejected)?;
        // Discoverable: the authenticator keeps the account with the key,
        // so that signing in needs no email address.
        let selection = options
            .public_key
            .authenticator_selection
            .get_or_insert_with(Default::default);
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
        self.put_state(
            &registration_key(user.id),
            Purpose::Register,
            Some(user.id),
            None,
            &state,
            now,
        )
        .await?;
        Ok(options)
    }

    /// Adds the passkey the browser made from the waiting options.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_passkey(
        &self,
        user: &UserRow,
        keep: SessionId,
        name: &str,
        credential: &RegisterPublicKeyCredential,
        device: &Device,
        now: i64,
    ) -> Result<PasskeyRow, FactorError> {
        let webauthn = self.webauthn()?;
        let row = webauthn_ceremonies::take(
            self.db.pool(),
            &registration_key(user.id),
            Purpose::Register,
            now,
        )
        .await?
        .ok_or(FactorError::ChallengeInvalid)?;
        let state: PasskeyRegistration =
            serde_json::from_str(&row.state).map_err(|_| FactorError::Corrupt)?;
        let passkey = webauthn
            .finish_passkey_registration(credential, &state)
            .map_err(FactorError::PasskeyRejected)?;
        let internals = Credential::from(passkey.clone());
        let id = PasskeyId::from_uuid(uuid::Uuid::now_v7());
        let record = serde_json::to_string(&passkey).map_err(|_| FactorError::Corrupt)?;
        let footing = self.sessions.footing(keep, now).await?;
        let mut transaction = self.db.pool().begin().await?;
        let added = passkeys::insert(
            &mut *transaction,
            NewPasskey {
                id,
                user_id: user.id,
                credential_id: &URL_SAFE_NO_PAD.encode(passkey.cred_id()),
                name,
                credential: &record,
                sign_count: i64::from(internals.counter),
                backed_up: internals.backup_state,
                footing,
                now,
            },
        )
        .await?;
        if !added {
            transaction.rollback().await?;
            return Err(FactorError::PasskeyExists);
        }
        let notice = format!(
            "A passkey named \"{name}\" was added to your account; every other session was \
             signed out."
        );
        self.commit_change(
            transaction,
            user,
            Some(keep),
            EventKind::PasskeyAdded,
            &notice,
            device,
            now,
        )
        .await?;
        passkeys::find(self.db.pool(), user.id, id)
            .await?
            .ok_or(FactorError::NotFound)
    }

    pub async fn rename_passkey(
        &self,
        user_id: UserId,
        id: PasskeyId,
        name: &str,
    ) -> Result<PasskeyRow, FactorError> {
        passkeys::rename(self.db.pool(), user_id, id, name)
            .await?
            .ok_or(FactorError::NotFound)
    }

    /// Removes one of `user`'s passkeys.
    pub async fn remove_passkey(
        &self,
        user: &UserRow,
        keep: SessionId,
        id: PasskeyId,
        device: &Device,
        now: i64,
    ) -> Result<(), FactorError> {
        let mut transaction = self.db.pool().begin().await?;
        let Some(removed) = passkeys::delete(&mut *transaction, user.id, id).await? else {
            transaction.rollback().await?;
            return Err(FactorError::NotFound);
        };
        let notice = format!(
            "The passkey named \"{}\" was removed from your account; it no longer signs in, \
             and every other session was signed out.",
            removed.name
        );
        self.commit_change(
            transaction,
            user,
            Some(keep),
            EventKind::PasskeyRemoved,
            &notice,
            device,
            now,
        )
        .await
    }

    pub(super) async fn stored_passkeys(
        &self,
        user_id: UserId,
    ) -> Result<Vec<(PasskeyRow, Passkey)>, FactorError> {
        passkeys::list(self.db.pool(), user_id)
            .await?
            .into_iter()
            .map(|row| stored(&row).map(|passkey| (row, passkey)))
            .collect()
    }

    pub(super) async fn put_state(
        &self,
        key_hash: &str,
        purpose: Purpose,
        user_id: Option<UserId>,
        session_id: Option<SessionId>,
        state: &impl serde::Serialize,
        now: i64,
    ) -> Result<(), FactorError> {
        let state = serde_json::to_string(state).map_err(|_| FactorError::Corrupt)?;
        webauthn_ceremonies::put(
            self.db.pool(),
            NewCeremony {
                key_hash,
                purpose,
                user_id,
                session_id,
                state: &state,
                now,
                expires_at: now + CEREMONY_TTL_SECS,
            },
        )
        .await?;
        Ok(())
    }
}

/// Where the state of adding a passkey waits: one per account.
fn registration_key(user_id: UserId) -> String {
    tokens::hash(&format!("register:{user_id}"))
}

pub(super) fn stored(row: &PasskeyRow) -> Result<Passkey, FactorError> {
    serde_json::from_str(&row.credential).map_err(|_| FactorError::Corrupt)
}
