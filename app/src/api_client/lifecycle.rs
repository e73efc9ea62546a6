//! The account's lifecycle: moving it to another email address (and the
//! two emailed links of that), deleting it, and downloading its data.
//! Changing the address and deleting the account are sensitive: when the
//! server asks, the client has the user confirm who they are and replays
//! the request (`step_up`).

use super::{ApiClient, ClientError, EndReason};
use crate::api::{
    endpoints,
    lifecycle::{AccountExport, ChangeEmailRequest, EmailChangeStatus, EmailLinkRequest},
    types::MessageResponse,
    values::UserId,
};

impl ApiClient {
    /// Asks to move the account to another address; a confirmation link
    /// goes there. The answer is the same whether or not the address is
    /// free.
    pub async fn change_email(
        &self,
        request: &ChangeEmailRequest,
    ) -> Result<MessageResponse, ClientError> {
        self.call::<endpoints::ChangeEmail>((), request).await
    }

    /// The change of address waiting for its confirmation, if any.
    pub async fn email_change(&self) -> Result<EmailChangeStatus, ClientError> {
        self.call::<endpoints::GetEmailChange>((), &()).await
    }

    /// Cancels the change of address waiting for its confirmation.
    pub async fn cancel_email_change(&self) -> Result<(), ClientError> {
        self.call::<endpoints::CancelEmailChange>((), &()).await
    }

    /// Confirms the change with the token of the link mailed to the new
    /// address.
    pub async fn confirm_email_change(
        &self,
        request: &EmailLinkRequest,
    ) -> Result<MessageResponse, ClientError> {
        self.call::<endpoints::ConfirmEmailChange>((), request)
            .await
    }

    /// Undoes a change with the token of the notice mailed to the old
    /// address. Every session ends, this one included.
    pub async fn undo_email_change(
        &self,
        request: &EmailLinkRequest,
    ) -> Result<MessageResponse, ClientError> {
        let answer = self.call::<endpoints::UndoEmailChange>((), request).await?;
        self.inner.forget(EndReason::SignedOut);
        Ok(answer)
    }

    /// Deletes the signed-in user's account; the session is over.
    pub async fn delete_account(&self) -> Result<(), ClientError> {
        self.call::<endpoints::DeleteMe>((), &()).await?;
        self.inner.forget(EndReason::SignedOut);
        Ok(())
    }

    /// Deletes someone's account (admins only).
    pub async fn delete_user(&self, id: UserId) -> Result<(), ClientError> {
        self.call::<endpoints::DeleteUser>(id, &()).await
    }

    /// Everything the account holds about its owner.
    pub async fn export_account(&self) -> Result<AccountExport, ClientError> {
        self.call::<endpoints::ExportMe>((), &()).await
    }
}
