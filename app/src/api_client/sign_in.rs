//! Signing up and in: the sign-up and its confirming link, and the sign-in
//! with its second step. Each answer that signs the user in hands its
//! access token to the client, which keeps it in memory only.

use super::{ApiClient, ClientError};
use crate::api::{
    endpoints,
    types::{
        LoginRequest, LoginResponse, MessageResponse, RegisterRequest, ResendVerificationRequest,
        SecondFactorRequest, TokenResponse, VerifyEmailRequest,
    },
};

impl ApiClient {
    pub async fn register(
        &self,
        request: &RegisterRequest,
    ) -> Result<MessageResponse, ClientError> {
        self.call::<endpoints::Register>((), request).await
    }

    /// Confirms a sign-up, which signs the new account in.
    pub async fn verify_email(
        &self,
        request: &VerifyEmailRequest,
    ) -> Result<TokenResponse, ClientError> {
        let tokens = self.call::<endpoints::VerifyEmail>((), request).await?;
        self.inner.adopt(&tokens);
        Ok(tokens)
    }

    pub async fn resend_verification(
        &self,
        request: &ResendVerificationRequest,
    ) -> Result<MessageResponse, ClientError> {
        self.call::<endpoints::ResendVerification>((), request)
            .await
    }

    /// Signs in: signed in at once, or a challenge for the second factor
    /// (then [`ApiClient::login_second_factor`]).
    pub async fn login(&self, request: &LoginRequest) -> Result<LoginResponse, ClientError> {
        let answer = self.call::<endpoints::Login>((), request).await?;
        if let LoginResponse::SignedIn(tokens) = &answer {
            self.inner.adopt(tokens);
        }
        Ok(answer)
    }

    /// Finishes a sign-in that asked for a second factor.
    pub async fn login_second_factor(
        &self,
        request: &SecondFactorRequest,
    ) -> Result<TokenResponse, ClientError> {
        let tokens = self
            .call::<endpoints::LoginSecondFactor>((), request)
            .await?;
        self.inner.adopt(&tokens);
        Ok(tokens)
    }
}
