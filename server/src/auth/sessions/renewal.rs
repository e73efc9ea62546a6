//! Renewing a session: a refresh token exchanged for the right to a new
//! access token and, normally, a successor token, with the grace window
//! for a token another tab rotated a moment ago and reuse detection after
//! it (see the attacker's moves in the module above).

use app::api::values::{SessionId, UserId};

use super::{cookie_life, CookieLife, Sessions};
use crate::{
    auth::{jwt::Authentication, tokens},
    store::sessions::{self, EndReason, Rotation},
};

/// A refresh token accepted.
pub struct Renewed {
    pub session_id: SessionId,
    pub user_id: UserId,
    /// When and how the session's user last proved who they are: a
    /// refresh carries it on unchanged.
    pub authentication: Authentication,
    /// The successor token and how long to keep it, when this request
    /// rotated; `None` within the grace window of a rotation that another
    /// request (another tab) made.
    pub successor: Option<(String, CookieLife)>,
}

/// Why a refresh token was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// Unknown, expired, or of an ended session.
    #[error("the refresh token is not valid")]
    Invalid,
    /// A rotated token came back after the grace window: the session is
    /// ended for everyone who holds it.
    #[error("a rotated refresh token was presented again")]
    Reused {
        session_id: SessionId,
        user_id: UserId,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl Sessions {
    /// Exchanges a refresh token for the right to a new access token and,
    /// normally, a successor token.
    pub async fn renew(&self, presented: &str, now: i64) -> Result<Renewed, Refused> {
        let presented_hash = tokens::hash(presented);
        let record = sessions::find_refresh_token(self.db.pool(), &presented_hash)
            .await?
            .ok_or(Refused::Invalid)?;
        if record.revoked_at.is_some()
            || record.expires_at <= now
            || record.last_seen_at <= self.idle_since(now)
        {
            return Err(Refused::Invalid);
        }
        if record.credentials_current != 1 {
            // Opened under credentials that have changed since, or the
            // account is disabled: no token, and the session ends.
            self.end(
                record.user_id,
                record.session_id,
                EndReason::CredentialsChanged,
                now,
            )
            .await?;
            return Err(Refused::Invalid);
        }
        let grace = self.lifetimes.grace_secs;
        // Measured from the moment the presented token was rotated.
        let within_grace = |rotated_at: i64| grace > 0 && now - rotated_at <= grace;
        let renewed = |successor| Renewed {
            session_id: record.session_id,
            user_id: record.user_id,
            authentication: Authentication::from_stored(record.auth_time, &record.amr),
            successor,
        };
        if let Some(rotated_at) = record.rotated_at {
            // Another tab of the same browser rotated it a moment ago and the
            // new cookie is already in the shared jar: answer without rotating.
            if within_grace(rotated_at) {
                return Ok(renewed(None));
            }
            return Err(self
                .reuse_detected(record.session_id, record.user_id, now)
                .await);
        }
        let fresh = tokens::generate();
        let rotation = sessions::rotate(
            self.db.pool(),
            record.session_id,
            &presented_hash,
            &tokens::hash(&fresh),
            now,
            self.idle_since(now),
        )
        .await?;
        match rotation {
            Rotation::Rotated => {
                self.metrics.refresh_rotated();
                Ok(renewed(Some((
                    fresh,
                    cookie_life(record.remember != 0, record.expires_at - now),
                ))))
            }
            // Ended (signed out, expired, credentials changed) since it was
            // read: a refresh that races a logout or a change gets nothing.
            Rotation::SessionEnded => Err(Refused::Invalid),
            // A concurrent request with the same token won the rotation.
            Rotation::AlreadyRotated {
                rotated_at: Some(rotated_at),
            } if within_grace(rotated_at) => Ok(renewed(None)),
            Rotation::AlreadyRotated { .. } => Err(self
                .reuse_detected(record.session_id, record.user_id, now)
                .await),
        }
    }

    async fn reuse_detected(&self, session_id: SessionId, user_id: UserId, now: i64) -> Refused {
        self.metrics.refresh_reuse_detected();
        if let Err(error) = self
            .end(user_id, session_id, EndReason::ReuseDetected, now)
            .await
        {
            return error.into();
        }
        tracing::warn!(
            %session_id,
            %user_id,
            "rotated refresh token presented again; session revoked"
        );
        Refused::Reused {
            session_id,
            user_id,
        }
    }
}
