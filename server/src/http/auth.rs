//! Registration, email verification, login, refresh token rotation with
//! reuse detection, and logout.

use app::{
    api::{
        endpoints::{Login, Logout, LogoutAll, Refresh, Register, ResendVerification, VerifyEmail},
        types::{MessageResponse, TokenResponse},
        values::{Email, SessionId, UserId},
        FieldError, ProblemCode,
    },
    routes::Page,
    validation::{validate_login, validate_registration},
};
use axum::{extract::State, http::HeaderMap};
use axum_extra::extract::CookieJar;

use super::{
    cookies,
    extract::{ensure_allowed_origin, AuthUser, ClientIp, Device},
    route::{ApiRouter, Payload, Reply},
    users::user_view,
    ApiContext,
};
use crate::{
    auth::{
        sessions::{CookieLife, Refused},
        tokens,
    },
    clock::unix_now,
    error::ApiError,
    limits::Policy,
    mail::templates,
    store::{
        email_tokens::{self, Purpose},
        is_unique_violation,
        sessions::EndReason,
        users::{self, NewUser, UserRow},
    },
};

const VERIFICATION_TTL_SECS: i64 = 24 * 60 * 60;

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<Register, _, _>(register)
        .route::<VerifyEmail, _, _>(verify_email)
        .route::<ResendVerification, _, _>(resend_verification)
        .route::<Login, _, _>(login)
        .route::<Refresh, _, _>(refresh)
        .route::<Logout, _, _>(logout)
        .route::<LogoutAll, _, _>(logout_all)
}

/// Answers the same whether or not the address already has an account; the
/// owner of an existing account is told by email instead.
async fn register(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    Payload(request): Payload<Register>,
) -> Result<Reply<Register>, ApiError> {
    let registration = validate_registration(&request).map_err(ApiError::Validation)?;
    context
        .limits
        .check(Policy::Register, ip, Some(registration.email.as_str()))?;
    let weakness = context
        .passwords
        .weakness(
            registration.password.clone(),
            vec![
                registration.email.to_string(),
                registration.name.to_string(),
            ],
        )
        .await?;
    if let Some(message) = weakness {
        return Err(ApiError::Validation(vec![FieldError::new(
            "password", message,
        )]));
    }

    // Hashed even when the address is taken, so both cases take as long.
    let password_hash = context.passwords.hash(registration.password).await?;
    let now = unix_now();
    let user_id = UserId::from_uuid(uuid::Uuid::new_v4());
    let token = tokens::generate();

    let mut transaction = context.db.pool().begin().await?;
    let inserted = users::insert(
        &mut *transaction,
        NewUser {
            id: user_id,
            email: &registration.email,
            password_hash: &password_hash,
            name: &registration.name,
        },
        now,
    )
    .await;
    match inserted {
        Ok(()) => {
            email_tokens::insert(
                &mut *transaction,
                &tokens::hash(&token),
                user_id,
                Purpose::VerifyEmail,
                now,
                now + VERIFICATION_TTL_SECS,
            )
            .await?;
            let link = verification_link(&context, &token);
            let letter = templates::verify_email(&registration.email, &registration.name, &link);
            context
                .mailer
                .commit_with(transaction, &letter, now)
                .await?;
        }
        Err(error) if is_unique_violation(&error) => {
            transaction.rollback().await?;
            // A pending (unverified) account is taken over by the newest
            // registration: whoever registered the address first cannot
            // sign in to it once its owner follows the link.
            let mut transaction = context.db.pool().begin().await?;
            let pending = users::replace_unverified(
                &mut *transaction,
                &registration.email,
                &password_hash,
                &registration.name,
                now,
            )
            .await?;
            if let Some(pending_id) = pending {
                email_tokens::replace_live(
                    &mut transaction,
                    &tokens::hash(&token),
                    pending_id,
                    Purpose::VerifyEmail,
                    now,
                    now + VERIFICATION_TTL_SECS,
                )
                .await?;
                let link = verification_link(&context, &token);
                let letter =
                    templates::verify_email(&registration.email, &registration.name, &link);
                context
                    .mailer
                    .commit_with(transaction, &letter, now)
                    .await?;
            } else if let Some(existing) = {
                transaction.rollback().await?;
                users::find_by_email(context.db.pool(), &registration.email).await?
            } {
                let login = context.settings.page_url(Page::Login.path());
                let letter =
                    templates::already_registered(&existing.email, &existing.name, login.as_str());
                context.mailer.send(&letter, now).await?;
            }
        }
        Err(error) => return Err(error.into()),
    }

    Ok(Reply::new(MessageResponse::new(
        "Check your inbox: we sent you a link to confirm your email address.",
    )))
}

async fn verify_email(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    Payload(request): Payload<VerifyEmail>,
) -> Result<Reply<VerifyEmail>, ApiError> {
    context.limits.check(Policy::VerifyEmail, ip, None)?;
    let token_hash = tokens::presented_hash(&request.token).ok_or_else(ApiError::invalid_link)?;
    let now = unix_now();
    let user_id = email_tokens::consume(context.db.pool(), &token_hash, Purpose::VerifyEmail, now)
        .await?
        .ok_or_else(ApiError::invalid_link)?;
    users::mark_verified(context.db.pool(), user_id, now).await?;
    Ok(Reply::new(MessageResponse::new(
        "Your email address is verified. You can sign in now.",
    )))
}

/// Always 202, whatever the address: the answer must not tell whether an
/// account exists or is verified, and a malformed address simply matches
/// no account.
async fn resend_verification(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    Payload(request): Payload<ResendVerification>,
) -> Result<Reply<ResendVerification>, ApiError> {
    context
        .limits
        .check(Policy::ResendVerification, ip, Some(&request.email))?;
    let user = match Email::parse(&request.email) {
        Ok(email) => users::find_by_email(context.db.pool(), &email).await?,
        Err(_) => None,
    };
    if let Some(user) = user.filter(|user| !user.is_verified()) {
        let now = unix_now();
        let token = tokens::generate();
        let mut transaction = context.db.pool().begin().await?;
        email_tokens::insert(
            &mut *transaction,
            &tokens::hash(&token),
            user.id,
            Purpose::VerifyEmail,
            now,
            now + VERIFICATION_TTL_SECS,
        )
        .await?;
        let link = verification_link(&context, &token);
        let letter = templates::verify_email(&user.email, &user.name, &link);
        context
            .mailer
            .commit_with(transaction, &letter, now)
            .await?;
    }
    Ok(Reply::new(MessageResponse::new(
        "If that address has an unverified account, a new link is on its way.",
    )))
}

async fn login(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    device: Device,
    jar: CookieJar,
    Payload(request): Payload<Login>,
) -> Result<Reply<Login>, ApiError> {
    let (email, password) = validate_login(&request).map_err(ApiError::Validation)?;
    context.limits.check(Policy::Login, ip, Some(&email))?;
    let now = unix_now();
    // Both questions on one connection: each one given back to the pool
    // costs a trip to its thread.
    let mut connection = context.db.pool().acquire().await?;
    let on_record = context
        .lockout
        .ensure_unlocked(&mut *connection, &email, now)
        .await?;
    // An address that cannot exist matches no account, and costs the same.
    let user = match Email::parse(&email) {
        Ok(email) => users::find_by_email(&mut *connection, &email).await?,
        Err(_) => None,
    };
    // Not held while the password is checked.
    drop(connection);
    let stored_hash = user.as_ref().map(|user| user.password_hash.clone());
    let password_matches = context.passwords.verify(password, stored_hash).await?;
    let user = match user {
        Some(user) if password_matches => user,
        user => {
            let failure = context.lockout.failed(&email, now).await?;
            context
                .security_log
                .sign_in_failed(user.as_ref().map(|user| user.id), &device, failure, now)
                .await;
            return Err(ApiError::new(
                ProblemCode::InvalidCredentials,
                "The email address or password is incorrect.",
            ));
        }
    };
    context.lockout.cleared(&email, on_record).await?;
    // Only after the right password: a wrong one says nothing about the
    // account's state.
    if user.is_disabled() {
        return Err(ApiError::new(
            ProblemCode::AccountDisabled,
            "This account has been disabled. Contact an administrator.",
        ));
    }
    if !user.is_verified() {
        return Err(ApiError::new(
            ProblemCode::EmailNotVerified,
            "Confirm your email address first: follow the link we sent you, or ask for a new one.",
        ));
    }

    // Logs the sign-in too.
    let opened = context
        .sessions
        .open(user.id, &device, request.remember, now)
        .await?;
    let body = token_response(&context, &user, opened.session_id, now)?;
    let jar = cookies::with_refresh_token(jar, opened.refresh_token, opened.cookie_life);
    Ok(Reply::new(body).with_cookies(jar))
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
        .map_err(|error| (jar.clone(), error))?;
    match rotate_refresh_token(&context, &jar).await {
        Ok((body, Some((token, remaining)))) => {
            Ok(Reply::new(body).with_cookies(cookies::with_refresh_token(jar, token, remaining)))
        }
        Ok((body, None)) => Ok(Reply::new(body)),
        // A refused cookie is useless to the browser: clear it.
        Err(error) if error.status() == axum::http::StatusCode::UNAUTHORIZED => {
            Err((cookies::without_refresh_token(jar), error))
        }
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
    let presented = cookies::refresh_token(jar).ok_or_else(invalid)?;
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
    let body = token_response(context, &user, renewed.session_id, now)?;
    Ok((body, renewed.successor))
}

async fn logout(
    State(context): State<ApiContext>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Reply<Logout>, ApiError> {
    ensure_allowed_origin(&headers, &context.settings)?;
    if let Some(token) = cookies::refresh_token(&jar) {
        context
            .sessions
            .end_by_refresh_token(&token, EndReason::Logout, unix_now())
            .await?;
    }
    Ok(Reply::empty().with_cookies(cookies::without_refresh_token(jar)))
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
    Ok(Reply::empty().with_cookies(cookies::without_refresh_token(jar)))
}

fn token_response(
    context: &ApiContext,
    user: &UserRow,
    session_id: SessionId,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let access_token = context
        .access_tokens
        .issue(user.id, session_id, user.role, now)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: context.access_tokens.ttl().as_secs(),
        user: user_view(user),
    })
}

fn verification_link(context: &ApiContext, token: &str) -> String {
    let mut url = context.settings.page_url(Page::VerifyEmail.path());
    url.query_pairs_mut().append_pair("token", token);
    url.into()
}
