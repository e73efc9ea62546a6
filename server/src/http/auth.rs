//! Registration, email verification, login, refresh token rotation with
//! reuse detection, and logout.

use app::{
    api::{
        paths,
        types::{
            LoginRequest, MessageResponse, RegisterRequest, ResendVerificationRequest,
            TokenResponse, VerifyEmailRequest,
        },
        FieldError,
    },
    validation::{check_email, validate_login, validate_registration},
};
use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use axum_extra::extract::CookieJar;

use super::{
    cookies,
    extract::{ensure_allowed_origin, ApiJson, AuthUser, ClientInfo},
    ApiContext,
};
use crate::{
    auth::tokens,
    clock::unix_now,
    error::ApiError,
    mail::templates,
    store::{
        email_tokens::{self, Purpose},
        is_unique_violation,
        sessions::{self, NewSession},
        users::{self, NewUser, UserRow},
    },
};

const VERIFICATION_TTL_SECS: i64 = 24 * 60 * 60;
const MAX_TOKEN_CHARS: usize = 512;

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route(paths::REGISTER, post(register))
        .route(paths::VERIFY_EMAIL, post(verify_email))
        .route(paths::RESEND_VERIFICATION, post(resend_verification))
        .route(paths::LOGIN, post(login))
        .route(paths::REFRESH, post(refresh))
        .route(paths::LOGOUT, post(logout))
        .route(paths::LOGOUT_ALL, post(logout_all))
}

/// Answers the same whether or not the address already has an account; the
/// owner of an existing account is told by email instead.
async fn register(
    State(context): State<ApiContext>,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<MessageResponse>), ApiError> {
    let registration = validate_registration(&request).map_err(ApiError::Validation)?;
    let weakness = context
        .passwords
        .weakness(
            registration.password.clone(),
            vec![registration.email.clone(), registration.name.clone()],
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
    let user_id = uuid::Uuid::new_v4().to_string();
    let token = tokens::generate();

    let mut transaction = context.db.pool().begin().await?;
    let inserted = users::insert(
        &mut *transaction,
        NewUser {
            id: &user_id,
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
                &user_id,
                Purpose::VerifyEmail,
                now,
                now + VERIFICATION_TTL_SECS,
            )
            .await?;
            transaction.commit().await?;
            let link = verification_link(&context, &token);
            context.mailer.send(templates::verify_email(
                &registration.email,
                &registration.name,
                &link,
            ));
        }
        Err(error) if is_unique_violation(&error) => {
            transaction.rollback().await?;
            if let Some(existing) =
                users::find_by_email(context.db.pool(), &registration.email).await?
            {
                let login = context.settings.page_url(paths::pages::LOGIN);
                context.mailer.send(templates::already_registered(
                    &existing.email,
                    &existing.name,
                    login.as_str(),
                ));
            }
        }
        Err(error) => return Err(error.into()),
    }

    Ok((
        StatusCode::ACCEPTED,
        Json(MessageResponse::new(
            "Check your inbox: we sent you a link to confirm your email address.",
        )),
    ))
}

async fn verify_email(
    State(context): State<ApiContext>,
    ApiJson(request): ApiJson<VerifyEmailRequest>,
) -> Result<Json<MessageResponse>, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "invalid_token",
            "This link is invalid, already used or expired. Ask for a new one.",
        )
    };
    let token = request.token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        return Err(invalid());
    }
    let now = unix_now();
    let user_id = email_tokens::consume(
        context.db.pool(),
        &tokens::hash(token),
        Purpose::VerifyEmail,
        now,
    )
    .await?
    .ok_or_else(invalid)?;
    users::mark_verified(context.db.pool(), &user_id, now).await?;
    Ok(Json(MessageResponse::new(
        "Your email address is verified. You can sign in now.",
    )))
}

/// Always 202, whatever the address: the answer must not tell whether an
/// account exists or is verified, and a malformed address simply matches
/// no account.
async fn resend_verification(
    State(context): State<ApiContext>,
    ApiJson(request): ApiJson<ResendVerificationRequest>,
) -> Result<(StatusCode, Json<MessageResponse>), ApiError> {
    let user = match check_email(&request.email) {
        Ok(email) => users::find_by_email(context.db.pool(), &email).await?,
        Err(_) => None,
    };
    if let Some(user) = user.filter(|user| !user.is_verified()) {
        let now = unix_now();
        let token = tokens::generate();
        email_tokens::insert(
            context.db.pool(),
            &tokens::hash(&token),
            &user.id,
            Purpose::VerifyEmail,
            now,
            now + VERIFICATION_TTL_SECS,
        )
        .await?;
        let link = verification_link(&context, &token);
        context
            .mailer
            .send(templates::verify_email(&user.email, &user.name, &link));
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(MessageResponse::new(
            "If that address has an unverified account, a new link is on its way.",
        )),
    ))
}

async fn login(
    State(context): State<ApiContext>,
    client: ClientInfo,
    jar: CookieJar,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let (email, password) = validate_login(&request).map_err(ApiError::Validation)?;
    let user = users::find_by_email(context.db.pool(), &email).await?;
    let stored_hash = user.as_ref().map(|user| user.password_hash.clone());
    let password_matches = context.passwords.verify(password, stored_hash).await?;
    let user = match user {
        Some(user) if password_matches => user,
        _ => {
            return Err(ApiError::unauthorized(
                "invalid_credentials",
                "The email address or password is incorrect.",
            ))
        }
    };
    if !user.is_verified() {
        return Err(ApiError::forbidden(
            "email_not_verified",
            "Confirm your email address first: follow the link we sent you, or ask for a new one.",
        ));
    }

    let now = unix_now();
    let session_id = uuid::Uuid::new_v4().to_string();
    let refresh_token = tokens::generate();
    let lifetime =
        i64::try_from(context.settings.refresh_token_ttl.as_secs()).unwrap_or(i64::MAX / 4);
    sessions::create(
        context.db.pool(),
        NewSession {
            id: &session_id,
            user_id: &user.id,
            expires_at: now + lifetime,
            user_agent: client.user_agent.as_deref(),
            ip_address: client.ip_address.as_deref(),
        },
        &tokens::hash(&refresh_token),
        now,
    )
    .await?;

    let body = token_response(&context, &user, &session_id, now)?;
    let jar = cookies::with_refresh_token(jar, refresh_token, lifetime);
    Ok(no_store((jar, Json(body))))
}

/// Exchanges the refresh cookie for a new access token and, normally, a new
/// refresh cookie.
async fn refresh(
    State(context): State<ApiContext>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    if let Err(error) = ensure_allowed_origin(&headers, &context.settings) {
        return error.into_response();
    }
    match rotate_refresh_token(&context, &jar).await {
        Ok((body, Some((token, remaining)))) => no_store((
            cookies::with_refresh_token(jar, token, remaining),
            Json(body),
        )),
        Ok((body, None)) => no_store(Json(body)),
        // A refused cookie is useless to the browser: clear it.
        Err(error @ ApiError::Unauthorized { .. }) => {
            no_store((cookies::without_refresh_token(jar), error))
        }
        Err(error) => error.into_response(),
    }
}

/// The new access token, and the new refresh token with the session's
/// remaining lifetime when this request rotated it.
async fn rotate_refresh_token(
    context: &ApiContext,
    jar: &CookieJar,
) -> Result<(TokenResponse, Option<(String, i64)>), ApiError> {
    let invalid = || {
        ApiError::unauthorized(
            "invalid_refresh_token",
            "The session is missing, expired or signed out. Sign in again.",
        )
    };
    let presented = cookies::refresh_token(jar).ok_or_else(invalid)?;
    let presented_hash = tokens::hash(&presented);
    let pool = context.db.pool();
    let record = sessions::find_refresh_token(pool, &presented_hash)
        .await?
        .ok_or_else(invalid)?;
    let now = unix_now();
    if record.revoked_at.is_some() || record.expires_at <= now {
        return Err(invalid());
    }
    let user = users::find_by_id(pool, &record.user_id)
        .await?
        .ok_or_else(invalid)?;

    let grace = i64::try_from(context.settings.refresh_reuse_grace.as_secs()).unwrap_or(0);
    let within_grace = |rotated_at: i64| grace > 0 && now - rotated_at <= grace;

    let successor = match record.rotated_at {
        // Another tab of the same browser rotated it a moment ago and the
        // new cookie is already in the shared jar: answer without rotating.
        Some(rotated_at) if within_grace(rotated_at) => None,
        Some(_) => return Err(reuse_detected(context, &record.session_id, &user.id, now).await),
        None => {
            let fresh = tokens::generate();
            let rotated = sessions::rotate(
                pool,
                &record.session_id,
                &presented_hash,
                &tokens::hash(&fresh),
                now,
            )
            .await?;
            if rotated {
                Some((fresh, record.expires_at - now))
            } else if within_grace(now) {
                // A concurrent request with the same cookie won the rotation.
                None
            } else {
                return Err(reuse_detected(context, &record.session_id, &user.id, now).await);
            }
        }
    };

    let body = token_response(context, &user, &record.session_id, now)?;
    Ok((body, successor))
}

/// A rotated token came back after the grace period: someone holds a copy
/// of it. Whoever it is, the session ends for everyone who holds it.
async fn reuse_detected(
    context: &ApiContext,
    session_id: &str,
    user_id: &str,
    now: i64,
) -> ApiError {
    match sessions::revoke(context.db.pool(), session_id, "refresh_token_reused", now).await {
        Ok(_) => {
            context
                .revoked
                .publish(&context.db, &[session_id.to_owned()])
                .await
        }
        Err(error) => return error.into(),
    }
    tracing::warn!(
        session_id,
        user_id,
        "rotated refresh token presented again; session revoked"
    );
    ApiError::unauthorized(
        "refresh_token_reused",
        "This session was signed out because its refresh token was used twice. Sign in again.",
    )
}

async fn logout(
    State(context): State<ApiContext>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<(CookieJar, StatusCode), ApiError> {
    ensure_allowed_origin(&headers, &context.settings)?;
    if let Some(token) = cookies::refresh_token(&jar) {
        let pool = context.db.pool();
        if let Some(record) = sessions::find_refresh_token(pool, &tokens::hash(&token)).await? {
            if sessions::revoke(pool, &record.session_id, "logout", unix_now()).await? {
                context
                    .revoked
                    .publish(&context.db, &[record.session_id])
                    .await;
            }
        }
    }
    Ok((cookies::without_refresh_token(jar), StatusCode::NO_CONTENT))
}

async fn logout_all(
    State(context): State<ApiContext>,
    caller: AuthUser,
    jar: CookieJar,
) -> Result<(CookieJar, StatusCode), ApiError> {
    let revoked =
        sessions::revoke_all_of_user(context.db.pool(), &caller.user_id, "logout_all", unix_now())
            .await?;
    context.revoked.publish(&context.db, &revoked).await;
    tracing::info!(
        user_id = caller.user_id,
        sessions = revoked.len(),
        "signed out everywhere"
    );
    Ok((cookies::without_refresh_token(jar), StatusCode::NO_CONTENT))
}

fn token_response(
    context: &ApiContext,
    user: &UserRow,
    session_id: &str,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let access_token =
        context
            .access_tokens
            .issue(&user.id, session_id, user.role().as_str(), now)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: context.access_tokens.ttl().as_secs(),
        user: user.to_api(),
    })
}

fn verification_link(context: &ApiContext, token: &str) -> String {
    let mut url = context.settings.page_url(paths::pages::VERIFY_EMAIL);
    url.query_pairs_mut().append_pair("token", token);
    url.into()
}

/// Tokens must not be kept by caches along the way.
fn no_store(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
