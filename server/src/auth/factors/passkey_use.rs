//! Using a passkey: the challenge of a ceremony (a sign-in with no email
//! typed, the second step of a password sign-in, a re-authentication), and
//! the check of its answer, which records the use. What an attacker may try
//! against both, and what answers it, is listed in `passkeys`.

use app::api::{
    passkeys::{PasskeyChallenge, PublicKeyCredential},
    values::{SessionId, UserId},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, WebauthnError,
};

use super::{passkeys::stored, FactorError, Factors};
use crate::{
    auth::{jwt::Amr, tokens},
    device::Device,
    security_log::{self, EventKind},
    store::{
        passkeys::{self, PasskeyRow},
        users::{self, UserRow},
        webauthn_ceremonies::{self, Purpose},
    },
};

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
    /// The passkey's footing (`footing`): that of the session that added it.
    pub footing: i64,
}

impl Factors {
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
        Ok(PasskeyProof {
            user,
            methods,
            footing: row.footing,
        })
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
}
