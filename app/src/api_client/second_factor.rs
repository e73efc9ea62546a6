//! Two-step verification of the signed-in user.

use super::{ApiClient, ClientError};
use crate::api::{
    endpoints,
    types::{ConfirmTotpRequest, RecoveryCodes, SecondFactorStatus, TotpEnrollment},
};

/// Two-step verification of the signed-in user. Every change needs a recent
/// sign-in: when the server says so, the client asks the user to confirm
/// who they are and replays the request (`step_up`).
impl ApiClient {
    /// Whether the authenticator app is on, and how many recovery codes are left.
    pub async fn second_factor_status(&self) -> Result<SecondFactorStatus, ClientError> {
        self.call::<endpoints::MySecondFactor>((), &()).await
    }

    /// A new secret for an authenticator app, waiting for its first code.
    pub async fn start_totp(&self) -> Result<TotpEnrollment, ClientError> {
        self.call::<endpoints::StartTotp>((), &()).await
    }

    /// Turns the app on with a code it shows; answers the recovery codes,
    /// this once. The user's other sessions end.
    pub async fn confirm_totp(
        &self,
        request: &ConfirmTotpRequest,
    ) -> Result<RecoveryCodes, ClientError> {
        self.call::<endpoints::ConfirmTotp>((), request).await
    }

    /// Turns the app off, with its recovery codes. The user's other sessions end.
    pub async fn disable_totp(&self) -> Result<(), ClientError> {
        self.call::<endpoints::DisableTotp>((), &()).await
    }

    /// New recovery codes, answered this once; the old ones stop working.
    /// The user's other sessions end.
    pub async fn replace_recovery_codes(&self) -> Result<RecoveryCodes, ClientError> {
        self.call::<endpoints::ReplaceRecoveryCodes>((), &()).await
    }
}
