//! Passkeys: the signed-in account's list, and the calls around the
//! browser's `navigator.credentials` (see `auth::webauthn`): options out,
//! the authenticator's answer back.

use super::{ApiClient, ClientError};
use crate::api::{
    endpoints,
    passkeys::{
        AddPasskeyRequest, Passkey, PasskeyAssertion, PasskeyChallenge, PasskeyCreation,
        PasskeyList, RenamePasskeyRequest, SecondFactorPasskeyRequest,
    },
    types::TokenResponse,
    values::PasskeyId,
};

impl ApiClient {
    pub async fn my_passkeys(&self) -> Result<PasskeyList, ClientError> {
        self.call::<endpoints::MyPasskeys>((), &()).await
    }

    /// Creation options for a new passkey (a sensitive action: the user
    /// may be asked to confirm who they are first).
    pub async fn passkey_creation_options(&self) -> Result<PasskeyCreation, ClientError> {
        self.call::<endpoints::PasskeyCreationOptions>((), &())
            .await
    }

    /// Adds the passkey the browser made; the user's other sessions end.
    pub async fn add_passkey(&self, request: &AddPasskeyRequest) -> Result<Passkey, ClientError> {
        self.call::<endpoints::AddPasskey>((), request).await
    }

    pub async fn rename_passkey(
        &self,
        id: PasskeyId,
        request: &RenamePasskeyRequest,
    ) -> Result<Passkey, ClientError> {
        self.call::<endpoints::RenamePasskey>(id, request).await
    }

    /// Removes a passkey (a sensitive action); the user's other sessions end.
    pub async fn remove_passkey(&self, id: PasskeyId) -> Result<(), ClientError> {
        self.call::<endpoints::RemovePasskey>(id, &()).await
    }

    /// Options for signing in with a passkey and no email address.
    pub async fn passkey_login_options(&self) -> Result<PasskeyChallenge, ClientError> {
        self.call::<endpoints::PasskeyLoginOptions>((), &()).await
    }

    /// Signs in with a passkey's answer, as both factors.
    pub async fn login_with_passkey(
        &self,
        request: &PasskeyAssertion,
    ) -> Result<TokenResponse, ClientError> {
        let tokens = self.call::<endpoints::PasskeyLogin>((), request).await?;
        self.inner.adopt(&tokens);
        Ok(tokens)
    }

    /// Options for finishing a password sign-in with a passkey.
    pub async fn second_factor_passkey_options(
        &self,
        request: &SecondFactorPasskeyRequest,
    ) -> Result<PasskeyChallenge, ClientError> {
        self.call::<endpoints::SecondFactorPasskeyOptions>((), request)
            .await
    }

    /// Finishes a password sign-in with a passkey's answer.
    pub async fn login_second_factor_passkey(
        &self,
        request: &PasskeyAssertion,
    ) -> Result<TokenResponse, ClientError> {
        let tokens = self
            .call::<endpoints::LoginSecondFactorPasskey>((), request)
            .await?;
        self.inner.adopt(&tokens);
        Ok(tokens)
    }

    /// Options for proving again, with a passkey, who the user is; fails
    /// with `second_factor_not_enabled` when the account has none.
    pub async fn reauthentication_passkey_options(&self) -> Result<PasskeyChallenge, ClientError> {
        self.call::<endpoints::ReauthenticationPasskeyOptions>((), &())
            .await
    }
}
