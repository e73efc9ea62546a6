//! Passkeys: the signed-in account's list (add, rename, remove), a sign-in
//! with a passkey and no email typed, a passkey as the second step of a
//! password sign-in, and a passkey to prove again who the signed-in user
//! is. The factor service (`auth::factors`, its `passkeys` module) keeps
//! the ceremonies, checks the answers and lists what an attacker may try;
//! these handlers read the request, call it and shape the answer.

use app::api::{
    endpoints::{
        AddPasskey, LoginSecondFactorPasskey, MyPasskeys, PasskeyCreationOptions, PasskeyLogin,
        PasskeyLoginOptions, ReauthenticateWithPasskey, ReauthenticationPasskeyOptions,
        RemovePasskey, RenamePasskey, SecondFactorPasskeyOptions,
    },
    passkeys::{passkey_name, Passkey, PasskeyCreation, PasskeyList, PASSKEY_NAME_MAX},
    values::PasskeyId,
    FieldError, ProblemCode,
};
use axum::extract::State;
use axum_extra::extract::CookieJar;

use super::{
    extract::{AuthUser, ClientIp, Device, PathId, RecentUser},
    factors::{account, refused},
    route::{ApiRouter, Payload, Reply},
    second_step::{finish_second_factor, invalid_challenge, SecondProof, CHALLENGE_TRIES},
    sign_in::{account_disabled, count_sign_in, invalid_credentials, signed_in, token_response},
    ApiContext,
};
use crate::{
    auth::{
        factors::{Ceremony, FactorError},
        jwt::Authentication,
        tokens,
    },
    clock::{rfc3339, unix_now},
    error::ApiError,
    limits::Policy,
    metrics::SignInOutcome,
    store::{login_challenges, passkeys::PasskeyRow},
};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<PasskeyCreationOptions, _, _>(creation_options)
        .route::<AddPasskey, _, _>(add)
        .route::<MyPasskeys, _, _>(list)
        .route::<RenamePasskey, _, _>(rename)
        .route::<RemovePasskey, _, _>(remove)
        .route::<PasskeyLoginOptions, _, _>(login_options)
        .route::<PasskeyLogin, _, _>(login)
        .route::<SecondFactorPasskeyOptions, _, _>(second_factor_options)
        .route::<LoginSecondFactorPasskey, _, _>(login_second_factor)
        .route::<ReauthenticationPasskeyOptions, _, _>(reauthentication_options)
        .route::<ReauthenticateWithPasskey, _, _>(reauthenticate)
}

fn view(row: &PasskeyRow) -> Passkey {
    Passkey {
        id: row.id,
        name: row.name.clone(),
        created_at: rfc3339(row.created_at),
        last_used_at: row.last_used_at.map(rfc3339),
        backed_up: row.backed_up != 0,
    }
}

/// A refusal of the factor service, where it is about passkeys.
fn passkey_refused(error: FactorError) -> ApiError {
    match error {
        FactorError::NotOn => ApiError::new(
            ProblemCode::SecondFactorNotEnabled,
            "This account has no passkey. Use its other ways of signing in.",
        ),
        error => refused(error),
    }
}

fn name(typed: &str) -> Result<String, ApiError> {
    passkey_name(typed).ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            "name",
            format!(
                "Give the passkey a name of 1 to {PASSKEY_NAME_MAX} characters, such as the \
                 device it is on."
            ),
        )])
    })
}

fn malformed(why: &str) -> ApiError {
    ApiError::new(
        ProblemCode::MalformedCredential,
        format!("The credential is not what a browser's passkey answers: {why}."),
    )
}

async fn creation_options(
    State(context): State<ApiContext>,
    RecentUser(caller): RecentUser,
) -> Result<Reply<PasskeyCreationOptions>, ApiError> {
    let user = account(&context, &caller).await?;
    let options = context
        .factors
        .passkey_creation(&user, unix_now())
        .await
        .map_err(passkey_refused)?;
    Ok(Reply::new(PasskeyCreation { options }))
}

/// Not a step-up of its own: the options it answers were (five minutes
/// ago at most), and bind the ceremony to this account.
async fn add(
    State(context): State<ApiContext>,
    caller: AuthUser,
    device: Device,
    Payload(request): Payload<AddPasskey>,
) -> Result<Reply<AddPasskey>, ApiError> {
    let name = name(&request.name)?;
    let credential = request.credential.parsed().map_err(malformed)?;
    let user = account(&context, &caller).await?;
    let row = context
        .factors
        .add_passkey(
            &user,
            caller.session_id,
            &name,
            credential,
            &device,
            unix_now(),
        )
        .await
        .map_err(passkey_refused)?;
    Ok(Reply::new(view(&row)))
}

async fn list(
    State(context): State<ApiContext>,
    caller: AuthUser,
) -> Result<Reply<MyPasskeys>, ApiError> {
    let rows = context.factors.passkeys(caller.user_id).await?;
    Ok(Reply::new(PasskeyList {
        passkeys: rows.iter().map(view).collect(),
    }))
}

async fn rename(
    State(context): State<ApiContext>,
    caller: AuthUser,
    PathId(id): PathId<PasskeyId>,
    Payload(request): Payload<RenamePasskey>,
) -> Result<Reply<RenamePasskey>, ApiError> {
    let name = name(&request.name)?;
    let row = context
        .factors
        .rename_passkey(caller.user_id, id, &name)
        .await
        .map_err(passkey_refused)?;
    Ok(Reply::new(view(&row)))
}

async fn remove(
    State(context): State<ApiContext>,
    RecentUser(caller): RecentUser,
    device: Device,
    PathId(id): PathId<PasskeyId>,
) -> Result<Reply<RemovePasskey>, ApiError> {
    let user = account(&context, &caller).await?;
    context
        .factors
        .remove_passkey(&user, caller.session_id, id, &device, unix_now())
        .await
        .map_err(passkey_refused)?;
    Ok(Reply::empty())
}

async fn login_options(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
) -> Result<Reply<PasskeyLoginOptions>, ApiError> {
    context.limits.check(Policy::Passkey, ip, None).await?;
    let challenge = context
        .factors
        .passkey_challenge(Ceremony::SignIn, unix_now())
        .await
        .map_err(passkey_refused)?;
    Ok(Reply::new(challenge))
}

/// A sign-in by passkey alone: it proves possession and, verified by the
/// authenticator, the user, so it counts as both factors.
async fn login(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    device: Device,
    jar: CookieJar,
    Payload(request): Payload<PasskeyLogin>,
) -> Result<Reply<PasskeyLogin>, ApiError> {
    let answer = async {
        context.limits.check(Policy::Passkey, ip, None).await?;
        let credential = request.credential.parsed().map_err(malformed)?;
        let now = unix_now();
        let proof = context
            .factors
            .verify_passkey(
                Ceremony::SignIn,
                &request.challenge_id,
                credential,
                &device,
                now,
            )
            .await
            .map_err(passkey_refused)?;
        let user = proof.user;
        if user.is_disabled() {
            return Err(account_disabled());
        }
        let authentication = Authentication {
            at: now,
            methods: proof.methods,
        };
        // Under the epoch read before the use was recorded: a removal of
        // this passkey, or a disable, that landed since wins.
        let opened = context
            .sessions
            .open(
                user.id,
                user.credential_epoch,
                authentication,
                Some(proof.footing),
                &device,
                request.remember,
                now,
            )
            .await?
            .ok_or_else(invalid_credentials)?;
        let (body, jar) = signed_in(&context, jar, &user, opened, now)?;
        Ok(Reply::new(body).with_cookies(jar))
    }
    .await;
    count_sign_in(&context, &answer, |_| SignInOutcome::Success);
    answer
}

async fn second_factor_options(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    Payload(request): Payload<SecondFactorPasskeyOptions>,
) -> Result<Reply<SecondFactorPasskeyOptions>, ApiError> {
    context.limits.check(Policy::Passkey, ip, None).await?;
    let hash = tokens::presented_hash(&request.challenge).ok_or_else(invalid_challenge)?;
    let now = unix_now();
    let challenge = login_challenges::find_live(context.db.pool(), &hash, now, CHALLENGE_TRIES)
        .await?
        .ok_or_else(invalid_challenge)?;
    let ceremony = Ceremony::SecondFactor {
        login_challenge: request.challenge.trim(),
        user_id: challenge.user_id,
    };
    let options = context
        .factors
        .passkey_challenge(ceremony, now)
        .await
        .map_err(passkey_refused)?;
    Ok(Reply::new(options))
}

async fn login_second_factor(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    device: Device,
    jar: CookieJar,
    Payload(request): Payload<LoginSecondFactorPasskey>,
) -> Result<Reply<LoginSecondFactorPasskey>, ApiError> {
    let answer = match request.credential.parsed() {
        Ok(credential) => finish_second_factor(
            &context,
            ip,
            device,
            jar,
            request.challenge_id.trim(),
            SecondProof::Passkey(credential),
        )
        .await
        .map(|(body, jar)| Reply::new(body).with_cookies(jar)),
        Err(why) => Err(malformed(why)),
    };
    count_sign_in(&context, &answer, |_| SignInOutcome::Success);
    answer
}

async fn reauthentication_options(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    caller: AuthUser,
) -> Result<Reply<ReauthenticationPasskeyOptions>, ApiError> {
    context.limits.check(Policy::Passkey, ip, None).await?;
    let ceremony = Ceremony::StepUp {
        user_id: caller.user_id,
        session_id: caller.session_id,
    };
    let options = context
        .factors
        .passkey_challenge(ceremony, unix_now())
        .await
        .map_err(passkey_refused)?;
    Ok(Reply::new(options))
}

/// Proves again who the signed-in user is: a passkey verified by its
/// authenticator is both factors, whatever else the account has on.
async fn reauthenticate(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    device: Device,
    caller: AuthUser,
    Payload(request): Payload<ReauthenticateWithPasskey>,
) -> Result<Reply<ReauthenticateWithPasskey>, ApiError> {
    context.limits.check(Policy::Passkey, ip, None).await?;
    let credential = request.credential.parsed().map_err(malformed)?;
    let now = unix_now();
    let ceremony = Ceremony::StepUp {
        user_id: caller.user_id,
        session_id: caller.session_id,
    };
    let proof = context
        .factors
        .verify_passkey(ceremony, &request.challenge_id, credential, &device, now)
        .await
        .map_err(passkey_refused)?;
    let authentication = Authentication {
        at: now,
        methods: proof.methods,
    };
    let recorded = context
        .sessions
        .reauthenticated(
            proof.user.id,
            caller.session_id,
            &authentication,
            Some(proof.footing),
            now,
        )
        .await?;
    if !recorded {
        return Err(ApiError::bad_token(
            ProblemCode::InvalidToken,
            "This session has been signed out.",
        ));
    }
    let body = token_response(
        &context,
        &proof.user,
        caller.session_id,
        &authentication,
        now,
    )?;
    Ok(Reply::new(body))
}
