//! The second step of a sign-in whose password was right, for an account
//! with a second factor: the challenge the first step answers, and its
//! finish by a code, a recovery code or (in `passkeys`) a passkey. The
//! factor service (`auth::factors`) checks the proof.

use std::net::IpAddr;

use app::api::{
    endpoints::LoginSecondFactor,
    passkeys::PublicKeyCredential,
    types::{SecondFactorChallenge, SecondFactorMethod, TokenResponse},
    FieldError, ProblemCode,
};
use axum::extract::State;
use axum_extra::extract::CookieJar;

use super::{
    cookies,
    extract::{ClientIp, Device},
    factors::refused,
    route::{ApiRouter, Payload, Reply},
    sign_in::{account_disabled, count_sign_in, invalid_credentials, signed_in},
    ApiContext,
};
use crate::{
    auth::{
        factors::{earliest, Ceremony, FactorError, Proof},
        jwt::{Amr, Authentication},
        tokens,
    },
    clock::unix_now,
    error::ApiError,
    limits::Policy,
    metrics::SignInOutcome,
    store::{
        login_challenges,
        users::{self, UserRow},
    },
};

pub fn router() -> ApiRouter {
    ApiRouter::new().route::<LoginSecondFactor, _, _>(login_second_factor)
}

/// A second-factor challenge lives this long…
pub(super) const CHALLENGE_TTL_SECS: i64 = 5 * 60;
/// …and takes this many codes.
pub(super) const CHALLENGE_TRIES: i64 = 5;

/// A challenge for a sign-in whose password was right: random, stored
/// hashed with the credential epoch the password was checked under.
pub(super) async fn second_factor_challenge(
    context: &ApiContext,
    user: &UserRow,
    remember: bool,
    now: i64,
) -> Result<SecondFactorChallenge, ApiError> {
    let challenge = tokens::generate();
    login_challenges::insert(
        context.db.pool(),
        &tokens::hash(&challenge),
        user.id,
        user.credential_epoch,
        remember,
        now,
        now + CHALLENGE_TTL_SECS,
    )
    .await?;
    let mut methods = vec![SecondFactorMethod::Totp];
    if context.factors.status(user.id).await?.recovery_codes_left > 0 {
        methods.push(SecondFactorMethod::RecoveryCode);
    }
    if context.factors.has_passkey(user.id).await? {
        methods.push(SecondFactorMethod::Passkey);
    }
    Ok(SecondFactorChallenge {
        challenge,
        methods,
        expires_in: CHALLENGE_TTL_SECS as u64,
    })
}

/// The second step of a sign-in. The challenge takes five codes, each
/// counted before it is checked, and the codes count toward the account's
/// lockout too; the session opens only under the credential epoch the
/// password was checked under (a reset in between ends the challenge).
async fn login_second_factor(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    device: Device,
    jar: CookieJar,
    Payload(request): Payload<LoginSecondFactor>,
) -> Result<Reply<LoginSecondFactor>, ApiError> {
    let proof = match (request.code.as_deref(), request.recovery_code.as_deref()) {
        (Some(code), None) if !code.trim().is_empty() => Ok(Proof::Code(code)),
        (None, Some(code)) if !code.trim().is_empty() => Ok(Proof::RecoveryCode(code)),
        _ => Err(ApiError::Validation(vec![FieldError::new(
            "code",
            "Enter the code from your authenticator app, or one recovery code.",
        )])),
    };
    let answer = match proof {
        Ok(proof) => {
            finish_second_factor(
                &context,
                ip,
                device,
                jar,
                &request.challenge,
                SecondProof::Code(proof),
            )
            .await
        }
        Err(error) => Err(error),
    };
    let answer = answer.map(|(body, jar)| Reply::new(body).with_cookies(jar));
    count_sign_in(&context, &answer, |_| SignInOutcome::Success);
    answer
}

/// What finishes a sign-in whose password was right.
pub(super) enum SecondProof<'a> {
    Code(Proof<'a>),
    Passkey(&'a PublicKeyCredential),
}

/// The second step of a sign-in, by code or by passkey. The challenge
/// takes five proofs, each counted before it is checked, and they count
/// toward the account's lockout too; the session opens only under the
/// credential epoch the password was checked under (a reset in between
/// ends the challenge).
pub(super) async fn finish_second_factor(
    context: &ApiContext,
    ip: IpAddr,
    device: Device,
    jar: CookieJar,
    challenge_token: &str,
    proof: SecondProof<'_>,
) -> Result<(TokenResponse, CookieJar), ApiError> {
    context.limits.check(Policy::Login, ip, None).await?;
    let challenge_hash = tokens::presented_hash(challenge_token).ok_or_else(invalid_challenge)?;
    let now = unix_now();
    let challenge =
        login_challenges::count_try(context.db.pool(), &challenge_hash, now, CHALLENGE_TRIES)
            .await?
            .ok_or_else(invalid_challenge)?;
    let user = users::find_by_id(context.db.pool(), challenge.user_id)
        .await?
        .ok_or_else(invalid_challenge)?;
    let key = context
        .lockout
        .key(user.email.as_str(), cookies::device_cookie(&jar));
    let mut connection = context.db.pool().acquire().await?;
    let attempt = context.lockout.begin(&mut connection, key, now).await?;
    drop(connection);
    let mut methods = vec![Amr::Pwd];
    // The password checked at the first step, as the challenge's epoch
    // still holds it, and the second proof's factor.
    let mut footing = user.password_footing;
    match proof {
        SecondProof::Code(proof) => {
            match context.factors.verify(&user, proof, &device, now).await {
                Ok(proved) => {
                    methods.push(proved.method);
                    footing = earliest(footing, proved.footing);
                }
                Err(FactorError::WrongCode) => {
                    // A validation error to the client: counted here, by name.
                    context.metrics.sign_in(SignInOutcome::WrongCode);
                    context.security_log.sign_in_failed(
                        Some(user.id),
                        &device,
                        attempt.failure,
                        now,
                    );
                    let left = CHALLENGE_TRIES - challenge.tries;
                    let message = match left {
                        0 => "That code is not right. Sign in again to get more tries.".to_owned(),
                        1 => {
                            "That code is not right, or was used already. One try left.".to_owned()
                        }
                        left => {
                            format!(
                                "That code is not right, or was used already. {left} tries left."
                            )
                        }
                    };
                    let field = match proof {
                        Proof::Code(_) => "code",
                        Proof::RecoveryCode(_) => "recovery_code",
                    };
                    return Err(ApiError::Validation(vec![FieldError::new(field, &message)]));
                }
                Err(error) => return Err(refused(error)),
            }
        }
        SecondProof::Passkey(credential) => {
            let ceremony = Ceremony::SecondFactor {
                login_challenge: challenge_token,
                user_id: user.id,
            };
            let proof = context
                .factors
                .verify_passkey(ceremony, challenge_token, credential, &device, now)
                .await
                .map_err(refused)?;
            methods.extend(proof.methods);
            footing = earliest(footing, Some(proof.footing));
        }
    }
    if !login_challenges::take(context.db.pool(), &challenge_hash).await? {
        return Err(invalid_challenge());
    }
    context.lockout.succeeded(&attempt).await?;
    if user.is_disabled() {
        return Err(account_disabled());
    }
    let authentication = Authentication { at: now, methods };
    let opened = context
        .sessions
        .open(
            user.id,
            challenge.credential_epoch,
            authentication,
            footing,
            &device,
            challenge.remember != 0,
            now,
        )
        .await?
        .ok_or_else(invalid_credentials)?;
    let (body, jar) = signed_in(context, jar, &user, opened, now)?;
    Ok((body, jar))
}

pub(super) fn invalid_challenge() -> ApiError {
    ApiError::new(
        ProblemCode::InvalidChallenge,
        "This sign-in has expired or was already finished. Sign in again.",
    )
}

/// A code as typed: six digits are the authenticator app's, anything else
/// a recovery code.
pub(super) fn second_proof(code: &str) -> Proof<'_> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        Proof::Code(code)
    } else {
        Proof::RecoveryCode(code)
    }
}
