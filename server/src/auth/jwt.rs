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
    /// When the user last proved who they are (OpenID Connect's
    /// `auth_time`): a sign-in or a re-authentication, never a refresh.
    #[serde(default)]
    pub auth_time: i64,
    /// How they proved it (RFC 8176).
    #[serde(default)]
    pub amr: Vec<Amr>,
}

/// A method of proving who one is, as RFC 8176 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Amr {
    /// A password.
    Pwd,
    /// A one-time code (an authenticator app, a recovery code).
    Otp,
    /// A hardware-bound key (a passkey).
    Hwk,
    /// The authenticator verified its user (a passkey's PIN or biometrics).
    User,
}

impl Amr {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pwd => "pwd",
            Self::Otp => "otp",
            Self::Hwk => "hwk",
            Self::User => "user",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Pwd, Self::Otp, Self::Hwk, Self::User]
            .into_iter()
            .find(|amr| amr.as_str() == text)
    }
}

/// When and how the user of a session last proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    pub at: i64,
    pub methods: Vec<Amr>,
}

impl Authentication {
    /// A password, at `at`.
    pub fn password(at: i64) -> Self {
        Self {
            at,
            methods: vec![Amr::Pwd],
        }
    }

    /// As the sessions table keeps it: the methods comma-separated.
    pub fn from_stored(at: i64, methods: &str) -> Self {
        Self {
            at,
            methods: methods.split(',').filter_map(Amr::parse).collect(),
        }
    }

    pub fn stored_methods(&self) -> String {
        self.methods
            .iter()
            .map(|amr| amr.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
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
        authentication: &Authentication,
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
            auth_time: authentication.at,
            amr: authentication.methods.clone(),
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
        // No token outlives this server's own lifetime, whatever lifetime it
        // was issued under: a revoked session is remembered only that long
        // (`revocation`), so a token signed before a restart that shortened
        // `ACCESS_TOKEN_TTL_SECS` would otherwise outlive its revocation.
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        if data.claims.iat.saturating_add(ttl) < crate::clock::unix_now() {
            return Err(Rejection::Expired);
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
        let token = tokens
            .issue(
                user(),
                session(),
                Role::Admin,
                &Authentication::password(now - 5),
                now,
            )
            .unwrap();
        let claims = tokens.verify(&token).unwrap();
        assert_eq!(claims.sub, user());
        assert_eq!(claims.sid, session());
        assert_eq!(claims.role, Role::Admin);
        assert_eq!(claims.exp - claims.iat, 900);
        assert_eq!(claims.auth_time, now - 5);
        assert_eq!(claims.amr, [Amr::Pwd]);
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.alg, Algorithm::HS256);
    }

    #[test]
    fn expiry_is_told_apart_from_forgery() {
        let tokens = tokens();
        let stale = tokens
            .issue(
                user(),
                session(),
                Role::User,
                &Authentication::password(0),
                now() - 901,
            )
            .unwrap();
        assert_eq!(tokens.verify(&stale), Err(Rejection::Expired));

        let other = AccessTokens::new(
            b"another-secret-that-is-long-enough-too",
            "https://issuer.example".into(),
            "https://issuer.example/api".into(),
            Duration::from_secs(900),
        );
        let forged = other
            .issue(
                user(),
                session(),
                Role::User,
                &Authentication::password(0),
                now(),
            )
            .unwrap();
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
            let token = other
                .issue(
                    user(),
                    session(),
                    Role::User,
                    &Authentication::password(0),
                    now(),
                )
                .unwrap();
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
            auth_time: now(),
            amr: vec![Amr::Pwd],
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
        let token = tokens
            .issue(
                user(),
                session(),
                Role::User,
                &Authentication::password(0),
                now(),
            )
            .unwrap();
        for bad in ["", "abc", "a.b.c", &token[..token.len() - 5]] {
            assert_eq!(tokens.verify(bad), Err(Rejection::Invalid), "{bad}");
        }
    }
}

#[cfg(test)]
mod authentication_tests {
    use super::*;

    #[test]
    fn methods_are_stored_and_read_back_in_rfc_8176_words() {
        let both = Authentication {
            at: 7,
            methods: vec![Amr::Pwd, Amr::Otp],
        };
        assert_eq!(both.stored_methods(), "pwd,otp");
        assert_eq!(Authentication::from_stored(7, "pwd,otp"), both);
        assert_eq!(
            Authentication::from_stored(7, "pwd,nonsense").methods,
            [Amr::Pwd]
        );
        assert_eq!(
            serde_json::to_string(&[Amr::Hwk, Amr::User]).unwrap(),
            r#"["hwk","user"]"#
        );
    }
}
