//! Second factors: the signed-in user's authenticator app (start, confirm
//! with a first code, turn off), its recovery codes, and what is on; and
//! the second step of a sign-in that needs one. Every change is a sensitive
//! action (the step-up extractor) and is carried out by the factor service
//! (`auth::factors`), which also ends the other sessions, records the
//! activity and mails the owner.

use std::net::IpAddr;

use app::api::{
    endpoints::{
        ConfirmTotp, DisableTotp, LoginSecondFactor, MySecondFactor, RemoveUserTotp,
        ReplaceRecoveryCodes, StartTotp,
    },
    passkeys::PublicKeyCredential,
    types::{RecoveryCodes, SecondFactorChallenge, SecondFactorMethod, TokenResponse},
    values::UserId,
    FieldError, ProblemCode,
};
use axum::extract::State;
use axum_extra::extract::CookieJar;

use super::{
    cookies,
    extract::{AuthUser, ClientIp, Device, PathId, RecentAdmin, RecentUser},
    route::{ApiRouter, Payload, Reply},
    sign_in::{account_disabled, count_sign_in, invalid_credentials, signed_in},
    ApiContext,
};
use crate::{
    auth::{
        factors::{Ceremony, FactorError, Proof},
        jwt::{Amr, Authentication},
        tokens,
    },
    clock::unix_now,
    error::ApiError,
    limits::Policy,
    metrics::SignInOutcome,
    security_log::{self, EventKind},
    store::{
        login_challenges,
        users::{self, UserRow},
    },
};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<MySecondFactor, _, _>(status)
        .route::<StartTotp, _, _>(start_totp)
        .route::<ConfirmTotp, _, _>(confirm_totp)
        .route::<DisableTotp, _, _>(disable_totp)
        .route::<ReplaceRecoveryCodes, _, _>(replace_recovery_codes)
        .route::<LoginSecondFactor, _, _>(login_second_factor)
        .route::<RemoveUserTotp, _, _>(remove_user_totp)
}

/// An admin turns off someone's authenticator app (they lost it): a
/// sensitive action, recorded in the admin's activity too.
async fn remove_user_totp(
    State(context): State<ApiContext>,
    RecentAdmin(caller): RecentAdmin,
    device: Device,
    PathId(id): PathId<UserId>,
) -> Result<Reply<RemoveUserTotp>, ApiError> {
    let user = users::find_by_id(context.db.pool(), id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let now = unix_now();
    context
        .factors
        .disable_totp(&user, None, &device, now)
        .await
        .map_err(refused)?;
    let detail = format!("turned off the authenticator app of {}", user.email);
    security_log::record_in(
        context.db.pool(),
        caller.user_id,
        EventKind::TotpDisabled,
        Some(&device),
        Some(&detail),
        now,
    )
    .await?;
    tracing::info!(admin = %caller.user_id, user_id = %id, "an admin turned off an authenticator app");
    Ok(Reply::empty())
}

async fn status(
    State(context): State<ApiContext>,
    caller: AuthUser,
) -> Result<Reply<MySecondFactor>, ApiError> {
    Ok(Reply::new(context.factors.status(caller.user_id).await?))
}

async fn start_totp(
    State(context): State<ApiContext>,
    RecentUser(caller): RecentUser,
) -> Result<Reply<StartTotp>, ApiError> {
    let user = account(&context, &caller).await?;
    let enrollment = context
        .factors
        .start_totp(&user, unix_now())
        .await
        .map_err(refused)?;
    Ok(Reply::new(enrollment))
}

async fn confirm_totp(
    State(context): State<ApiContext>,
    RecentUser(caller): RecentUser,
    device: Device,
    Payload(request): Payload<ConfirmTotp>,
) -> Result<Reply<ConfirmTotp>, ApiError> {
    let user = account(&context, &caller).await?;
    let codes = context
        .factors
        .confirm_totp(&user, caller.session_id, &request.code, &device, unix_now())
        .await
        .map_err(refused)?;
    Ok(Reply::new(RecoveryCodes { codes }))
}

async fn disable_totp(
    State(context): State<ApiContext>,
    RecentUser(caller): RecentUser,
    device: Device,
) -> Result<Reply<DisableTotp>, ApiError> {
    let user = account(&context, &caller).await?;
    context
        .factors
        .disable_totp(&user, Some(caller.session_id), &device, unix_now())
        .await
        .map_err(refused)?;
    Ok(Reply::empty())
}

async fn replace_recovery_codes(
    State(context): State<ApiContext>,
    RecentUser(caller): RecentUser,
    device: Device,
) -> Result<Reply<ReplaceRecoveryCodes>, ApiError> {
    let user = account(&context, &caller).await?;
    let codes = context
        .factors
        .replace_recovery_codes(&user, caller.session_id, &device, unix_now())
        .await
        .map_err(refused)?;
    Ok(Reply::new(RecoveryCodes { codes }))
}

pub(super) async fn account(context: &ApiContext, caller: &AuthUser) -> Result<UserRow, ApiError> {
    users::find_by_id(context.db.pool(), caller.user_id)
        .await?
        .ok_or_else(|| {
            ApiError::bad_token(ProblemCode::InvalidToken, "This account no longer exists.")
        })
}

/// How a refusal of the factor service reads.
pub(super) fn refused(error: FactorError) -> ApiError {
    match error {
        FactorError::AlreadyOn => ApiError::new(
            ProblemCode::SecondFactorEnabled,
            "An authenticator app is already on. Turn it off first to set up another.",
        ),
        FactorError::NotOn => ApiError::new(
            ProblemCode::SecondFactorNotEnabled,
            "There is no authenticator app to do this with. Set one up first.",
        ),
        FactorError::WrongCode => ApiError::Validation(vec![FieldError::new(
            "code",
            "That code is not right, or was used already. Enter the code your app shows now.",
        )]),
        FactorError::Unavailable => {
            ApiError::unavailable("Authenticator apps are not available on this server right now.")
        }
        FactorError::Corrupt => {
            ApiError::Internal(anyhow::anyhow!("a stored second factor does not decrypt"))
        }
        FactorError::PasskeysUnavailable => {
            ApiError::unavailable("Passkeys are not available on this server.")
        }
        FactorError::ChallengeInvalid => ApiError::new(
            ProblemCode::InvalidChallenge,
            "This passkey request has expired or was already answered. Start again.",
        ),
        FactorError::PasskeyRejected(error) => ApiError::new(
            ProblemCode::PasskeyRejected,
            format!("The passkey's answer could not be verified ({error})."),
        ),
        FactorError::UnknownPasskey => ApiError::new(
            ProblemCode::UnknownPasskey,
            "No account has this passkey: it was never added, or was removed.",
        ),
        FactorError::PasskeyOfAnotherAccount => ApiError::new(
            ProblemCode::PasskeyOfAnotherAccount,
            "This passkey belongs to another account. Use one of this account's passkeys.",
        ),
        FactorError::CounterRegressed => ApiError::new(
            ProblemCode::PasskeyCounterRegressed,
            "This passkey was refused: its signature counter went backwards, which is what a \
             copied passkey does. If you did not copy it, remove it and add it again.",
        ),
        FactorError::PasskeyExists => {
            ApiError::new(ProblemCode::PasskeyExists, "This passkey is already added.")
        }
        FactorError::NotFound => ApiError::not_found(),
        FactorError::Database(error) => error.into(),
    }
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
    if !context.factors.passkeys(user.id).await?.is_empty() {
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
    let answer = match (request.code.as_deref(), request.recovery_code.as_deref()) {
        (Some(code), None) if !code.trim().is_empty() => {
            finish_second_factor(
                &context,
                ip,
                device,
                jar,
                &request.challenge,
                SecondProof::Code(Proof::Code(code)),
            )
            .await
        }
        (None, Some(code)) if !code.trim().is_empty() => {
            finish_second_factor(
                &context,
                ip,
                device,
                jar,
                &request.challenge,
                SecondProof::Code(Proof::RecoveryCode(code)),
            )
            .await
        }
        _ => Err(ApiError::Validation(vec![FieldError::new(
            "code",
            "Enter the code from your authenticator app, or one recovery code.",
        )])),
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
    match proof {
        SecondProof::Code(proof) => {
            match context.factors.verify(&user, proof, &device, now).await {
                Ok(method) => methods.push(method),
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
