//! Second factors: the signed-in user's authenticator app (start, confirm
//! with a first code, turn off), its recovery codes, and what is on. The
//! second step of a sign-in that needs one is in `second_step`. Every
//! change is a sensitive action (the step-up extractor) and is carried out
//! by the factor service (`auth::factors`), which also ends the other
//! sessions, records the activity and mails the owner.

use app::api::{
    endpoints::{
        ConfirmTotp, DisableTotp, MySecondFactor, RemoveUserTotp, ReplaceRecoveryCodes, StartTotp,
    },
    types::RecoveryCodes,
    values::UserId,
    FieldError, ProblemCode,
};
use axum::extract::State;

use super::{
    extract::{AuthUser, Device, PathId, RecentAdmin, RecentUser},
    route::{ApiRouter, Payload, Reply},
    ApiContext,
};
use crate::{
    auth::factors::FactorError,
    clock::unix_now,
    error::ApiError,
    security_log::{self, EventKind},
    store::users::{self, UserRow},
};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<MySecondFactor, _, _>(status)
        .route::<StartTotp, _, _>(start_totp)
        .route::<ConfirmTotp, _, _>(confirm_totp)
        .route::<DisableTotp, _, _>(disable_totp)
        .route::<ReplaceRecoveryCodes, _, _>(replace_recovery_codes)
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
