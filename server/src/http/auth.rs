//! Sign-in, refresh token rotation with reuse detection, logout, and
//! re-authentication before sensitive actions.
//!
//! Sign-up lives in `signup.rs`; both sign in through [`open_session`].

use std::net::IpAddr;

use app::{
    api::{
        endpoints::{Endpoint, Login, Logout, LogoutAll, Reauthenticate, Refresh},
        types::{LoginResponse, TokenResponse},
        values::Email,
        FieldError, ProblemCode,
    },
    validation::validate_login,
};
use axum::{extract::State, http::HeaderMap};
use axum_extra::extract::CookieJar;

use super::{
    cookies,
    extract::{ensure_allowed_origin, AuthUser, ClientIp, Device},
    factors,
    route::{ApiRouter, Payload, Reply},
    second_step,
    sign_in::{
        account_disabled, count_sign_in, invalid_credentials, open_session, signed_in,
        token_response,
    },
    ApiContext,
};
use crate::{
    auth::{
        factors::{earliest, FactorError},
        jwt::Authentication,
        sessions::{CookieLife, Refused},
    },
    clock::unix_now,
    error::ApiError,
    limits::Policy,
    lockout::Key,
    metrics::SignInOutcome,
    store::{sessions::EndReason, users},
};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<Login, _, _>(login)
        .route::<Reauthenticate, _, _>(reauthenticate)
        .route::<Refresh, _, _>(refresh)
        .route::<Logout, _, _>(logout)
        .route::<LogoutAll, _, _>(logout_all)
}

async fn login(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    device: Device,
    jar: CookieJar,
    Payload(request): Payload<Login>,
) -> Result<Reply<Login>, ApiError> {
    let answer = check_password(&context, ip, device, jar, request).await;
    count_sign_in(&context, &answer, |body| match body {
        LoginResponse::SignedIn(_) => SignInOutcome::Success,
        LoginResponse::SecondFactor(_) => SignInOutcome::SecondFactor,
    });
    answer
}

/// A sign-up that is not confirmed is no account: its address signs in
/// exactly like an unknown one.
async fn check_password(
    context: &ApiContext,
    ip: IpAddr,
    device: Device,
    jar: CookieJar,
    request: <Login as Endpoint>::Request,
) -> Result<Reply<Login>, ApiError> {
    let (email, password) = validate_login(&request).map_err(ApiError::Validation)?;
    // The browser's device cookie, if it signed in to this address before,
    // counts its failures apart from everyone else's, and its tries too:
    // others spending the address's share of tries (or locking it) leave
    // the owner's browser its own.
    let key = context.lockout.key(&email, cookies::device_cookie(&jar));
    context
        .limits
        .check(Policy::Login, ip, Some(key.as_str()))
        .await?;
    let now = unix_now();
    // Both questions on one connection: each one given back to the pool
    // costs a trip to its thread.
    let mut connection = context.db.pool().acquire().await?;
    // Counted as a failure before the password is checked (see lockout.rs).
    let attempt = context.lockout.begin(&mut connection, key, now).await?;
    // An address that cannot exist matches no account, and costs the same.
    let user = match Email::parse(&email) {
        Ok(email) => users::find_by_email(&mut *connection, &email).await?,
        Err(_) => None,
    };
    // Not held while the password is checked.
    drop(connection);
    let user = user.filter(|user| user.is_verified());
    let stored_hash = user.as_ref().map(|user| user.password_hash.clone());
    let password_matches = context
        .lockout
        .unless_refused(
            &attempt,
            context.passwords.verify(password, stored_hash).await,
        )
        .await?;
    let user = match user {
        Some(user) if password_matches => user,
        user => {
            // Queued, not written here: a failure costs the same whether or
            // not the address has an account.
            context.security_log.sign_in_failed(
                user.as_ref().map(|user| user.id),
                &device,
                attempt.failure,
                now,
            );
            return Err(invalid_credentials());
        }
    };
    // With a second factor on, the try stays counted until the second
    // factor is given: a known password does not buy unlimited code guesses.
    let second_factor = context.factors.has_second_factor(user.id).await?;
    if !second_factor {
        context.lockout.succeeded(&attempt).await?;
    }
    // Only after the right password: a wrong one says nothing about the
    // account's state.
    if user.is_disabled() {
        return Err(account_disabled());
    }
    if second_factor {
        let challenge =
            second_step::second_factor_challenge(context, &user, request.remember, now).await?;
        return Ok(Reply::new(LoginResponse::SecondFactor(challenge)).with_also_status());
    }

    // Logs the sign-in too.
    let (user, opened) = open_session(context, user, &device, request.remember, now).await?;
    let (body, jar) = signed_in(context, jar, &user, opened, now)?;
    Ok(Reply::new(LoginResponse::SignedIn(body)).with_cookies(jar))
}

/// Proves again, with the password, who the user of a signed-in session
/// is: the session's proof moves to now, and a new access token carries
/// it (`auth_time`). Counted like a sign-in (the address's rate limit, and
/// a lockout of the session's own, so that failures made elsewhere do not
/// block it), so a stolen access token is no way to guess the password.
async fn reauthenticate(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    device: Device,
    caller: AuthUser,
    Payload(request): Payload<Reauthenticate>,
) -> Result<Reply<Reauthenticate>, ApiError> {
    let user = users::find_by_id(context.db.pool(), caller.user_id)
        .await?
        .ok_or_else(|| {
            ApiError::bad_token(ProblemCode::InvalidToken, "This account no longer exists.")
        })?;
    // Tries counted per session, like its lockout: tries at the address
    // made elsewhere (anyone can make them) do not block the owner's
    // step-up.
    let key = Key::session(caller.session_id);
    context
        .limits
        .check(Policy::Login, ip, Some(key.as_str()))
        .await?;
    if request.password.is_empty() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "password",
            "Enter your password.",
        )]));
    }
    let now = unix_now();
    let mut connection = context.db.pool().acquire().await?;
    let attempt = context.lockout.begin(&mut connection, key, now).await?;
    drop(connection);
    let checked = context
        .passwords
        .verify(request.password, Some(user.password_hash.clone()))
        .await;
    let matches = context.lockout.unless_refused(&attempt, checked).await?;
    if !matches {
        context
            .security_log
            .sign_in_failed(Some(user.id), &device, attempt.failure, now);
        return Err(ApiError::Validation(vec![FieldError::new(
            "password",
            "That is not your password.",
        )]));
    }
    // With a second factor on, the password alone does not step up.
    let mut authentication = Authentication::password(now);
    let mut footing = user.password_footing;
    if context.factors.has_second_factor(user.id).await? {
        let Some(code) = request
            .code
            .as_deref()
            .filter(|code| !code.trim().is_empty())
        else {
            return Err(ApiError::Validation(vec![FieldError::new(
                "code",
                "Enter the code from your authenticator app, or a recovery code.",
            )]));
        };
        let method = context
            .factors
            .verify(&user, second_step::second_proof(code), &device, now)
            .await;
        match method {
            Ok(proved) => {
                authentication.methods.push(proved.method);
                footing = earliest(footing, proved.footing);
            }
            Err(FactorError::WrongCode) => {
                context
                    .security_log
                    .sign_in_failed(Some(user.id), &device, attempt.failure, now);
                return Err(factors::refused(FactorError::WrongCode));
            }
            Err(error) => return Err(factors::refused(error)),
        }
    }
    context.lockout.succeeded(&attempt).await?;
    let recorded = context
        .sessions
        .reauthenticated(user.id, caller.session_id, &authentication, footing, now)
        .await?;
    if !recorded {
        return Err(ApiError::bad_token(
            ProblemCode::InvalidToken,
            "This session has been signed out.",
        ));
    }
    let body = token_response(&context, &user, caller.session_id, &authentication, now)?;
    Ok(Reply::new(body))
}

/// Exchanges the refresh cookie for a new access token and, normally, a new
/// refresh cookie.
async fn refresh(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Reply<Refresh>, (CookieJar, ApiError)> {
    ensure_allowed_origin(&headers, &context.settings).map_err(|error| (jar.clone(), error))?;
    context
        .limits
        .check(Policy::Refresh, ip, None)
        .await
        .map_err(|error| (jar.clone(), error))?;
    match rotate_refresh_token(&context, &jar).await {
        Ok((body, Some((token, remaining)))) => Ok(Reply::new(body).with_cookies(
            cookies::with_refresh_token(&context.settings, jar, token, remaining),
        )),
        Ok((body, None)) => Ok(Reply::new(body)),
        // A refused cookie is useless to the browser: clear it.
        Err(error) if error.status() == axum::http::StatusCode::UNAUTHORIZED => Err((
            cookies::without_refresh_token(&context.settings, jar),
            error,
        )),
        Err(error) => Err((jar, error)),
    }
}

/// The new access token, and the new refresh token with the session's
/// remaining lifetime when this request rotated it.
async fn rotate_refresh_token(
    context: &ApiContext,
    jar: &CookieJar,
) -> Result<(TokenResponse, Option<(String, CookieLife)>), ApiError> {
    let invalid = || {
        ApiError::new(
            ProblemCode::InvalidRefreshToken,
            "The session is missing, expired or signed out. Sign in again.",
        )
    };
    let presented = cookies::refresh_token(&context.settings, jar).ok_or_else(invalid)?;
    let now = unix_now();
    let renewed = match context.sessions.renew(&presented, now).await {
        Ok(renewed) => renewed,
        Err(Refused::Invalid) => return Err(invalid()),
        Err(Refused::Reused { .. }) => {
            return Err(ApiError::new(
                ProblemCode::RefreshTokenReused,
                "This session was signed out because its refresh token was used twice. \
                 Sign in again.",
            ))
        }
        Err(Refused::Database(error)) => return Err(error.into()),
    };
    let user = users::find_by_id(context.db.pool(), renewed.user_id)
        .await?
        .ok_or_else(invalid)?;
    let body = token_response(
        context,
        &user,
        renewed.session_id,
        &renewed.authentication,
        now,
    )?;
    Ok((body, renewed.successor))
}

async fn logout(
    State(context): State<ApiContext>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Reply<Logout>, ApiError> {
    ensure_allowed_origin(&headers, &context.settings)?;
    if let Some(token) = cookies::refresh_token(&context.settings, &jar) {
        context
            .sessions
            .end_by_refresh_token(&token, EndReason::Logout, unix_now())
            .await?;
    }
    Ok(Reply::empty().with_cookies(cookies::without_refresh_token(&context.settings, jar)))
}

async fn logout_all(
    State(context): State<ApiContext>,
    jar: CookieJar,
    caller: AuthUser,
) -> Result<Reply<LogoutAll>, ApiError> {
    let revoked = context
        .sessions
        .end_all(caller.user_id, EndReason::LogoutAll, unix_now())
        .await?;
    tracing::info!(
        user_id = %caller.user_id,
        sessions = revoked.len(),
        "signed out everywhere"
    );
    Ok(Reply::empty().with_cookies(cookies::without_refresh_token(&context.settings, jar)))
}
