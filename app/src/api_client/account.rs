//! The signed-in user's own account: the profile, the password (and its
//! reset by emailed link), where the user is signed in, and the activity
//! log. A profile read or saved here is announced to the whole app
//! ([`SessionEvent::UserChanged`]).

use super::{ApiClient, ClientError, SessionEvent};
use crate::api::{
    endpoints,
    types::{
        ChangePasswordRequest, ForgotPasswordRequest, ListQuery, MessageResponse,
        ResetPasswordRequest, SecurityEvent, SessionInfo, UpdateProfileRequest, User,
    },
    values::{SessionId, UserId},
};

impl ApiClient {
    pub async fn me(&self) -> Result<User, ClientError> {
        let user = self.call::<endpoints::Me>((), &()).await?;
        self.inner.notify(SessionEvent::UserChanged(user.clone()));
        Ok(user)
    }

    pub async fn update_profile(
        &self,
        request: &UpdateProfileRequest,
    ) -> Result<User, ClientError> {
        let user = self.call::<endpoints::UpdateMe>((), request).await?;
        self.inner.notify(SessionEvent::UserChanged(user.clone()));
        Ok(user)
    }

    pub async fn forgot_password(
        &self,
        request: &ForgotPasswordRequest,
    ) -> Result<MessageResponse, ClientError> {
        self.call::<endpoints::ForgotPassword>((), request).await
    }

    pub async fn reset_password(
        &self,
        request: &ResetPasswordRequest,
    ) -> Result<MessageResponse, ClientError> {
        self.call::<endpoints::ResetPassword>((), request).await
    }

    pub async fn change_password(
        &self,
        request: &ChangePasswordRequest,
    ) -> Result<(), ClientError> {
        self.call::<endpoints::ChangePassword>((), request).await
    }

    /// The user's live sessions, the most recently used first.
    /// Pages through them all (the server caps how many an account has).
    pub async fn my_sessions(&self) -> Result<Vec<SessionInfo>, ClientError> {
        let mut sessions = Vec::new();
        let mut cursor = None;
        loop {
            let query = ListQuery {
                q: None,
                limit: Some(100),
                cursor,
            };
            let page = self.call::<endpoints::MySessions>(query, &()).await?;
            sessions.extend(page.sessions);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(sessions),
            }
        }
    }

    /// The user's recent account activity, newest first.
    pub async fn my_activity(&self) -> Result<Vec<SecurityEvent>, ClientError> {
        Ok(self.call::<endpoints::MyActivity>((), &()).await?.events)
    }

    /// Any account's recent activity (admins only).
    pub async fn user_activity(&self, id: UserId) -> Result<Vec<SecurityEvent>, ClientError> {
        Ok(self.call::<endpoints::UserActivity>(id, &()).await?.events)
    }

    /// Signs one of the user's sessions (another device) out.
    pub async fn end_session(&self, id: SessionId) -> Result<(), ClientError> {
        self.call::<endpoints::EndMySession>(id, &()).await
    }
}
