//! Access tokens: short-lived HS256 JWTs (`typ: at+jwt`, RFC 9068 style).
//! Verification pins the algorithm and checks signature, type, issuer,
//! audience and expiry, with no leeway: the server that checks is the one
//! that signed.

use std::time::Duration;

use app::api::values::{Role, SessionId, UserId};
use jsonwebtoken::{
    decode, encode, errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};

pub const TOKEN_TYPE: &str = "at+jwt";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: UserId,
    /// The session id: revoking the session revokes the token.
    pub sid: SessionId,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// Why a presented token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Expired,
    Invalid,
}

#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl AccessTokens {
    pub fn new(secret: &[u8], issuer: String, audience: String, ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer,
            audience,
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A signed token for one session of one user, valid from `now`.
    pub fn issue(
        &self,
        user_id: UserId,
        session_id: SessionId,
        role: Role,
        now: i64,
    ) -> anyhow::Result<String> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id,
            sid: session_id,
            role,
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let header = Header {
            typ: Some(TOKEN_TYPE.to_owned()),
            ..Header::new(Algorithm::HS256)
        };
        Ok(encode(&header, &claims, &self.encoding)?)
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, Rejection> {
        let data =
            decode::<AccessClaims>(token, &self.decoding, &self.validation).map_err(|error| {
                match error.kind() {
                    ErrorKind::ExpiredSignature => Rejection::Expired,
                    _ => Rejection::Invalid,
                }
            })?;
        // RFC 9068: "at+jwt", or the full media type, compared without case.
        let typ = data.header.typ.as_deref().unwrap_or_default();
        let typ_ok =
            typ.eq_ignore_ascii_case(TOKEN_TYPE) || typ.eq_ignore_ascii_case("application/at+jwt");
        if !typ_ok {
            return Err(Rejection::Invalid);
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserId {
        UserId::from_uuid(uuid::Uuid::from_u128(1))
    }

    fn session() -> SessionId {
        SessionId::from_uuid(uuid::Uuid::from_u128(2))
    }

    const SECRET: &[u8] = b"unit-test-secret-of-more-than-32-bytes!";

    fn tokens() -> AccessTokens {
        AccessTokens::new(
            SECRET,
            "https://issuer.example".into(),
            "https://issuer.example/api".into(),
            Duration::from_secs(900),
        )
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn issued_tokens_verify_and_carry_their_claims() {
        let tokens = tokens();
        let now = now();
        let token = tokens.issue(user(), session(), Role::Admin, now).unwrap();
        let claims = tokens.verify(&token).unwrap();
        assert_eq!(claims.sub, user());
        assert_eq!(claims.sid, session());
        assert_eq!(claims.role, Role::Admin);
        assert_eq!(claims.exp - claims.iat, 900);
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.alg, Algorithm::HS256);
    }

    #[test]
    fn expiry_is_told_apart_from_forgery() {
        let tokens = tokens();
        let stale = tokens
            .issue(user(), session(), Role::User, now() - 901)
            .unwrap();
        assert_eq!(tokens.verify(&stale), Err(Rejection::Expired));

        let other = AccessTokens::new(
            b"another-secret-that-is-long-enough-too",
            "https://issuer.example".into(),
            "https://issuer.example/api".into(),
            Duration::from_secs(900),
        );
        let forged = other.issue(user(), session(), Role::User, now()).unwrap();
        assert_eq!(tokens.verify(&forged), Err(Rejection::Invalid));
    }

    #[test]
    fn other_issuers_and_audiences_are_refused() {
        let tokens = tokens();
        for (issuer, audience) in [
            ("https://evil.example", "https://issuer.example/api"),
            ("https://issuer.example", "https://elsewhere.example"),
        ] {
            let other = AccessTokens::new(
                SECRET,
                issuer.into(),
                audience.into(),
                Duration::from_secs(60),
            );
            let token = other.issue(user(), session(), Role::User, now()).unwrap();
            assert_eq!(
                tokens.verify(&token),
                Err(Rejection::Invalid),
                "{issuer} {audience}"
            );
        }
    }

    #[test]
    fn tokens_of_another_type_are_refused() {
        let tokens = tokens();
        let claims = AccessClaims {
            iss: "https://issuer.example".into(),
            aud: "https://issuer.example/api".into(),
            sub: user(),
            sid: session(),
            role: Role::User,
            iat: now(),
            exp: now() + 60,
            jti: "j".into(),
        };
        for typ in [None, Some("JWT"), Some("id+jwt")] {
            let header = Header {
                typ: typ.map(str::to_owned),
                ..Header::new(Algorithm::HS256)
            };
            let token = encode(&header, &claims, &EncodingKey::from_secret(SECRET)).unwrap();
            assert_eq!(tokens.verify(&token), Err(Rejection::Invalid), "{typ:?}");
        }
    }

    #[test]
    fn garbage_is_invalid() {
        let tokens = tokens();
        let token = tokens.issue(user(), session(), Role::User, now()).unwrap();
        for bad in ["", "abc", "a.b.c", &token[..token.len() - 5]] {
            assert_eq!(tokens.verify(bad), Err(Rejection::Invalid), "{bad}");
        }
    }
}
