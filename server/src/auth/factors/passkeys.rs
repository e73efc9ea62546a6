//! Passkeys (WebAuthn, through webauthn-rs): adding one to the account,
//! and checking one's answer to a challenge, for a sign-in with no email
//! typed, as the second factor of a password sign-in, or to prove again who
//! the signed-in user is. The relying party is `APP_URL`: its host is the
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
    passkeys::{CreationChallengeResponse, PasskeyChallenge, PublicKeyCredential},
    values::{PasskeyId, SessionId, UserId},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use url::Url;
use webauthn_rs::prelude::{
    Credential, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    RegisterPublicKeyCredential, Webauthn, WebauthnBuilder, WebauthnError,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::{FactorError, Factors};
use crate::{
    auth::{device::Device, jwt::Amr, tokens},
    config::Settings,
    security_log::{self, EventKind},
    store::{
        passkeys::{self, NewPasskey, PasskeyRow},
        users::{self, UserRow},
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

/// Where a passkey's answer is expected from.
#[derive(Debug, Clone, Copy)]
pub enum Ceremony<'a> {
    /// A sign-in with no email typed: any account's passkey.
    SignIn,
    /// The second step of a password sign-in, keyed by its challenge.
    SecondFactor {
        login_challenge: &'a str,
        user_id: UserId,
    },
    /// A re-authentication of this account's session.
    StepUp {
        user_id: UserId,
        session_id: SessionId,
    },
}

impl Ceremony<'_> {
    const fn purpose(self) -> Purpose {
        match self {
            Self::SignIn => Purpose::SignIn,
            Self::SecondFactor { .. } => Purpose::SecondFactor,
            Self::StepUp { .. } => Purpose::StepUp,
        }
    }

    fn user_id(self) -> Option<UserId> {
        match self {
            Self::SignIn => None,
            Self::SecondFactor { user_id, .. } | Self::StepUp { user_id, .. } => Some(user_id),
        }
    }

    fn session_id(self) -> Option<SessionId> {
        match self {
            Self::StepUp { session_id, .. } => Some(session_id),
            _ => None,
        }
    }

    /// The key the state is stored under, from what the client sends back.
    fn key_hash(self, challenge_id: &str) -> String {
        match self {
            Self::SecondFactor {
                login_challenge, ..
            } => tokens::hash(&format!("second_factor:{login_challenge}")),
            _ => tokens::hash(challenge_id),
        }
    }
}

/// Who a passkey proved, and how. `user` was read before the use was
/// recorded: a session opened for it opens only under that credential
/// epoch, so a removal of the passkey that lands meanwhile wins.
#[derive(Debug, Clone)]
pub struct PasskeyProof {
    pub user: UserRow,
    pub methods: Vec<Amr>,
}

impl Factors {
    /// Whether `APP_URL` makes a relying party: the pages offer passkeys.
    pub fn passkeys_available(&self) -> bool {
        self.webauthn.is_some()
    }

    fn webauthn(&self) -> Result<&Webauthn, FactorError> {
        self.webauthn
            .as_deref()
            .ok_or(FactorError::PasskeysUnavailable)
    }

    pub async fn passkeys(&self, user_id: UserId) -> Result<Vec<PasskeyRow>, sqlx::Error> {
        passkeys::list(self.db.pool(), user_id).await
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

    /// Request options for `ceremony`, its state stored until the answer.
    /// A bound ceremony offers the account's own passkeys, and needs one.
    pub async fn passkey_challenge(
        &self,
        ceremony: Ceremony<'_>,
        now: i64,
    ) -> Result<PasskeyChallenge, FactorError> {
        let webauthn = self.webauthn()?;
        let challenge_id = match ceremony {
            Ceremony::SecondFactor {
                login_challenge, ..
            } => login_challenge.to_owned(),
            _ => tokens::generate(),
        };
        let key_hash = ceremony.key_hash(&challenge_id);
        let options = match ceremony.user_id() {
            None => {
                let (options, state) = webauthn
                    .start_discoverable_authentication()
                    .map_err(FactorError::PasskeyRejected)?;
                self.put_state(&key_hash, Purpose::SignIn, None, None, &state, now)
                    .await?;
                options
            }
            Some(user_id) => {
                let stored: Vec<Passkey> = self
                    .stored_passkeys(user_id)
                    .await?
                    .into_iter()
                    .map(|(_, passkey)| passkey)
                    .collect();
                if stored.is_empty() {
                    return Err(FactorError::NotOn);
                }
                let (options, state) = webauthn
                    .start_passkey_authentication(&stored)
                    .map_err(FactorError::PasskeyRejected)?;
                self.put_state(
                    &key_hash,
                    ceremony.purpose(),
                    Some(user_id),
                    ceremony.session_id(),
                    &state,
                    now,
                )
                .await?;
                options
            }
        };
        Ok(PasskeyChallenge {
            challenge_id,
            options,
        })
    }

    /// Checks a passkey's answer to the challenge of `ceremony` and records
    /// the use. The state is spent whatever the outcome.
    pub async fn verify_passkey(
        &self,
        ceremony: Ceremony<'_>,
        challenge_id: &str,
        credential: &PublicKeyCredential,
        device: &Device,
        now: i64,
    ) -> Result<PasskeyProof, FactorError> {
        let webauthn = self.webauthn()?;
        let state = webauthn_ceremonies::take(
            self.db.pool(),
            &ceremony.key_hash(challenge_id),
            ceremony.purpose(),
            now,
        )
        .await?
        .ok_or(FactorError::ChallengeInvalid)?;
        let user_id: Option<UserId> = state.user_id.as_deref().and_then(|id| id.parse().ok());
        let session_id: Option<SessionId> =
            state.session_id.as_deref().and_then(|id| id.parse().ok());
        if user_id != ceremony.user_id() || session_id != ceremony.session_id() {
            return Err(FactorError::ChallengeInvalid);
        }
        let credential_id = URL_SAFE_NO_PAD.encode(credential.get_credential_id());
        let row = passkeys::find_by_credential_id(self.db.pool(), &credential_id)
            .await?
            .ok_or(FactorError::UnknownPasskey)?;
        if ceremony
            .user_id()
            .is_some_and(|user_id| user_id != row.user_id)
        {
            return Err(FactorError::PasskeyOfAnotherAccount);
        }
        let user = users::find_by_id(self.db.pool(), row.user_id)
            .await?
            .ok_or(FactorError::UnknownPasskey)?;
        let mut passkey = stored(&row)?;
        let result = match ceremony {
            Ceremony::SignIn => {
                // The user handle the authenticator kept must be the
                // account the credential was added to.
                let (handle, _) = webauthn
                    .identify_discoverable_authentication(credential)
                    .map_err(FactorError::PasskeyRejected)?;
                if handle != *row.user_id.as_uuid() {
                    return Err(FactorError::PasskeyRejected(
                        WebauthnError::InvalidUserUniqueId,
                    ));
                }
                let state: DiscoverableAuthentication =
                    serde_json::from_str(&state.state).map_err(|_| FactorError::Corrupt)?;
                webauthn.finish_discoverable_authentication_v2(credential, state, &passkey)
            }
            _ => {
                let state: PasskeyAuthentication =
                    serde_json::from_str(&state.state).map_err(|_| FactorError::Corrupt)?;
                webauthn.finish_passkey_authentication(credential, &state)
            }
        };
        let result = match result {
            Ok(result) => result,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                return Err(self.counter_regressed(&row, device, now).await);
            }
            Err(error) => return Err(FactorError::PasskeyRejected(error)),
        };
        passkey.update_credential(&result);
        let record = serde_json::to_string(&passkey).map_err(|_| FactorError::Corrupt)?;
        let taken = passkeys::take_use(
            self.db.pool(),
            row.id,
            i64::from(result.counter()),
            result.backup_state(),
            &record,
            now,
        )
        .await?;
        if !taken {
            // Removed meanwhile, or another answer took a later count.
            return Err(
                match passkeys::find(self.db.pool(), row.user_id, row.id).await? {
                    None => FactorError::UnknownPasskey,
                    Some(_) => self.counter_regressed(&row, device, now).await,
                },
            );
        }
        let mut methods = vec![Amr::Hwk];
        if result.user_verified() {
            methods.push(Amr::User);
        }
        Ok(PasskeyProof { user, methods })
    }

    /// Logs and records a counter that went backwards, and refuses.
    async fn counter_regressed(&self, row: &PasskeyRow, device: &Device, now: i64) -> FactorError {
        tracing::warn!(
            user_id = %row.user_id,
            passkey = %row.id,
            "a passkey's signature counter went backwards: refused (the credential may be copied)"
        );
        let detail = format!("the passkey named \"{}\"", row.name);
        if let Err(error) = security_log::record_in(
            self.db.pool(),
            row.user_id,
            EventKind::PasskeyCounterRegressed,
            Some(device),
            Some(&detail),
            now,
        )
        .await
        {
            return error.into();
        }
        FactorError::CounterRegressed
    }

    async fn stored_passkeys(
        &self,
        user_id: UserId,
    ) -> Result<Vec<(PasskeyRow, Passkey)>, FactorError> {
        passkeys::list(self.db.pool(), user_id)
            .await?
            .into_iter()
            .map(|row| stored(&row).map(|passkey| (row, passkey)))
            .collect()
    }

    async fn put_state(
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

fn stored(row: &PasskeyRow) -> Result<Passkey, FactorError> {
    serde_json::from_str(&row.credential).map_err(|_| FactorError::Corrupt)
}
